"""Serve a ticket's files to its owner: bytes fetched from Chatwoot, streamed, never sniffed."""

from __future__ import annotations

import logging
from urllib.parse import quote

import httpx
from aiohttp import web

from tickets import keys
from tickets.attachments import INLINE_TYPES, StoredFile, owned_file, signed_ok
from web import sessions
from web.http import MAX_ID

log = logging.getLogger(__name__)
FETCH_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Our answer is a file, never a page: nothing in it may run, even opened directly.
FILE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def setup_attachments(app: web.Application) -> None:
    """Register the file routes (the full file and an image's thumbnail)."""
    base = r"/tickets/{id:\d{1,20}}/attachments/{attachment:\d{1,20}}"
    app.router.add_get(base, serve_file)
    app.router.add_get(base + "/thumb", serve_thumb)


async def serve_file(request: web.Request) -> web.StreamResponse:
    """Stream a file of the user's own ticket (404 for anyone else)."""
    return await _serve(request, thumb=False)


async def serve_thumb(request: web.Request) -> web.StreamResponse:
    """Stream an image's thumbnail (the image itself when Chatwoot has none)."""
    return await _serve(request, thumb=True)


async def _serve(request: web.Request, *, thumb: bool) -> web.StreamResponse:
    ticket_id = int(request.match_info["id"])
    attachment_id = int(request.match_info["attachment"])
    if ticket_id > MAX_ID or attachment_id > MAX_ID:
        raise web.HTTPNotFound()
    allowed, owner = _access(request, ticket_id, attachment_id)
    found: StoredFile | None = None
    if allowed:
        async with request.app[keys.SESSIONMAKER]() as session:
            found = await owned_file(session, owner, ticket_id, attachment_id)
    if found is None:
        raise web.HTTPNotFound()
    source = (found.thumb_url or found.data_url) if thumb else found.data_url
    if urlsplit_scheme(source) not in {"http", "https"}:
        raise web.HTTPNotFound()
    return await _stream(request, found, source)


def _access(request: web.Request, ticket_id: int, attachment_id: int) -> tuple[bool, int | None]:
    """Return whether to look at all, and whose ticket it must be (None: a valid signed link)."""
    query = request.query
    if "sig" in query:
        secret = request.app[keys.SETTINGS].SECRET_KEY.get_secret_value()
        valid = signed_ok(
            secret, ticket_id, attachment_id, query.get("expires", ""), query.get("sig", "")
        )
        return valid, None
    user = sessions.current_user(request)
    return (True, user.id) if user is not None else (False, None)


def urlsplit_scheme(url: str) -> str:
    """Return a URL's scheme in lower case."""
    return url.split(":", 1)[0].lower() if ":" in url else ""


async def _stream(request: web.Request, found: StoredFile, source: str) -> web.StreamResponse:
    limit = request.app[keys.SETTINGS].ATTACHMENT_MAX_BYTES
    http = request.app[keys.HTTP]
    try:
        async with http.stream(
            "GET", source, follow_redirects=True, timeout=FETCH_TIMEOUT
        ) as upstream:
            if upstream.status_code != 200:
                log.warning("attachment %s: Chatwoot answered %s", found.id, upstream.status_code)
                raise web.HTTPNotFound() if upstream.status_code == 404 else web.HTTPBadGateway()
            declared = upstream.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise web.HTTPBadGateway(text="file too large")
            response = web.StreamResponse(headers=_headers(found))
            if declared.isdigit():
                response.content_length = int(declared)
            await response.prepare(request)
            sent = 0
            async for chunk in upstream.aiter_bytes(64 * 1024):
                sent += len(chunk)
                if sent > limit:
                    # Headers are gone: cutting the connection is the only honest signal left.
                    log.warning("attachment %s: larger than %s bytes, cut", found.id, limit)
                    if request.transport is not None:
                        request.transport.close()
                    return response
                await response.write(chunk)
            await response.write_eof()
            return response
    except httpx.HTTPError as exc:
        log.warning("attachment %s: fetch failed: %s", found.id, type(exc).__name__)
        raise web.HTTPBadGateway() from exc


def _headers(found: StoredFile) -> dict[str, str]:
    """Return the answer's headers: a safe type, a safe name, no sniffing, no script."""
    declared = found.content_type.split(";", 1)[0].strip().lower()
    inline = declared in INLINE_TYPES
    kind = declared if inline else "application/octet-stream"
    ascii_name = "".join(
        ch if (ch.isascii() and ch.isalnum()) or ch in "._- " else "_" for ch in found.name
    )
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Type": kind,
        "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(found.name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Cache-Control": "private, max-age=300",
    }
