"""The sandbox's state: every record (see `sandbox.records`), its ids, settings and faults."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from sandbox.config import SandboxConfig
from sandbox.faults import Faults
from sandbox.inbox import InboxSettings
from sandbox.names import random_contact_name, secure_token
from sandbox.records import (
    ACTIVITY,
    AVAILABILITIES,
    INCOMING,
    MESSAGE_TYPE_NAMES,
    OUTGOING,
    PRIORITIES,
    STATUSES,
    TEMPLATE,
    Agent,
    Attachment,
    Contact,
    ContactInbox,
    Conversation,
    Inbox,
    Message,
    Team,
)

__all__ = [
    "ACTIVITY",
    "AVAILABILITIES",
    "INCOMING",
    "MESSAGE_TYPE_NAMES",
    "OUTGOING",
    "PRIORITIES",
    "STATUSES",
    "TEMPLATE",
    "Agent",
    "Attachment",
    "Contact",
    "ContactInbox",
    "Conversation",
    "Inbox",
    "Message",
    "SandboxState",
    "Team",
]


class SandboxState:
    """Hold every record of one sandbox; nothing here does I/O."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.inbox = Inbox(config.inbox_id, config.inbox_name, config.inbox_identifier)
        self.foreign_inbox = Inbox(
            config.inbox_id + 1, config.foreign_inbox_name, config.foreign_inbox_identifier
        )
        self.webhook_url: str | None = config.webhook_url
        self.webhook_secret: str | None = config.webhook_secret
        self.faults = Faults()
        self.deliveries: list[dict[str, Any]] = []
        # Base of attachment URLs (Chatwoot's FRONTEND_URL); the server sets it once bound.
        self.frontend_url = config.frontend_url or ""
        self.late_snapshots = config.late_snapshots
        self.snapshot_jitter_ms = config.snapshot_jitter_ms
        # Distinct id ranges make a mixed-up id (contact vs message vs conversation) fail loudly.
        self.counters = {
            "contact": 101,
            "contact_inbox": 501,
            "conversation": 1,
            "message": 1001,
            "attachment": 70001,
            "csat_response": 801,
            "agent": 1,
            "team": 1,
        }
        # What changed since the store last wrote (kind -> ids); the store empties it.
        self.dirty: dict[str, set[Any]] = {}
        self.wipe()

    def wipe(self) -> None:
        """Forget every record, clear the faults, restore the first settings; ids keep growing."""
        self.contacts: dict[int, Contact] = {}
        self.contact_inboxes: list[ContactInbox] = []
        self.conversations: dict[int, Conversation] = {}
        self.agents: dict[str, Agent] = {}
        self.attachments: dict[int, Attachment] = {}
        # Attachment bytes by blob key: the one place a durable store has to copy them from.
        self.blobs: dict[str, bytes] = {}
        self.teams: dict[str, Team] = {}
        self.settings = InboxSettings(enable_auto_assignment=self.config.enable_auto_assignment)
        self.faults = Faults()
        self.deliveries.clear()
        self.dirty = {"wipe": {True}}
        for name in self.config.agents:
            self.agent(name)

    def next_id(self, kind: str) -> int:
        """Allocate the next id of a kind."""
        value = self.counters[kind]
        self.counters[kind] = value + 1
        self.touch("counters", kind)
        return value

    def touch(self, kind: str, key: Any) -> None:
        """Mark a record as changed so that the store writes it before the answer goes out."""
        self.dirty.setdefault(kind, set()).add(key)

    def inbox_by_identifier(self, identifier: str) -> Inbox | None:
        """Find an inbox by its public identifier."""
        for inbox in (self.inbox, self.foreign_inbox):
            if inbox.identifier == identifier:
                return inbox
        return None

    def inbox_by_id(self, inbox_id: int) -> Inbox | None:
        """Find an inbox by id."""
        for inbox in (self.inbox, self.foreign_inbox):
            if inbox.id == inbox_id:
                return inbox
        return None

    def contact_inbox(self, inbox: Inbox, source_id: str) -> ContactInbox | None:
        """Find a contact's session in an inbox by ``source_id``."""
        for ci in self.contact_inboxes:
            if ci.inbox is inbox and ci.source_id == source_id:
                return ci
        return None

    def contact_inbox_by_token(self, token: str) -> ContactInbox | None:
        """Find a contact's session by its cable ``pubsub_token``."""
        for ci in self.contact_inboxes:
            if ci.pubsub_token == token:
                return ci
        return None

    def agent(self, name: str) -> Agent:
        """Return the agent with this name, creating it on first use."""
        found = self.agents.get(name)
        if found is None:
            slug = "".join(c for c in name.lower().replace(" ", ".") if c.isalnum() or c == ".")
            found = Agent(self.next_id("agent"), name, f"{slug or 'agent'}@sandbox.local")
            self.agents[name] = found
            self.touch("agent", name)
        return found

    def team(self, name: str) -> Team:
        """Return the team with this name, creating it on first use."""
        found = self.teams.get(name)
        if found is None:
            found = Team(self.next_id("team"), name)
            self.teams[name] = found
            self.touch("team", name)
        return found

    def new_contact(
        self,
        name: str | None,
        email: str | None,
        phone_number: str | None,
        identifier: str | None,
        custom_attributes: dict[str, Any],
    ) -> Contact:
        """Create a contact."""
        now = time.time()
        contact = Contact(
            id=self.next_id("contact"),
            name=name or random_contact_name(),
            email=email,
            phone_number=phone_number,
            identifier=identifier,
            custom_attributes=dict(custom_attributes),
            created_at=now,
            updated_at=now,
        )
        self.contacts[contact.id] = contact
        self.touch("contact", contact.id)
        return contact

    def new_contact_inbox(
        self, contact: Contact, inbox: Inbox, source_id: str | None
    ) -> ContactInbox:
        """Create a contact's session in an inbox (UUID ``source_id`` when none is given)."""
        now = time.time()
        ci = ContactInbox(
            id=self.next_id("contact_inbox"),
            contact=contact,
            inbox=inbox,
            source_id=source_id or str(uuid.uuid4()),
            pubsub_token=secure_token(),
            created_at=now,
            updated_at=now,
        )
        self.contact_inboxes.append(ci)
        self.touch("contact_inbox", ci.id)
        return ci

    def new_conversation(self, ci: ContactInbox, custom_attributes: dict[str, Any]) -> Conversation:
        """Create a conversation with the next display id."""
        now = time.time()
        conv = Conversation(
            display_id=self.next_id("conversation"),
            uuid=str(uuid.uuid4()),
            contact_inbox=ci,
            custom_attributes=dict(custom_attributes),
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        self.conversations[conv.display_id] = conv
        self.touch("conversation", conv.display_id)
        return conv

    def new_message(
        self,
        conv: Conversation,
        content: str | None,
        message_type: int,
        sender: Contact | Agent | None,
        *,
        private: bool = False,
        echo_id: str | None = None,
        content_type: str = "text",
        content_attributes: dict[str, Any] | None = None,
    ) -> Message:
        """Append a message to a conversation."""
        now = time.time()
        msg = Message(
            id=self.next_id("message"),
            conversation=conv,
            content=content,
            message_type=message_type,
            private=private,
            sender=sender,
            created_at=now,
            updated_at=now,
            echo_id=echo_id,
            content_type=content_type,
            content_attributes=dict(content_attributes or {}),
        )
        conv.messages.append(msg)
        self.touch("conversation", conv.display_id)
        self.touch("message", (conv.display_id, msg.id))
        return msg

    def attach(
        self, msg: Message, filename: str, content_type: str, data: bytes, file_type: str
    ) -> Attachment:
        """Store a file's bytes as a blob and attach it to a message."""
        base = filename.rsplit("/", 1)[-1]
        stem = base.lstrip(".")
        att = Attachment(
            id=self.next_id("attachment"),
            message_id=msg.id,
            file_type=file_type,
            extension=stem.rsplit(".", 1)[1] or None if "." in stem else None,
            content_type=content_type,
            filename=base or "file",
            file_size=len(data),
            key=secrets.token_hex(14),
        )
        self.blobs[att.key] = data
        self.attachments[att.id] = att
        msg.attachments.append(att)
        return att

    def detach_all(self, msg: Message) -> None:
        """Destroy a message's attachments and their bytes (Chatwoot's delete does this)."""
        for att in msg.attachments:
            self.attachments.pop(att.id, None)
            self.blobs.pop(att.key, None)
        msg.attachments.clear()
