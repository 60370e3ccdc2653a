"""Typed Chatwoot events: the only shapes the core sees of webhooks, cable frames and catch-up.

Webhooks and cable frames carry the same events under two spellings (``message_created`` and
``message.created``) and two encodings (strings vs integers for ``message_type``, ISO vs unix
times). :func:`parse_event` is the one place where both become typed events and where unknown
kinds are logged and dropped.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from chatwoot.client import Message

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventSource(StrEnum):
    """Name the channel an event arrived through."""

    WEBHOOK = "webhook"
    CABLE = "cable"
    CATCHUP = "catchup"


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


def _millis(moment: datetime) -> int:
    # Integer arithmetic so the same Chatwoot timestamp always gives the same key.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent:
    """A message was created or updated in a conversation."""

    kind: Literal["created", "updated"]
    message_id: int
    conversation_id: int
    inbox_id: int | None
    message_type: MessageType
    private: bool
    content: str | None
    content_type: str
    sender_name: str | None
    sender_type: SenderType | None
    sender_id: int | None
    echo_id: str | None
    created_at: datetime
    source: EventSource
    attachments: tuple[Attachment, ...] = ()
    source_id: str | None = None
    deleted: bool = False

    @property
    def dedupe_key(self) -> str:
        """Return the idempotency key: the message id, plus a state digest for updates."""
        if self.kind == "created":
            return f"message:{self.message_id}"
        state = f"{self.deleted}|{len(self.attachments)}|{self.content or ''}"
        digest = hashlib.sha256(state.encode()).hexdigest()[:16]
        return f"message:{self.message_id}:updated:{digest}"

    @property
    def shown_to_requester(self) -> bool:
        """Tell whether an employee may ever see this message (no notes, no activity)."""
        return not self.private and self.message_type is not MessageType.ACTIVITY


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged:
    """A conversation's status changed (``previous_status`` when the source says)."""

    conversation_id: int
    inbox_id: int | None
    status: ConversationStatus
    occurred_at: datetime
    source: EventSource
    previous_status: ConversationStatus | None = None

    @property
    def dedupe_key(self) -> str:
        """Return (conversation, kind, new value, Chatwoot timestamp) as a key."""
        return (
            f"conversation:{self.conversation_id}:status:{self.status}:{_millis(self.occurred_at)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AssigneeChanged:
    """A conversation's assignee is now this agent (or nobody).

    From the cable this is a snapshot of the current assignee (cable frames carry no change
    list), so the core applies it only when it differs from what it already holds.
    """

    conversation_id: int
    inbox_id: int | None
    assignee_name: str | None
    assignee_id: int | None
    occurred_at: datetime
    source: EventSource

    @property
    def dedupe_key(self) -> str:
        """Return (conversation, kind, new value, Chatwoot timestamp) as a key."""
        who = "none" if self.assignee_id is None else str(self.assignee_id)
        return f"conversation:{self.conversation_id}:assignee:{who}:{_millis(self.occurred_at)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationUpdated:
    """Other conversation attributes changed (labels, custom attributes, priority...)."""

    conversation_id: int
    inbox_id: int | None
    changed: tuple[str, ...]
    occurred_at: datetime
    source: EventSource

    @property
    def dedupe_key(self) -> str:
        """Return (conversation, kind, changed names, Chatwoot timestamp) as a key."""
        names = ",".join(self.changed)
        return f"conversation:{self.conversation_id}:updated:{names}:{_millis(self.occurred_at)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationCreated:
    """A conversation was created (``source_id`` is the contact's, when present)."""

    conversation_id: int
    inbox_id: int | None
    status: ConversationStatus | None
    source_id: str | None
    occurred_at: datetime
    source: EventSource

    @property
    def dedupe_key(self) -> str:
        """Return the key: a conversation is created once."""
        return f"conversation:{self.conversation_id}:created"


ChatwootEvent = (
    MessageEvent | StatusChanged | AssigneeChanged | ConversationUpdated | ConversationCreated
)
_Builder = Callable[[Mapping[str, Any], EventSource], list[ChatwootEvent]]


# ---- tolerant field readers (shared with the client) ----------------------------------------


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


# ---- event builders -------------------------------------------------------------------------


class _Malformed(ValueError):
    """Raised inside a builder when a required field is missing."""


def _required_int(value: Any, name: str) -> int:
    number = as_int(value)
    if number is None:
        raise _Malformed(f"{name} missing")
    return number


def _message(kind: Literal["created", "updated"]) -> _Builder:
    def build(data: Mapping[str, Any], source: EventSource) -> list[ChatwootEvent]:
        conversation = as_map(data.get("conversation"))
        message_type = parse_message_type(data.get("message_type"))
        if message_type is None:
            raise _Malformed(f"message_type {data.get('message_type')!r}")
        # Push data (cable) has conversation_id = display id; webhooks nest the conversation.
        conversation_id = as_int(data.get("conversation_id")) or as_int(conversation.get("id"))
        inbox_id = (
            as_int(as_map(data.get("inbox")).get("id"))
            or as_int(data.get("inbox_id"))
            or as_int(conversation.get("inbox_id"))
        )
        name, sender_type, sender_id = parse_sender(data.get("sender"), data.get("sender_type"))
        created_at = parse_time(data.get("created_at"))
        if created_at is None:
            raise _Malformed("created_at missing")
        event = MessageEvent(
            kind=kind,
            message_id=_required_int(data.get("id"), "id"),
            conversation_id=_required_int(conversation_id, "conversation id"),
            inbox_id=inbox_id,
            message_type=message_type,
            private=data.get("private") is True,
            content=as_str(data.get("content")),
            content_type=as_str(data.get("content_type")) or "text",
            sender_name=name,
            sender_type=sender_type,
            sender_id=sender_id,
            echo_id=as_str(data.get("echo_id")),
            created_at=created_at,
            source=source,
            attachments=parse_attachments(data.get("attachments")),
            source_id=as_str(as_map(conversation.get("contact_inbox")).get("source_id")),
            deleted=as_map(data.get("content_attributes")).get("deleted") is True,
        )
        return [event]

    return build


def _conversation_head(data: Mapping[str, Any]) -> tuple[int, int | None, datetime]:
    conversation_id = _required_int(data.get("id"), "id")
    inbox_id = as_int(data.get("inbox_id"))
    occurred_at = (
        parse_time(data.get("updated_at"))
        or parse_time(data.get("timestamp"))
        or parse_time(data.get("created_at"))
    )
    if occurred_at is None:
        raise _Malformed("no timestamp")
    return conversation_id, inbox_id, occurred_at


def _conversation_created(data: Mapping[str, Any], source: EventSource) -> list[ChatwootEvent]:
    conversation_id, inbox_id, updated_at = _conversation_head(data)
    return [
        ConversationCreated(
            conversation_id=conversation_id,
            inbox_id=inbox_id,
            status=parse_status(data.get("status")),
            source_id=as_str(as_map(data.get("contact_inbox")).get("source_id")),
            occurred_at=parse_time(data.get("created_at")) or updated_at,
            source=source,
        )
    ]


def _status_changed(data: Mapping[str, Any], source: EventSource) -> list[ChatwootEvent]:
    conversation_id, inbox_id, occurred_at = _conversation_head(data)
    status = parse_status(data.get("status"))
    if status is None:
        raise _Malformed(f"status {data.get('status')!r}")
    return [
        StatusChanged(
            conversation_id=conversation_id,
            inbox_id=inbox_id,
            status=status,
            occurred_at=occurred_at,
            source=source,
        )
    ]


def _assignee(data: Mapping[str, Any], source: EventSource) -> AssigneeChanged:
    conversation_id, inbox_id, occurred_at = _conversation_head(data)
    assignee = (
        data.get("meta", {}).get("assignee") if isinstance(data.get("meta"), Mapping) else None
    )
    name, _kind, assignee_id = parse_sender(assignee)
    return AssigneeChanged(
        conversation_id=conversation_id,
        inbox_id=inbox_id,
        assignee_name=name,
        assignee_id=assignee_id,
        occurred_at=occurred_at,
        source=source,
    )


_ASSIGNEE_KEYS = frozenset({"assignee_id", "assignee_agent_bot_id"})
# Bumped by every save; never a change worth telling anyone about.
_NOISE_KEYS = frozenset({"updated_at"})


def _conversation_updated(data: Mapping[str, Any], source: EventSource) -> list[ChatwootEvent]:
    changes = data.get("changed_attributes")
    if not isinstance(changes, Sequence) or isinstance(changes, str):
        # Cable frames (and odd webhooks) carry no change list: report the current assignee,
        # which is the one thing a contact learns only from this event.
        return [_assignee(data, source)]
    changed: dict[str, Mapping[str, Any]] = {}
    for entry in changes:
        if isinstance(entry, Mapping):
            for name, values in entry.items():
                changed[str(name)] = as_map(values)
    events: list[ChatwootEvent] = []
    if "status" in changed:
        conversation_id, inbox_id, occurred_at = _conversation_head(data)
        status = parse_status(changed["status"].get("current_value")) or parse_status(
            data.get("status")
        )
        if status is not None:
            events.append(
                StatusChanged(
                    conversation_id=conversation_id,
                    inbox_id=inbox_id,
                    status=status,
                    occurred_at=occurred_at,
                    source=source,
                    previous_status=parse_status(changed["status"].get("previous_value")),
                )
            )
    if _ASSIGNEE_KEYS & changed.keys():
        events.append(_assignee(data, source))
    others = tuple(
        name for name in changed if name not in _NOISE_KEYS | _ASSIGNEE_KEYS | {"status"}
    )
    if others:
        conversation_id, inbox_id, occurred_at = _conversation_head(data)
        events.append(
            ConversationUpdated(
                conversation_id=conversation_id,
                inbox_id=inbox_id,
                changed=others,
                occurred_at=occurred_at,
                source=source,
            )
        )
    return events


_BUILDERS: dict[str, _Builder] = {
    "message_created": _message("created"),
    "message_updated": _message("updated"),
    "conversation_created": _conversation_created,
    "conversation_status_changed": _status_changed,
    "conversation_updated": _conversation_updated,
    # Agent-only on the cable, but if it ever reaches us it is an assignee snapshot.
    "assignee_changed": lambda data, source: [_assignee(data, source)],
}

# Known kinds the core has no use for: dropped quietly.
_IGNORED = frozenset(
    {
        "contact_created",
        "contact_updated",
        "contact_merged",
        "contact_deleted",
        "conversation_typing_on",
        "conversation_typing_off",
        "conversation_read",
        "conversation_contact_changed",
        "conversation_opened",
        "conversation_resolved",
        "conversation_mentioned",
        "conversation_unread_count_changed",
        "presence_update",
        "webwidget_triggered",
        "inbox_created",
        "inbox_updated",
        "team_changed",
        "first_reply_created",
    }
)


def parse_event(kind: str, data: Mapping[str, Any], *, source: EventSource) -> list[ChatwootEvent]:
    """Turn one raw Chatwoot event (webhook or cable spelling) into typed events.

    Unknown kinds and malformed payloads are logged and dropped here, and only here.
    """
    name = kind.replace(".", "_")
    builder = _BUILDERS.get(name)
    if builder is None:
        if name in _IGNORED:
            log.debug("ignoring chatwoot %s event %s", source, kind)
        else:
            log.info("dropping unknown chatwoot %s event %r", source, kind)
        return []
    try:
        return builder(data, source)
    except (_Malformed, TypeError, AttributeError) as exc:
        log.warning("dropping malformed chatwoot %s event %s: %s", source, kind, exc)
        return []


def message_event_from_api(
    message: Message, *, inbox_id: int | None = None, source_id: str | None = None
) -> MessageEvent:
    """Turn a Client API message (catch-up read) into a ``created`` message event.

    The Client API never lists private notes or activity messages and carries no echo id.
    """
    return MessageEvent(
        kind="created",
        message_id=message.id,
        conversation_id=message.conversation_id,
        inbox_id=inbox_id,
        message_type=message.message_type,
        private=False,
        content=message.content,
        content_type=message.content_type,
        sender_name=message.sender_name,
        sender_type=message.sender_type,
        sender_id=message.sender_id,
        echo_id=None,
        created_at=message.created_at,
        source=EventSource.CATCHUP,
        attachments=message.attachments,
        source_id=source_id,
        deleted=message.deleted,
    )
