"""Files of a ticket's messages: what is stored, what the JSON shows, where the bytes are."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, Ticket

# Types a browser may show in place; anything else is offered as a download of opaque bytes.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/mp4",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
MAX_NAME = 200


@dataclass(frozen=True)
class StoredFile:
    """One attachment as ingest keeps it: Chatwoot's id, type and URLs."""

    id: int
    name: str
    content_type: str
    size: int | None
    data_url: str
    thumb_url: str | None
    file_type: str


def stored_of(attachment: Any) -> dict[str, Any]:
    """Return the JSON ingest stores for one of Chatwoot's attachments."""
    return {
        "id": attachment.id,
        "name": name_of(attachment.data_url, attachment.extension),
        "file_type": attachment.file_type,
        "content_type": attachment.content_type,
        "data_url": attachment.data_url,
        "thumb_url": attachment.thumb_url,
        "file_size": attachment.file_size,
        "extension": attachment.extension,
    }


def name_of(url: str | None, extension: str | None) -> str:
    """Return a file's name: the last segment of its Active Storage URL."""
    segment = unquote(urlsplit(url or "").path.rsplit("/", 1)[-1])
    cleaned = "".join(ch for ch in segment if ch.isprintable() and ch not in '/\\"')
    if cleaned:
        return cleaned[:MAX_NAME]
    return f"file.{extension}" if extension else "file"


def file_of(item: dict[str, Any]) -> StoredFile | None:
    """Read one stored attachment; None when it lacks an id or URL (stored before ids)."""
    ident, url = item.get("id"), item.get("data_url")
    if not isinstance(ident, int) or not isinstance(url, str) or not url:
        return None
    size = item.get("file_size")
    return StoredFile(
        id=ident,
        name=str(item.get("name") or name_of(url, item.get("extension"))),
        content_type=str(item.get("content_type") or "application/octet-stream"),
        size=size if isinstance(size, int) else None,
        data_url=url,
        thumb_url=item.get("thumb_url") or None,
        file_type=str(item.get("file_type") or "file"),
    )


def url_of(ticket_id: int, attachment_id: int, *, thumb: bool = False) -> str:
    """Return our route for a file (the owner's session opens it)."""
    base = f"/tickets/{ticket_id}/attachments/{attachment_id}"
    return f"{base}/thumb" if thumb else base


def public(ticket_id: int, stored: list[dict[str, Any]], *, deleted: bool) -> list[dict[str, Any]]:
    """Render a message's files with the JSON API's names; a deleted message has none."""
    if deleted:
        return []
    shown = []
    for item in stored:
        found = file_of(item)
        if found is None:
            continue
        shown.append(
            {
                "id": found.id,
                "name": found.name,
                "contentType": found.content_type,
                "size": found.size,
                "url": url_of(ticket_id, found.id),
                "thumbUrl": url_of(ticket_id, found.id, thumb=True) if found.thumb_url else None,
            }
        )
    return shown


async def owned_file(
    session: AsyncSession, owner: int | None, ticket_id: int, attachment_id: int
) -> StoredFile | None:
    """Find a file of a live message of the ticket; None unless `owner` owns it.

    `owner` None is for a link already proven by its signature (it names the ticket).
    """
    query = (
        select(Message.attachments)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Message.ticket_id == ticket_id,
            Message.deleted.is_(False),
            Message.attachments.contains([{"id": attachment_id}]),
        )
    )
    if owner is not None:
        query = query.where(Ticket.requester_id == owner)
    for stored in (await session.execute(query)).scalars():
        for item in stored:
            found = file_of(item)
            if found is not None and found.id == attachment_id:
                return found
    return None


def signature(secret: str, ticket_id: int, attachment_id: int, expires: int) -> str:
    """Sign a file link for clients that carry no cookie (Teams fetching a card image)."""
    message = f"attachment:{ticket_id}:{attachment_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# A card stays in a chat for days; its images must still open then. A re-rendered card (any
# update in place) gets fresh links.
LINK_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class FileLinks:
    """Absolute, signed, expiring links to a ticket's files for clients without our cookie."""

    base_url: str
    secret: str
    ttl: int = LINK_TTL

    def url(self, ticket_id: int, attachment_id: int, *, thumb: bool = False) -> str:
        """Return a link that opens the file (or its thumbnail) until it expires."""
        # Whole hours: the same card rendered twice within the hour has the same links.
        expires = (int(time.time()) // 3600 + 1) * 3600 + self.ttl
        sig = signature(self.secret, ticket_id, attachment_id, expires)
        path = url_of(ticket_id, attachment_id, thumb=thumb)
        return f"{self.base_url.rstrip('/')}{path}?expires={expires}&sig={sig}"


def signed_ok(secret: str, ticket_id: int, attachment_id: int, expires: str, sig: str) -> bool:
    """Check a signed link: right signature and not expired."""
    if not expires.isdigit() or int(expires) < time.time():
        return False
    expected = signature(secret, ticket_id, attachment_id, int(expires))
    return hmac.compare_digest(expected, sig)


def format_size(size: int | None, locale: str | None) -> str:
    """Say a file's size for people (pt-BR writes a decimal comma): 512 B, 3,4 KB, 12 MB."""
    if size is None:
        return ""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    text = f"{value:.0f}" if unit == "B" or value >= 10 else f"{value:.1f}"
    return f"{text.replace('.', ',') if locale == 'pt-BR' else text} {unit}"
