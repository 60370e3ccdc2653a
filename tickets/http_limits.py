"""Deadlines for slow clients: headers within one bound, the whole body within another.

aiohttp waits for a request's headers as long as its keep-alive timeout (from the moment the
connection opens, however slowly bytes trickle in), and for a body as long as the client keeps
the connection; a few hundred half-sent requests would otherwise hold sockets and handlers.
"""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.typedefs import Handler

from tickets import keys
from tickets.settings import Settings


def runner_options(settings: Settings) -> dict[str, Any]:
    """Return the AppRunner options that bound how long a request may take to arrive."""
    return {"keepalive_timeout": settings.HTTP_HEADER_TIMEOUT}


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read the whole body within HTTP_BODY_TIMEOUT before any handler sees the request."""
    if not request.body_exists:
        return await handler(request)
    limit = request.app[keys.SETTINGS].HTTP_BODY_TIMEOUT
    if request.content_type.startswith("multipart/"):
        # aiohttp parses multipart from the stream, never from read() bytes: bound the whole
        # handler instead (our forms are small, so their handlers are quick).
        try:
            async with asyncio.timeout(limit):
                return await handler(request)
        except TimeoutError:
            _timed_out(request)
    try:
        # Handlers then read the cached bytes (request.read/post/json) without waiting.
        async with asyncio.timeout(limit):
            await request.read()
    except TimeoutError:
        _timed_out(request)
    return await handler(request)


def _timed_out(request: web.Request) -> NoReturn:
    if request.transport is not None:
        request.transport.close()
    raise web.HTTPRequestTimeout(headers={"Connection": "close"}) from None
