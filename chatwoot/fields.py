"""Chatwoot's field vocabulary: its enums and the tolerant readers of its JSON fields.

Shared by the typed events (webhooks, cable frames) and the Client API's parsed models, so both
read a field the same way; it imports nothing else of the package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class MessageType(StrEnum):
    """Name who a message is from, as Chatwoot classifies it."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"
    ACTIVITY = "activity"
    TEMPLATE = "template"


# Cable frames and the Client API send the Rails enum integer, webhooks send the name.
_MESSAGE_TYPE_BY_INT = {
    0: MessageType.INCOMING,
    1: MessageType.OUTGOING,
    2: MessageType.ACTIVITY,
    3: MessageType.TEMPLATE,
}


class SenderType(StrEnum):
    """Name the kind of author of a message."""

    CONTACT = "contact"
    USER = "user"
    AGENT_BOT = "agent_bot"


_SENDER_TYPES = {
    "contact": SenderType.CONTACT,
    "user": SenderType.USER,
    "agent_bot": SenderType.AGENT_BOT,
    "agentbot": SenderType.AGENT_BOT,
    # Enterprise Captain replies are bot replies as far as an employee is concerned.
    "captain_assistant": SenderType.AGENT_BOT,
    "captain::assistant": SenderType.AGENT_BOT,
}


class ConversationStatus(StrEnum):
    """Name a conversation's status."""

    OPEN = "open"
    RESOLVED = "resolved"
    PENDING = "pending"
    SNOOZED = "snoozed"


@dataclass(frozen=True, slots=True)
class Attachment:
    """Describe one file attached to a message."""

    id: int | None
    file_type: str
    content_type: str | None = None
    data_url: str | None = None
    thumb_url: str | None = None
    file_size: int | None = None
    extension: str | None = None


def as_int(value: Any) -> int | None:
    """Read an integer id that may arrive as int or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_str(value: Any) -> str | None:
    """Read a string field; None for anything else."""
    return value if isinstance(value, str) else None


# The dashboard stores Markdown hard breaks (backslash + newline) and trailing newlines;
# webhooks strip them, the cable and the Client API do not (Chatwoot's content normaliser).
_HARD_BREAK = re.compile(r"\\\r?\n")
_TRAILING_NEWLINES = re.compile(r"(\r?\n)+\Z")


def normalise_content(text: str | None) -> str | None:
    """Return a message's text as webhooks carry it, whichever channel brought it."""
    if text is None or not text.strip():
        return text
    return _TRAILING_NEWLINES.sub("", _HARD_BREAK.sub("\n", text))


def as_map(value: Any) -> Mapping[str, Any]:
    """Read a nested object; an empty mapping when absent or not an object."""
    return value if isinstance(value, Mapping) else {}


def parse_time(value: Any) -> datetime | None:
    """Read a Chatwoot time: unix seconds (int/float) or ISO-8601, as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace(" UTC", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def parse_message_type(value: Any) -> MessageType | None:
    """Normalise ``message_type`` from its integer or string form."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _MESSAGE_TYPE_BY_INT.get(value)
    if isinstance(value, str):
        try:
            return MessageType(value)
        except ValueError:
            return None
    return None


def parse_status(value: Any) -> ConversationStatus | None:
    """Normalise a conversation status string; None when unknown."""
    try:
        return ConversationStatus(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_sender(
    sender: Any, sender_type_hint: Any = None
) -> tuple[str | None, SenderType | None, int | None]:
    """Return (name, type, id) of a sender object; webhook contacts carry no ``type`` key."""
    if not isinstance(sender, Mapping):
        return None, None, None
    raw_type = as_str(sender.get("type")) or as_str(sender_type_hint)
    kind = _SENDER_TYPES.get(raw_type.lower()) if raw_type else None
    if kind is None:
        # The contact webhook object lost its "type" key in 2023; a sender without one is the
        # contact as long as it looks like one.
        kind = SenderType.CONTACT if "identifier" in sender or "phone_number" in sender else None
    return as_str(sender.get("name")), kind, as_int(sender.get("id"))


def parse_attachments(value: Any) -> tuple[Attachment, ...]:
    """Read the ``attachments`` array; absent means none."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    found: list[Attachment] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        found.append(
            Attachment(
                id=as_int(item.get("id")),
                file_type=as_str(item.get("file_type")) or "file",
                content_type=as_str(item.get("content_type")),
                data_url=as_str(item.get("data_url")),
                thumb_url=as_str(item.get("thumb_url")) or None,
                file_size=as_int(item.get("file_size")),
                extension=as_str(item.get("extension")),
            )
        )
    return tuple(found)
