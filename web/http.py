"""Small request helpers shared by the pages, the API and the socket."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from tickets import keys

MAX_JSON = 256 * 1024
MAX_ID = 2**63 - 1


def site_origin(request: web.Request) -> str:
    """Return this site's origin: PUBLIC_URL's, else the one the request came to."""
    public = request.app[keys.SETTINGS].PUBLIC_URL
    if public:
        parts = urlsplit(public)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.scheme}://{request.host}"


def safe_next(value: object, default: str = "/") -> str:
    """Accept only a local path as the place to go after signing in (no open redirect)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 32 for ch in value) or len(value) > 500:
        return default
    return value


def field(form: MultiDictProxy[Any] | Mapping[str, Any], name: str, limit: int = 20000) -> str:
    """Read a text field of a posted form ('' when absent or a file), capped in length."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def redirect(location: str) -> web.Response:
    """Answer 303 See Other, the redirect after a POST."""
    return web.Response(status=303, headers={"Location": location})


def path_id(request: web.Request) -> int:
    """Read the numeric `{id}` of the route; 404 for numbers no ticket can have."""
    value = int(request.match_info["id"])
    if value < 1 or value > MAX_ID:
        raise web.HTTPNotFound()
    return value


class BadJson(Exception):
    """The body is not a JSON object."""


async def read_body(request: web.Request, limit: int) -> bytes:
    """Return the whole body (read within the body deadline by a middleware); 413 past `limit`."""
    raw = await request.read()
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    return raw


async def read_json(request: web.Request) -> dict[str, Any]:
    """Read a JSON object body; 413 past the limit, BadJson when it is not an object."""
    if request.content_length is not None and request.content_length > MAX_JSON:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_JSON, actual_size=request.content_length)
    raw = await read_body(request, MAX_JSON)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadJson(str(exc)) from exc
    if not isinstance(body, dict):
        raise BadJson("expected a JSON object")
    return body
