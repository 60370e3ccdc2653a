"""Chatwoot's JSON shapes (Client API, push/cable data, webhook objects), key for key."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sandbox.attachments import attachment_push
from sandbox.state import (
    MESSAGE_TYPE_NAMES,
    Agent,
    Contact,
    ContactInbox,
    Conversation,
    Message,
    SandboxState,
)

Json = dict[str, Any]


def iso(ts: float | None) -> str | None:
    """Format a unix time as Rails does: ISO-8601 UTC with milliseconds."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def unix(ts: float | None) -> int:
    """Format a unix time as an integer (0 when unset, as Chatwoot does)."""
    return int(ts) if ts else 0


def rails_json(payload: Any) -> bytes:
    """Encode like ActiveSupport: compact, with ``<``, ``>``, ``&`` escaped."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


def account(state: SandboxState) -> Json:
    """Return the account building block ``{id, name}``."""
    return {"id": state.config.account_id, "name": state.config.account_name}


# --- contacts -------------------------------------------------------------------------------


def contact_short(ci: ContactInbox) -> Json:
    """Return the Client API contact (create/show)."""
    c = ci.contact
    return {
        "source_id": ci.source_id,
        "pubsub_token": ci.pubsub_token,
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone_number": c.phone_number,
    }


def contact_type(c: Contact) -> str:
    """Return the contact type Chatwoot derives (lead once e-mail or phone is known)."""
    return "lead" if c.email or c.phone_number else "visitor"


def contact_record(state: SandboxState, c: Contact) -> Json:
    """Return the full Contact record (PATCH contact, conversation ``contact``)."""
    return {
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone_number": c.phone_number,
        "account_id": state.config.account_id,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "additional_attributes": {},
        "identifier": c.identifier,
        "custom_attributes": c.custom_attributes,
        "last_activity_at": iso(c.last_activity_at),
        "contact_type": contact_type(c),
        "middle_name": "",
        "last_name": "",
        "location": None,
        "country_code": None,
        "blocked": c.blocked,
        "company_id": None,
    }


def contact_push(c: Contact) -> Json:
    """Return the contact push data (cable, Client API message sender)."""
    return {
        "additional_attributes": {},
        "custom_attributes": c.custom_attributes,
        "email": c.email,
        "id": c.id,
        "identifier": c.identifier,
        "name": c.name,
        "phone_number": c.phone_number,
        "thumbnail": "",
        "blocked": c.blocked,
        "type": "contact",
    }


def contact_webhook(state: SandboxState, c: Contact) -> Json:
    """Return the contact webhook object (no ``type`` key)."""
    return {
        "account": account(state),
        "additional_attributes": {},
        "avatar": "",
        "custom_attributes": c.custom_attributes,
        "email": c.email,
        "id": c.id,
        "identifier": c.identifier,
        "name": c.name,
        "phone_number": c.phone_number,
        "thumbnail": "",
        "blocked": c.blocked,
    }


# --- agents ---------------------------------------------------------------------------------


def user_push(a: Agent) -> Json:
    """Return the user push data."""
    return {
        "id": a.id,
        "name": a.name,
        "available_name": a.available_name,
        "avatar_url": "",
        "type": "user",
        "availability_status": a.availability,
        "thumbnail": "",
    }


def user_webhook(a: Agent) -> Json:
    """Return the user webhook object."""
    return {"id": a.id, "name": a.name, "email": a.email, "type": "user"}


def sender_push(sender: Contact | Agent) -> Json:
    """Return the push data of a message sender."""
    return contact_push(sender) if isinstance(sender, Contact) else user_push(sender)


def sender_webhook(state: SandboxState, sender: Contact | Agent | None) -> Json | None:
    """Return the webhook object of a message sender (or null)."""
    if sender is None:
        return None
    if isinstance(sender, Contact):
        return contact_webhook(state, sender)
    return user_webhook(sender)


# --- messages -------------------------------------------------------------------------------

_HARD_BREAK = re.compile(r"\\\r?\n")
_TRAILING_NEWLINES = re.compile(r"(\r?\n)+\Z")


def normalise(text: str | None) -> str | None:
    """Strip CommonMark hard breaks and trailing newlines, as Chatwoot does for webhooks only."""
    if text is None or not text.strip():
        return text
    return _TRAILING_NEWLINES.sub("", _HARD_BREAK.sub("\n", text))


def survey_url(state: SandboxState, conv: Conversation) -> str:
    """Return the public CSAT survey page of a conversation."""
    return f"{state.frontend_url}/survey/responses/{conv.uuid}"


def webhook_content(state: SandboxState, m: Message) -> str | None:
    """Return a message's webhook ``content``: normalised, the CSAT survey link appended."""
    if m.content_type == "input_csat":
        return f"Please rate this conversation, {survey_url(state, m.conversation)}"
    return normalise(m.content)


def attachments(state: SandboxState, m: Message) -> list[Json]:
    """Return a message's attachment objects."""
    return [attachment_push(state, att) for att in m.attachments]


def public_message(state: SandboxState, m: Message) -> Json:
    """Return the Client API message (integer ``message_type``, raw content)."""
    out: Json = {
        "id": m.id,
        "content": m.content,
        "message_type": m.message_type,
        "content_type": m.content_type,
        "content_attributes": m.content_attributes,
        "created_at": unix(m.created_at),
        "conversation_id": m.conversation.display_id,
    }
    if m.attachments:
        out["attachments"] = attachments(state, m)
    if m.sender is not None:
        out["sender"] = sender_push(m.sender)
    return out


