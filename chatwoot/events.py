"""Typed Chatwoot events: the only shapes the core sees of webhooks, cable frames and catch-up.

`chatwoot.parsing` builds them from raw payloads; nothing outside `chatwoot/` sees the JSON.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from chatwoot.fields import (
    Attachment,
    ConversationStatus,
    MessageType,
    SenderType,
)

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventSource(StrEnum):
    """Name the channel an event arrived through."""

    WEBHOOK = "webhook"
    CABLE = "cable"
    CATCHUP = "catchup"


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
    content_attributes: Mapping[str, Any] = field(default_factory=dict)
    # Chatwoot's time of this version of the message (its own clock): the cable's
    # `updated_at`, or a signed webhook's timestamp; None when the source says nothing.
    updated_at: datetime | None = None
    # The inbox's name, which webhooks carry (`inbox.name`); the cable and Client API do not.
    inbox_name: str | None = None

    @property
    def author_name(self) -> str | None:
        """Return who wrote it: the sender, or for a template (sent by the inbox) the inbox."""
        if self.sender_name:
            return self.sender_name
        return self.inbox_name if self.message_type is MessageType.TEMPLATE else None

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


@dataclass(frozen=True, slots=True, kw_only=True)
class TypingChanged:
    """An agent started or stopped typing a reply the contact would see (never a note).

    Typing carries no time of its own, so ``occurred_at`` is when we heard it.
    """

    conversation_id: int
    inbox_id: int | None
    typing: bool
    agent_name: str | None
    occurred_at: datetime
    source: EventSource

    @property
    def dedupe_key(self) -> str:
        """Return (conversation, kind, new value, time heard) as a key."""
        state = "on" if self.typing else "off"
        return f"conversation:{self.conversation_id}:typing:{state}:{_millis(self.occurred_at)}"


ChatwootEvent = (
    MessageEvent
    | StatusChanged
    | AssigneeChanged
    | ConversationUpdated
    | ConversationCreated
    | TypingChanged
)
