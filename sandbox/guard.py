"""Keep the console and control API local, and keep identifiers out of the access log."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Agents attach files through these routes; everything else under /sandbox/api is JSON only.
_MULTIPART_PATHS = re.compile(r"^/sandbox/api/conversations/[^/]+/messages(?:/[^/]+)?$")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Path segments that are credentials or personal identifiers in Chatwoot's URLs.
_SECRET_SEGMENTS = re.compile(
    r"(/(?:inboxes|contacts|csat_survey|blobs|redirect)/)[^/?#]+", re.IGNORECASE
)


def hostname(netloc: str) -> str:
    """Return the host part of ``host[:port]`` (IPv6 brackets removed), lower-cased."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer the console and control API only to this machine, and take JSON only."""
    if not (request.path == "/sandbox" or request.path.startswith("/sandbox/")):
        return await handler(request)
    # A loopback Host defeats DNS rebinding; a foreign Origin is a cross-site request.
    if hostname(request.host) not in LOOPBACK_HOSTS:
        return _refuse(403, "the sandbox console answers on a loopback host only")
    origin = request.headers.get("Origin")
    if origin is not None and hostname(urlsplit(origin).netloc) not in LOOPBACK_HOSTS:
        return _refuse(403, "cross-site requests to the sandbox are refused")
    # An empty body needs no type (clients label it differently); a cross-site one has Origin.
    if request.method not in _SAFE_METHODS and request.can_read_body:
        kind = request.content_type
        allowed = kind == "application/json" or (
            kind == "multipart/form-data" and _MULTIPART_PATHS.match(request.path) is not None
        )
        if not allowed:
            return _refuse(415, "the control API takes application/json")
    return await handler(request)


def redact(text: str) -> str:
    """Replace inbox identifiers, source ids and tokens in a path or URL by ``[redacted]``."""
    base, _, query = text.partition("?")
    cleaned = _SECRET_SEGMENTS.sub(r"\1[redacted]", base)
    return cleaned + ("?[redacted]" if query else "")


class RedactingAccessLogger(AbstractAccessLogger):
    """Log method, redacted path, status and time; never an identifier or a query string."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one access line."""
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            redact(request.path_qs),
            response.status,
            time * 1000,
        )
