"""Attachments as Chatwoot shows them: file types, signed Active Storage URLs, upload parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiMapping

from sandbox.state import Attachment, SandboxState

# Chatwoot's own cap (``Message::NUMBER_OF_PERMITTED_ATTACHMENTS``).
MAX_ATTACHMENTS = 15
# Biggest request body the sandbox reads; an API inbox has no per-file cap in Chatwoot.
MAX_BODY_BYTES = 64 * 1024 * 1024

# ``app/helpers/file_type_helper.rb``: these exact MIME types are images / videos.
_IMAGE_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/gif", "image/bmp", "image/webp"}
_VIDEO_TYPES = {"video/ogg", "video/mp4", "video/webm", "video/quicktime"}
# Active Storage serves these inline; everything else downloads (``content_types_allowed_inline``).
INLINE_TYPES = _IMAGE_TYPES | {"image/tiff", "image/vnd.microsoft.icon", "application/pdf"}
# A fixed signing key keeps the URLs valid across restarts once the state is durable.
_SIGNING_KEY = b"chatwoot-sandbox-active-storage"


@dataclass
class Upload:
    """One uploaded file, before it becomes an attachment."""

    filename: str
    content_type: str
    data: bytes


def file_type(content_type: str) -> str:
    """Classify a MIME type as Chatwoot's ``file_type`` does."""
    lowered = content_type.lower()
    if lowered in _IMAGE_TYPES:
        return "image"
    if lowered in _VIDEO_TYPES:
        return "video"
    if "audio/" in lowered:
        return "audio"
    return "file"


def sign(data: Any, purpose: str) -> str:
    """Sign a value like Rails' ``MessageVerifier`` (base64 JSON, ``--``, HMAC-SHA1 hex)."""
    payload = json.dumps({"_rails": {"data": data, "pur": purpose}}, separators=(",", ":"))
    encoded = base64.b64encode(payload.encode()).decode()
    digest = hmac.new(_SIGNING_KEY, encoded.encode(), hashlib.sha1).hexdigest()
    return f"{encoded}--{digest}"


def verify(signed: str, purpose: str) -> Any:
    """Return the signed value, or None when the signature or purpose does not match."""
    encoded, _, digest = signed.rpartition("--")
    expected = hmac.new(_SIGNING_KEY, encoded.encode(), hashlib.sha1).hexdigest()
    if not encoded or not hmac.compare_digest(digest, expected):
        return None
    try:
        rails = json.loads(base64.b64decode(encoded))["_rails"]
    except (ValueError, KeyError, TypeError):
        return None
    return rails.get("data") if rails.get("pur") == purpose else None


def _variation(att: Attachment) -> str:
    fmt = att.extension or "png"
    return sign({"format": fmt, "resize_to_fill": [250, None]}, "variation")


def data_url(state: SandboxState, att: Attachment, *, inline: bool = False) -> str:
    """Return the blob redirect URL (``rails_blob_url``) of an attachment."""
    url = (
        f"{state.frontend_url}/rails/active_storage/blobs/redirect/"
        f"{sign(att.id, 'blob_id')}/{quote(att.filename)}"
    )
    return url + "?disposition=inline" if inline else url


def thumb_url(state: SandboxState, att: Attachment) -> str:
    """Return the 250 px representation URL of an image, or ``''`` for anything else."""
    if att.file_type != "image":
        return ""
    return (
        f"{state.frontend_url}/rails/active_storage/representations/redirect/"
        f"{sign(att.id, 'blob_id')}/{_variation(att)}/{quote(att.filename)}"
    )


def attachment_push(state: SandboxState, att: Attachment) -> dict[str, Any]:
    """Return ``Attachment#push_event_data`` for an uploaded file (webhook, cable, Client API)."""
    out: dict[str, Any] = {
        "id": att.id,
        "message_id": att.message_id,
        "file_type": att.file_type,
        "account_id": state.config.account_id,
        "extension": att.extension,
        "content_type": att.content_type,
        "data_url": data_url(state, att),
        "thumb_url": thumb_url(state, att),
        "file_size": att.file_size,
        # Null until Active Storage's analysis job has run, as right after an upload.
        "width": None,
        "height": None,
    }
    if att.file_type == "audio":
        # Audio plays inline and carries its (here empty) transcription.
        out["data_url"] = data_url(state, att, inline=True)
        out["transcribed_text"] = ""
    return out


def uploads_from_form(form: MultiMapping[Any], *names: str) -> list[Upload]:
    """Collect the file parts named ``names`` from a parsed multipart body."""
    uploads: list[Upload] = []
    for name in names:
        for part in form.getall(name, []):
            if isinstance(part, web.FileField):
                data = part.file.read()
                kind = part.content_type or "application/octet-stream"
                uploads.append(Upload(part.filename or "file", kind, data))
    return uploads
