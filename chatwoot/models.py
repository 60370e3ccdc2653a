"""What the Client API returns, parsed: inbox, contact, message and conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chatwoot.errors import ChatwootUnavailable
from chatwoot.fields import (
    Attachment,
    ConversationStatus,
    MessageType,
    SenderType,
    as_int,
    as_map,
    as_str,
    parse_attachments,
    parse_message_type,
    parse_sender,
    parse_status,
    parse_time,
)


@dataclass(frozen=True, slots=True)
class Inbox:
    """The API-channel inbox as the Client API shows it."""

    identifier: str
    name: str | None
    timezone: str | None
    identity_validation_enabled: bool
    working_hours_enabled: bool


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact's session in the inbox; ``pubsub_token`` is absent after an update."""

    source_id: str
    id: int | None
    name: str | None
    email: str | None
    phone_number: str | None
    pubsub_token: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """A message as the Client API lists it (never private notes or activity lines)."""

    id: int
    conversation_id: int
    message_type: MessageType
    content: str | None
    content_type: str
    created_at: datetime
    sender_name: str | None
    sender_type: SenderType | None
    sender_id: int | None
    attachments: tuple[Attachment, ...] = ()
    deleted: bool = False
    content_attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as the Client API shows it (no custom attributes, no assignee)."""

    id: int
    uuid: str | None
    inbox_id: int | None
    status: ConversationStatus | None
    contact_last_seen_at: datetime | None
    agent_last_seen_at: datetime | None
    messages: tuple[Message, ...]
    contact_id: int | None

    def first_incoming(self) -> Message | None:
        """Return the contact's first message (the ticket's opening words), if it has one."""
        for message in self.messages:
            if message.message_type is MessageType.INCOMING:
                return message
        return None


@dataclass(frozen=True, slots=True)
class Assignee:
    """The agent a conversation is assigned to (Application API); both None for nobody."""

    id: int | None
    name: str | None


def parse_assignee(data: Mapping[str, Any]) -> Assignee:
    """Read ``meta.assignee`` of an Application API conversation."""
    assignee = as_map(as_map(data.get("meta")).get("assignee"))
    if not assignee:
        return Assignee(None, None)
    name, _kind, assignee_id = parse_sender(assignee)
    return Assignee(assignee_id, name)


def parse_inbox(data: Mapping[str, Any]) -> Inbox:
    """Read an inbox object."""
    return Inbox(
        identifier=as_str(data.get("identifier")) or "",
        name=as_str(data.get("name")),
        timezone=as_str(data.get("timezone")),
        identity_validation_enabled=data.get("identity_validation_enabled") is True,
        working_hours_enabled=data.get("working_hours_enabled") is True,
    )


def parse_contact(data: Mapping[str, Any], source_id: str | None = None) -> Contact:
    """Read a contact (a PATCH answer has no source_id: fall back to the one we sent)."""
    return Contact(
        source_id=as_str(data.get("source_id")) or source_id or "",
        id=as_int(data.get("id")),
        name=as_str(data.get("name")),
        email=as_str(data.get("email")),
        phone_number=as_str(data.get("phone_number")),
        pubsub_token=as_str(data.get("pubsub_token")),
    )


def parse_message(data: Mapping[str, Any], conversation_id: int | None = None) -> Message:
    """Read a message; a shape without id or type means Chatwoot answered something else."""
    message_type = parse_message_type(data.get("message_type"))
    message_id = as_int(data.get("id"))
    if message_type is None or message_id is None:
        raise ChatwootUnavailable(f"unexpected message shape from Chatwoot: {dict(data)!r:.200}")
    name, sender_type, sender_id = parse_sender(data.get("sender"), data.get("sender_type"))
    return Message(
        id=message_id,
        conversation_id=as_int(data.get("conversation_id")) or conversation_id or 0,
        message_type=message_type,
        content=as_str(data.get("content")),
        content_type=as_str(data.get("content_type")) or "text",
        created_at=parse_time(data.get("created_at")) or datetime.now(UTC),
        sender_name=name,
        sender_type=sender_type,
        sender_id=sender_id,
        attachments=parse_attachments(data.get("attachments")),
        deleted=as_map(data.get("content_attributes")).get("deleted") is True,
        content_attributes=dict(as_map(data.get("content_attributes"))),
    )


def parse_conversation(data: Mapping[str, Any]) -> Conversation:
    """Read a conversation and the messages it embeds."""
    conversation_id = as_int(data.get("id"))
    if conversation_id is None:
        raise ChatwootUnavailable("unexpected conversation shape from Chatwoot")
    raw_messages = data.get("messages")
    messages = tuple(
        parse_message(item, conversation_id)
        for item in (raw_messages if isinstance(raw_messages, list) else [])
        if isinstance(item, Mapping)
    )
    # 0 means "never" in these two fields.
    contact_seen = as_int(data.get("contact_last_seen_at"))
    agent_seen = as_int(data.get("agent_last_seen_at"))
    return Conversation(
        id=conversation_id,
        uuid=as_str(data.get("uuid")),
        inbox_id=as_int(data.get("inbox_id")),
        status=parse_status(data.get("status")),
        contact_last_seen_at=parse_time(contact_seen) if contact_seen else None,
        agent_last_seen_at=parse_time(agent_seen) if agent_seen else None,
        messages=messages,
        contact_id=as_int(as_map(data.get("contact")).get("id")),
    )
