"""Raw Chatwoot events (webhook or cable spelling) and Client API reads, turned into typed events.

Webhooks and cable frames carry the same events under two spellings (``message_created`` and
``message.created``) and two encodings (strings vs integers for ``message_type``, ISO vs unix
times). :func:`parse_event` is the one place where both become typed events and where unknown
kinds are logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from chatwoot.events import (
    AssigneeChanged,
    ChatwootEvent,
    ConversationCreated,
    ConversationUpdated,
    EventSource,
    MessageEvent,
    StatusChanged,
    TypingChanged,
)
from chatwoot.fields import (
    SenderType,
    as_int,
    as_map,
    as_str,
    normalise_content,
    parse_attachments,
    parse_message_type,
    parse_sender,
    parse_status,
    parse_time,
)
from chatwoot.models import Assignee, Conversation, Message

log = logging.getLogger(__name__)

_Builder = Callable[[Mapping[str, Any], EventSource], list[ChatwootEvent]]


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
            content=normalise_content(as_str(data.get("content"))),
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
            content_attributes=dict(as_map(data.get("content_attributes"))),
            updated_at=parse_time(data.get("updated_at")),
            inbox_name=as_str(as_map(data.get("inbox")).get("name")),
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
        # The payload is a snapshot taken when Chatwoot's job ran: pair its `updated_at` with
        # its own `status`, never with the event-time `current_value` (a resolve then a quick
        # reopen would otherwise leave the ticket resolved and send a false "resolved" line).
        status = parse_status(data.get("status")) or parse_status(
            changed["status"].get("current_value")
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


def _typing(on: bool) -> _Builder:
    def build(data: Mapping[str, Any], source: EventSource) -> list[ChatwootEvent]:
        # An agent typing a private note: the contact never learns of it.
        if str(data.get("is_private")).lower() in ("true", "1"):
            return []
        user = data.get("user")
        name, kind, _id = parse_sender(user)
        if kind not in (SenderType.USER, SenderType.AGENT_BOT):
            return []  # the contact's own typing (webhooks relay it); not news to them
        display = as_str(as_map(user).get("available_name")) or name
        conversation = as_map(data.get("conversation"))
        return [
            TypingChanged(
                conversation_id=_required_int(conversation.get("id"), "conversation.id"),
                inbox_id=as_int(conversation.get("inbox_id")),
                typing=on,
                agent_name=display,
                occurred_at=datetime.now(UTC),
                source=source,
            )
        ]

    return build


_BUILDERS: dict[str, _Builder] = {
    "conversation_typing_on": _typing(True),
    "conversation_typing_off": _typing(False),
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
    message: Message,
    *,
    inbox_id: int | None = None,
    source_id: str | None = None,
    kind: Literal["created", "updated"] = "created",
) -> MessageEvent:
    """Turn a Client API message (catch-up read) into a message event (``created`` unless told).

    The Client API never lists private notes or activity messages and carries no echo id.
    """
    return MessageEvent(
        kind=kind,
        message_id=message.id,
        conversation_id=message.conversation_id,
        inbox_id=inbox_id,
        message_type=message.message_type,
        private=False,
        content=normalise_content(message.content),
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
        content_attributes=message.content_attributes,
    )


def state_from_api(
    conversation: Conversation, assignee: Assignee | None, observed: datetime
) -> list[ChatwootEvent]:
    """Turn a catch-up read of a conversation (and its assignee, if read) into events.

    Dated by our clock at the read: the Client API gives no time of the state it shows.
    """
    events: list[ChatwootEvent] = []
    if conversation.status is not None:
        events.append(
            StatusChanged(
                conversation_id=conversation.id,
                inbox_id=conversation.inbox_id,
                status=conversation.status,
                occurred_at=observed,
                source=EventSource.CATCHUP,
            )
        )
    if assignee is not None:
        events.append(
            AssigneeChanged(
                conversation_id=conversation.id,
                inbox_id=conversation.inbox_id,
                assignee_name=assignee.name,
                assignee_id=assignee.id,
                occurred_at=observed,
                source=EventSource.CATCHUP,
            )
        )
    return events
