"""The Active Storage routes that serve attachment bytes behind signed redirects."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from sandbox.attachments import INLINE_TYPES, sign, verify
from sandbox.keys import DESK
from sandbox.state import Attachment


def _blob_attachment(request: web.Request) -> Attachment:
    state = request.app[DESK].state
    att_id = verify(request.match_info["signed_id"], "blob_id")
    att = state.attachments.get(att_id) if isinstance(att_id, int) else None
    if att is None or att.key not in state.blobs:
        raise web.HTTPNotFound(text="Not Found")
    return att


async def blob_redirect(request: web.Request) -> web.Response:
    """Redirect a signed blob URL to the bytes, as Active Storage's redirect controller does."""
    att = _blob_attachment(request)
    inline = request.query.get("disposition") == "inline"
    target = (
        f"/rails/active_storage/disk/{sign({'key': att.key, 'inline': inline}, 'blob_key')}"
        f"/{quote(att.filename)}"
    )
    raise web.HTTPFound(target)


async def representation_redirect(request: web.Request) -> web.Response:
    """Redirect a representation URL to the image (the sandbox does not resize)."""
    att = _blob_attachment(request)
    if verify(request.match_info["variation"], "variation") is None:
        raise web.HTTPNotFound(text="Not Found")
    signed = sign({"key": att.key, "inline": True}, "blob_key")
    raise web.HTTPFound(f"/rails/active_storage/disk/{signed}/{quote(att.filename)}")


async def disk(request: web.Request) -> web.Response:
    """Serve a blob's bytes with its content type and disposition."""
    state = request.app[DESK].state
    data = verify(request.match_info["signed_key"], "blob_key")
    key = data.get("key") if isinstance(data, dict) else None
    att = next((a for a in state.attachments.values() if a.key == key), None)
    if att is None or key not in state.blobs:
        raise web.HTTPNotFound(text="Not Found")
    inline = bool(data.get("inline")) or att.content_type in INLINE_TYPES
    kind = "inline" if inline else "attachment"
    safe = att.filename.replace('"', "%22")
    disposition = f"{kind}; filename=\"{safe}\"; filename*=UTF-8''{quote(att.filename)}"
    return web.Response(
        body=state.blobs[key],
        content_type=att.content_type,
        headers={"Content-Disposition": disposition},
    )


def add_routes(app: web.Application) -> None:
    """Register the Active Storage routes that serve attachment bytes."""
    base = "/rails/active_storage"
    app.router.add_get(base + "/blobs/redirect/{signed_id}/{filename}", blob_redirect)
    app.router.add_get(
        base + "/representations/redirect/{signed_id}/{variation}/{filename}",
        representation_redirect,
    )
    app.router.add_get(base + "/disk/{signed_key}/{filename}", disk)
