"""Signed Chatwoot webhook deliveries shaped like the ones Chatwoot sends."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from chatwoot.webhooks import sign_webhook

INBOX_ID = 1


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: the raw body and its headers."""

    body: bytes
    headers: dict[str, str]


def agent_message(message_id: int, conversation_id: int, *, content: str | None = None) -> bytes:
    """Return a compact ``message_created`` body for an agent reply (outgoing, public)."""
    now = datetime.now(UTC)
    payload = {
        "account": {"id": 1, "name": "Bench"},
        "additional_attributes": {},
        "content_attributes": {},
        "content_type": "text",
        "content": content or f"Agent reply {message_id}: we are looking into it.",
        "conversation": {
            "additional_attributes": {},
            "can_reply": True,
            "channel": "Channel::Api",
            "contact_inbox": {"source_id": f"bench-{conversation_id}"},
            "id": conversation_id,
            "inbox_id": INBOX_ID,
            "labels": [],
            "status": "open",
            "custom_attributes": {},
            "unread_count": 1,
            "timestamp": int(now.timestamp()),
        },
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "id": message_id,
        "inbox": {"id": INBOX_ID, "name": "Chamados"},
        "message_type": "outgoing",
        "private": False,
        "sender": {"id": 3, "name": "Sam Agent", "email": "sam@example.com", "type": "user"},
        "source_id": None,
        "event": "message_created",
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> Delivery:
    """Sign a body as Chatwoot does, with a fresh delivery id (one per attempt)."""
    stamp = str(int(time.time()))
    return Delivery(
        body,
        {
            "Content-Type": "application/json",
            "X-Chatwoot-Timestamp": stamp,
            "X-Chatwoot-Signature": sign_webhook(body, secret, stamp),
            "X-Chatwoot-Delivery": str(uuid.uuid4()),
        },
    )