def message_push(
    state: SandboxState, m: Message, *, with_echo: bool = False, for_webhook: bool = False
) -> Json:
    """Return the message push data (cable ``message.*`` and conversation ``messages``).

    ``echo_id`` is a non-persisted attribute in Chatwoot: only the live cable broadcast of the
    message itself carries it; re-read copies (conversation payloads, webhooks) never do.
    Webhook copies carry normalised content; the cable and the Client API carry it raw.
    """
    conv = m.conversation
    content = normalise(m.content) if for_webhook else m.content
    out: Json = {
        "id": m.id,
        "content": content,
        "account_id": state.config.account_id,
        "inbox_id": conv.inbox.id,
        "conversation_id": conv.display_id,
        "message_type": m.message_type,
        "created_at": unix(m.created_at),
        "updated_at": iso(m.updated_at),
        "private": m.private,
        "status": m.status,
        "source_id": None,
        "content_type": m.content_type,
        "content_attributes": m.content_attributes,
        "sender_type": None
        if m.sender is None
        else ("Contact" if isinstance(m.sender, Contact) else "User"),
        "sender_id": None if m.sender is None else m.sender.id,
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": content,
        "sentiment": {},
        "conversation": {
            "assignee_id": conv.assignee.id if conv.assignee else None,
            "unread_count": conv.unread_count(),
            "last_activity_at": unix(conv.last_activity_at),
            "contact_inbox": {"source_id": conv.contact_inbox.source_id},
        },
    }
    if with_echo and m.echo_id is not None:
        out["echo_id"] = m.echo_id
    if m.attachments:
        out["attachments"] = attachments(state, m)
    if m.sender is not None:
        out["sender"] = sender_push(m.sender)
    return out


def message_webhook(state: SandboxState, m: Message, event: str) -> Json:
    """Return a ``message_created``/``message_updated`` webhook body (string ``message_type``)."""
    conv = m.conversation
    out: Json = {
        "account": account(state),
        "additional_attributes": {},
        "content_attributes": m.content_attributes,
        "content_type": m.content_type,
        "content": webhook_content(state, m),
        "conversation": conversation_webhook(state, conv),
        "created_at": iso(m.created_at),
        "id": m.id,
        "inbox": {"id": conv.inbox.id, "name": conv.inbox.name},
        "message_type": MESSAGE_TYPE_NAMES[m.message_type],
        "private": m.private,
        "sender": sender_webhook(state, m.sender),
        "source_id": None,
    }
    if m.attachments:
        out["attachments"] = attachments(state, m)
    out["event"] = event
    return out


# --- conversations --------------------------------------------------------------------------


def public_conversation(state: SandboxState, conv: Conversation) -> Json:
    """Return the Client API conversation (all chat messages, full contact record)."""
    return {
        "id": conv.display_id,
        "uuid": conv.uuid,
        "inbox_id": conv.inbox.id,
        "contact_last_seen_at": unix(conv.contact_last_seen_at),
        "status": conv.status,
        "agent_last_seen_at": unix(conv.agent_last_seen_at),
        "messages": [public_message(state, m) for m in conv.chat_messages()],
        "contact": contact_record(state, conv.contact),
    }


def conversation_push(
    state: SandboxState, conv: Conversation, *, for_webhook: bool = False
) -> Json:
    """Return the conversation push data (cable ``conversation.*``)."""
    ci = conv.contact_inbox
    chat = conv.chat_messages()
    return {
        "additional_attributes": {},
        "can_reply": True,
        "channel": "Channel::Api",
        "contact_inbox": {
            "id": ci.id,
            "contact_id": ci.contact.id,
            "inbox_id": ci.inbox.id,
            "source_id": ci.source_id,
            "created_at": iso(ci.created_at),
            "updated_at": iso(ci.updated_at),
            "hmac_verified": ci.hmac_verified,
            "pubsub_token": ci.pubsub_token,
        },
        "id": conv.display_id,
        "inbox_id": ci.inbox.id,
        "messages": [message_push(state, chat[-1], for_webhook=for_webhook)] if chat else [],
        "labels": list(conv.labels),
        "meta": {
            "sender": contact_push(ci.contact),
            "assignee": user_push(conv.assignee) if conv.assignee else None,
            "assignee_type": "User" if conv.assignee else None,
            "team": None if conv.team is None else {"id": conv.team.id, "name": conv.team.name},
            "hmac_verified": ci.hmac_verified,
        },
        "status": conv.status,
        "custom_attributes": conv.custom_attributes,
        "snoozed_until": iso(conv.snoozed_until),
        "unread_count": conv.unread_count(),
        "first_reply_created_at": iso(conv.first_reply_created_at),
        "priority": conv.priority,
        "waiting_since": unix(conv.waiting_since),
        "agent_last_seen_at": unix(conv.agent_last_seen_at),
        "contact_last_seen_at": unix(conv.contact_last_seen_at),
        "last_activity_at": unix(conv.last_activity_at),
        "timestamp": unix(conv.last_activity_at),
        "created_at": unix(conv.created_at),
        "updated_at": conv.updated_at,
    }


def conversation_webhook(state: SandboxState, conv: Conversation) -> Json:
    """Return the conversation webhook object (push data + ``account``)."""
    out = conversation_push(state, conv, for_webhook=True)
    out["account"] = account(state)
    return out


def changed(name: str, previous: Any, current: Any) -> Json:
    """Return one ``changed_attributes`` entry."""
    return {name: {"previous_value": previous, "current_value": current}}
