"""The sandbox's use cases: mutate state, emit the webhooks and cable frames Chatwoot would."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sandbox import messages, shapes, templates
from sandbox.assignment import auto_assign
from sandbox.attachments import Upload
from sandbox.desk_events import EventFanout, contact_key, conversation_key
from sandbox.errors import RecordInvalid
from sandbox.rules import (
    EMAIL,
    FLOOD_LIMIT_PER_MINUTE,
    check_attributes,
    object_param,
    text_param,
)
from sandbox.state import (
    INCOMING,
    STATUSES,
    Contact,
    ContactInbox,
    Conversation,
    Inbox,
    Message,
)

__all__ = ["Desk", "RecordInvalid"]

# How many of the contact's typing toggles a conversation remembers (tests check debouncing).
TYPING_LOG = 50


class Desk(EventFanout):
    """Run every sandbox action and fan its events out to webhooks and the cable."""

    # --- contacts ---------------------------------------------------------------------------

    def create_contact(self, inbox: Inbox, params: dict[str, Any]) -> ContactInbox:
        """Create (or, for a known ``source_id``, return unchanged) a contact session."""
        source_id = text_param(params.get("source_id"))
        if source_id:
            existing = self.state.contact_inbox(inbox, source_id)
            if existing is not None:
                return existing
        email = text_param(params.get("email"))
        if email and not EMAIL.match(email):
            raise RecordInvalid("Email Invalid email", ["email"])
        identifier = text_param(params.get("identifier"))
        contact = None
        if identifier:
            contact = next(
                (c for c in self.state.contacts.values() if c.identifier == identifier), None
            )
        if contact is None and email:
            contact = next((c for c in self.state.contacts.values() if c.email == email), None)
        if contact is None:
            contact = self.state.new_contact(
                text_param(params.get("name")),
                email,
                text_param(params.get("phone_number")),
                identifier,
                object_param(params.get("custom_attributes")),
            )
            self.webhooks.enqueue(
                contact_key(contact),
                {**shapes.contact_webhook(self.state, contact), "event": "contact_created"},
            )
        return self.state.new_contact_inbox(contact, inbox, source_id)

    def update_contact(self, ci: ContactInbox, params: dict[str, Any]) -> Contact:
        """Apply a PATCH (blank values ignored, custom attributes deep-merged)."""
        contact = ci.contact
        changes: list[shapes.Json] = []
        email = text_param(params.get("email"))
        if email and not EMAIL.match(email):
            raise RecordInvalid("Email Invalid email", ["email"])
        for name in ("name", "email", "phone_number"):
            value = text_param(params.get(name))
            if value and value != getattr(contact, name):
                changes.append(shapes.changed(name, getattr(contact, name), value))
                setattr(contact, name, value)
        extra = object_param(params.get("custom_attributes"))
        if extra:
            merged = {**contact.custom_attributes, **extra}
            if merged != contact.custom_attributes:
                changes.append(
                    shapes.changed("custom_attributes", contact.custom_attributes, merged)
                )
                contact.custom_attributes = merged
        if changes:
            self._touch_contact(contact, changes)
        return contact

    def _touch_contact(self, contact: Contact, changes: list[shapes.Json]) -> None:
        self.state.touch("contact", contact.id)
        before = shapes.iso(contact.updated_at)
        contact.updated_at = time.time()
        changes.append(shapes.changed("updated_at", before, shapes.iso(contact.updated_at)))
        payload = {
            **shapes.contact_webhook(self.state, contact),
            "event": "contact_updated",
            "changed_attributes": changes,
        }
        self.webhooks.enqueue(contact_key(contact), payload)

    # --- conversations ----------------------------------------------------------------------

    def create_conversation(self, ci: ContactInbox, custom_attributes: Any) -> Conversation:
        """Open a conversation carrying ``custom_attributes`` (or, locked, return the last one)."""
        attributes = object_param(custom_attributes)
        check_attributes(attributes)
        if ci.inbox is self.state.inbox and self.state.settings.lock_to_single_conversation:
            mine = [c for c in self.state.conversations.values() if c.contact_inbox is ci]
            if mine:
                return max(mine, key=lambda c: c.display_id)
        conv = self.state.new_conversation(ci, attributes)
        if ci.contact.blocked:
            conv.status = "resolved"
        self._conversation_event(conv, "conversation_created", "conversation.created")
        auto_assign(self, conv)
        return conv

    def contact_message(
        self,
        conv: Conversation,
        content: str | None,
        echo_id: str | None,
        uploads: Sequence[Upload] = (),
    ) -> Message:
        """Post the contact's message (reopening a resolved conversation)."""
        messages.check_content(content, uploads)
        minute_ago = time.time() - 60
        if sum(1 for m in conv.messages if m.created_at > minute_ago) >= FLOOD_LIMIT_PER_MINUTE:
            raise RecordInvalid("Too many messages", ["base"])
        contact = conv.contact
        msg = self.state.new_message(conv, content, INCOMING, contact, echo_id=echo_id)
        messages.attach(self, msg, uploads)
        conv.last_activity_at = msg.created_at
        if not conv.waiting_since:
            conv.waiting_since = msg.created_at
        self.message_event(msg, "message_created", "message.created")
        previous = contact.last_activity_at
        contact.last_activity_at = msg.created_at
        self._touch_contact(
            contact,
            [shapes.changed("last_activity_at", shapes.iso(previous), shapes.iso(msg.created_at))],
        )
        if conv.status == "resolved":
            self._change_status(
                conv, "open", "System reopened the conversation due to a new incoming message."
            )
        elif conv.status == "snoozed":
            # A contact's message ends a snooze (Chatwoot's `open!` on incoming messages).
            self._change_status(conv, "open", "Conversation was reopened by system")
        templates.after_contact_message(self, msg)
        return msg

    def agent_message(
        self, conv: Conversation, content: str, agent_name: str, *, private: bool
    ) -> Message:
        """Post a plain agent reply or private note (see ``messages.post`` for the rest)."""
        return messages.post(self, conv, messages.AgentPost(content, agent_name, private))

    def resolve_by_contact(self, conv: Conversation) -> None:
        """Resolve a conversation at the contact's request (no-op when already resolved)."""
        if conv.status == "resolved":
            return
        # Ruby's String#capitalize: first letter up, the rest down ("Jane Doe" -> "Jane doe").
        name = conv.contact.name.capitalize()
        self._change_status(conv, "resolved", f"Conversation was resolved by {name}")

    def set_status(self, conv: Conversation, status: str, agent_name: str) -> None:
        """Change the status as an agent would."""
        if status not in STATUSES:
            raise RecordInvalid(f"Status '{status}' is not a valid status", ["status"])
        if status == conv.status:
            return
        texts = {
            "resolved": "Conversation was marked resolved by {}",
            "open": "Conversation was reopened by {}",
            "pending": "Conversation was marked as pending by {}",
            "snoozed": "Conversation was snoozed by {}",
        }
        self._change_status(conv, status, texts[status].format(agent_name))

    def _change_status(self, conv: Conversation, status: str, activity: str) -> None:
        previous = conv.status
        before = shapes.iso(conv.updated_at)
        conv.status = status
        changes = [shapes.changed("status", previous, status)]
        if status != "snoozed" and conv.snoozed_until is not None:
            # Chatwoot clears the snooze time in the same save that leaves `snoozed`.
            changes.append(shapes.changed("snoozed_until", shapes.iso(conv.snoozed_until), None))
            conv.snoozed_until = None
        self.status_saved(conv, changes, before)
        self._activity(conv, activity)
        templates.after_resolve(self, conv)

    def status_saved(
        self,
        conv: Conversation,
        changes: list[shapes.Json],
        before: str | None,
        *,
        status_changed: bool = True,
    ) -> None:
        """Stamp ``updated_at`` and emit the events of a save that touched the status."""
        conv.updated_at = time.time()
        changes = [*changes, shapes.changed("updated_at", before, shapes.iso(conv.updated_at))]
        # Chatwoot's after-update callbacks: status_changed first, then conversation_updated.
        if status_changed:
            self._conversation_event(
                conv,
                "conversation_status_changed",
                "conversation.status_changed",
                changed_attributes=None,
            )
        self._conversation_event(
            conv, "conversation_updated", "conversation.updated", changed_attributes=changes
        )

    def assign(self, conv: Conversation, agent_name: str | None, by: str | None) -> None:
        """Assign the conversation to an agent, or unassign it with ``None``."""
        new = self.state.agent(agent_name) if agent_name else None
        old = conv.assignee
        if new is old:
            return
        actor = by or agent_name or "Administrator"
        before = shapes.iso(conv.updated_at)
        conv.assignee = new
        conv.updated_at = time.time()
        changes = [
            shapes.changed("assignee_id", old.id if old else None, new.id if new else None),
            shapes.changed("updated_at", before, shapes.iso(conv.updated_at)),
        ]
        self._conversation_event(
            conv, "conversation_updated", "conversation.updated", changed_attributes=changes
        )
        if new is None:
            text = f"Conversation unassigned by {actor}"
        elif actor == new.name:
            text = f"{actor} self-assigned this conversation"
        else:
            text = f"Assigned to {new.name} by {actor}"
        self._activity(conv, text)

    def contact_typing(self, conv: Conversation, status: str) -> None:
        """Relay the contact's typing indicator (webhook only: a typist never hears itself)."""
        if status not in ("on", "off"):
            return
        conv.contact_typing = status
        # The newest toggles are enough to check debouncing; an endless log would grow forever.
        conv.contact_typing_log = [
            *conv.contact_typing_log[-(TYPING_LOG - 1) :],
            {
                "status": status,
                "at": time.time(),
            },
        ]
        self.state.touch("conversation", conv.display_id)
        payload = {
            "event": f"conversation_typing_{status}",
            "user": shapes.contact_webhook(self.state, conv.contact),
            "conversation": shapes.conversation_webhook(self.state, conv),
            "is_private": False,
        }
        self.webhooks.enqueue(conversation_key(conv), payload)

    def agent_typing(self, conv: Conversation, agent_name: str, status: str, private: bool) -> None:
        """Relay an agent's typing indicator to the webhook and the contact's cable."""
        if status not in ("on", "off"):
            raise RecordInvalid("Typing status must be on or off", ["typing_status"])
        agent = self.state.agent(agent_name)
        self.webhooks.enqueue(
            conversation_key(conv),
            {
                "event": f"conversation_typing_{status}",
                "user": shapes.user_webhook(agent),
                "conversation": shapes.conversation_webhook(self.state, conv),
                "is_private": private,
            },
        )
        self.cable.broadcast(
            conv.contact_inbox.pubsub_token,
            f"conversation.typing_{status}",
            {
                "conversation": shapes.conversation_push(self.state, conv),
                "user": shapes.user_push(agent),
                "is_private": private,
                "account_id": self.state.config.account_id,
                "performer": shapes.user_push(agent),
            },
        )

    def contact_seen(self, conv: Conversation) -> None:
        """Mark the conversation seen by the contact; earlier non-incoming messages become read."""
        now = time.time()
        conv.contact_last_seen_at = now
        conv.contact_seen_calls += 1
        self.state.touch("conversation", conv.display_id)
        for msg in conv.messages:
            if msg.message_type == INCOMING or msg.status not in ("sent", "delivered"):
                continue
            if msg.created_at > now:
                continue
            before_status, before_time = msg.status, shapes.iso(msg.updated_at)
            msg.status = "read"
            msg.updated_at = time.time()
            previous = {
                "status": [before_status, "read"],
                "updated_at": [before_time, shapes.iso(msg.updated_at)],
            }
            self.message_event(msg, "message_updated", "message.updated", previous=previous)

    def agent_seen(self, conv: Conversation) -> None:
        """Record that an agent looked at the conversation (resets ``unread_count``)."""
        conv.agent_last_seen_at = time.time()
        self.state.touch("conversation", conv.display_id)

    def conversation_changed(self, conv: Conversation, changes: list[shapes.Json]) -> None:
        """Stamp ``updated_at`` and emit ``conversation_updated`` with every changed column."""
        before = shapes.iso(conv.updated_at)
        conv.updated_at = time.time()
        changes = [*changes, shapes.changed("updated_at", before, shapes.iso(conv.updated_at))]
        self._conversation_event(
            conv, "conversation_updated", "conversation.updated", changed_attributes=changes
        )

    def activity(self, conv: Conversation, text: str) -> None:
        """Add an agent-only activity line."""
        self._activity(conv, text)
