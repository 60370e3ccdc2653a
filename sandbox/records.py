"""The records of the sandbox: inboxes, agents, teams, contacts, conversations, messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INCOMING, OUTGOING, ACTIVITY, TEMPLATE = 0, 1, 2, 3
MESSAGE_TYPE_NAMES = {
    INCOMING: "incoming",
    OUTGOING: "outgoing",
    ACTIVITY: "activity",
    TEMPLATE: "template",
}
STATUSES = ("open", "resolved", "pending", "snoozed")
PRIORITIES = ("low", "medium", "high", "urgent")
AVAILABILITIES = ("online", "busy", "offline")


@dataclass
class Inbox:
    """Hold one API-channel inbox."""

    id: int
    name: str
    identifier: str


@dataclass
class Agent:
    """Hold one agent (a Chatwoot user)."""

    id: int
    name: str
    email: str
    # The display name the widget shows; Chatwoot falls back to ``name`` when it is blank.
    display_name: str = ""
    availability: str = "online"

    @property
    def available_name(self) -> str:
        """Return the name contacts see (the display name, else the full name)."""
        return self.display_name or self.name


@dataclass
class Team:
    """Hold one team of the account."""

    id: int
    name: str


@dataclass
class Contact:
    """Hold one contact of the account."""

    id: int
    name: str
    email: str | None
    phone_number: str | None
    identifier: str | None
    custom_attributes: dict[str, Any]
    created_at: float
    updated_at: float
    last_activity_at: float | None = None
    blocked: bool = False


@dataclass
class ContactInbox:
    """Hold a contact's session in one inbox (``source_id`` + ``pubsub_token``)."""

    id: int
    contact: Contact
    inbox: Inbox
    source_id: str
    pubsub_token: str
    created_at: float
    updated_at: float
    hmac_verified: bool = False


@dataclass
class Attachment:
    """Hold one uploaded file of a message; its bytes live in ``SandboxState.blobs[key]``."""

    id: int
    message_id: int
    file_type: str
    extension: str | None
    content_type: str
    filename: str
    file_size: int
    key: str


@dataclass
class Message:
    """Hold one message of a conversation (any type, private notes included)."""

    id: int
    conversation: Conversation
    content: str | None
    message_type: int
    private: bool
    sender: Contact | Agent | None
    created_at: float
    updated_at: float
    status: str = "sent"
    echo_id: str | None = None
    content_attributes: dict[str, Any] = field(default_factory=dict)
    content_type: str = "text"
    attachments: list[Attachment] = field(default_factory=list)
    # The CSAT response record once the contact answered this survey message.
    csat_survey_response: dict[str, Any] | None = None

    @property
    def is_chat(self) -> bool:
        """Tell whether Chatwoot's ``chat`` scope (no activity, no private note) holds it."""
        return self.message_type != ACTIVITY and not self.private


@dataclass
class Conversation:
    """Hold one conversation; ``display_id`` is the id every payload shows."""

    display_id: int
    uuid: str
    contact_inbox: ContactInbox
    custom_attributes: dict[str, Any]
    created_at: float
    updated_at: float
    last_activity_at: float
    status: str = "open"
    assignee: Agent | None = None
    messages: list[Message] = field(default_factory=list)
    contact_last_seen_at: float | None = None
    agent_last_seen_at: float | None = None
    waiting_since: float | None = None
    first_reply_created_at: float | None = None
    labels: list[str] = field(default_factory=list)
    priority: str | None = None
    team: Team | None = None
    snoozed_until: float | None = None
    # What the contact's side told us through the Client API (tests and the console read it):
    # the typing state ("on"/"off", None before any), each toggle, and update_last_seen calls.
    contact_typing: str | None = None
    contact_typing_log: list[dict[str, Any]] = field(default_factory=list)
    contact_seen_calls: int = 0

    @property
    def inbox(self) -> Inbox:
        """Return the conversation's inbox."""
        return self.contact_inbox.inbox

    @property
    def contact(self) -> Contact:
        """Return the conversation's contact."""
        return self.contact_inbox.contact

    def chat_messages(self) -> list[Message]:
        """Return the messages a contact may see, oldest first."""
        return [m for m in self.messages if m.is_chat]

    def unread_count(self) -> int:
        """Count incoming messages since an agent last looked (Chatwoot caps it at 10)."""
        seen = self.agent_last_seen_at or 0.0
        count = sum(1 for m in self.messages if m.message_type == INCOMING and m.created_at > seen)
        return min(count, 10)
