"""Verify Chatwoot webhook signatures and turn webhook bodies into typed events."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatwoot.errors import WebhookPayloadError, WebhookSignatureError
from chatwoot.events import ChatwootEvent, EventSource, MessageEvent
from chatwoot.parsing import parse_event

SIGNATURE_HEADER = "X-Chatwoot-Signature"
TIMESTAMP_HEADER = "X-Chatwoot-Timestamp"
DELIVERY_HEADER = "X-Chatwoot-Delivery"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # aiohttp's headers are case-insensitive already; plain dicts from tests are not.
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def sign_webhook(raw_body: bytes, secret: str, timestamp: str) -> str:
    """Return the ``X-Chatwoot-Signature`` value for a body: ``sha256=`` + hex HMAC."""
    message = timestamp.encode() + b"." + raw_body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_webhook(
    raw_body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float | None = None,
    tolerance: int = 300,
) -> None:
    """Check a delivery's HMAC over ``timestamp.body`` and its age; raise if either is wrong."""
    signature = _header(headers, SIGNATURE_HEADER)
    if not signature:
        raise WebhookSignatureError("missing signature header")
    stamp = _header(headers, TIMESTAMP_HEADER)
    if not stamp:
        raise WebhookSignatureError("missing timestamp header")
    stamp = stamp.strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise WebhookSignatureError("malformed timestamp")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise WebhookSignatureError("timestamp outside the allowed window")
    expected = sign_webhook(raw_body, secret, stamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise WebhookSignatureError("signature mismatch")


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """Return the ``X-Chatwoot-Delivery`` UUID (new per attempt, so not a dedupe key alone)."""
    value = _header(headers, DELIVERY_HEADER)
    return value.strip() or None if value else None


def decode_webhook(raw_body: bytes) -> Mapping[str, Any]:
    """Decode a webhook body, which must be a JSON object."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WebhookPayloadError(f"body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("body is not a JSON object")
    return payload


def parse_webhook(payload: Mapping[str, Any]) -> list[ChatwootEvent]:
    """Turn one webhook payload into typed events (none, one or several)."""
    kind = payload.get("event")
    if not isinstance(kind, str):
        return parse_event("<missing>", payload, source=EventSource.WEBHOOK)
    return parse_event(kind, payload, source=EventSource.WEBHOOK)


@dataclass(frozen=True)
class WebhookDelivery:
    """One trusted webhook delivery: its event name, Chatwoot's delivery id, the typed events."""

    kind: str
    delivery_id: str | None
    events: list[ChatwootEvent]


def read_webhook(
    raw_body: bytes, headers: Mapping[str, str], *, secret: str | None
) -> WebhookDelivery:
    """Verify a delivery on its raw bytes (when a secret is set), then decode and parse it.

    Raises `WebhookSignatureError` or `WebhookPayloadError`; nothing is parsed before it is
    trusted.
    """
    signed_at: datetime | None = None
    if secret:
        verify_webhook(raw_body, headers, secret)
        stamp = (_header(headers, TIMESTAMP_HEADER) or "").strip()
        signed_at = datetime.fromtimestamp(int(stamp), UTC)
    payload = decode_webhook(raw_body)
    kind = payload.get("event")
    return WebhookDelivery(
        kind=kind if isinstance(kind, str) and kind else "unknown",
        delivery_id=delivery_id(headers),
        events=[_stamped(event, signed_at) for event in parse_webhook(payload)],
    )


def _stamped(event: ChatwootEvent, signed_at: datetime | None) -> ChatwootEvent:
    """Date a message update by its signed send time: webhooks carry no message updated_at.

    Chatwoot builds the payload when its job runs, so the signed time is no earlier than the
    version the payload holds; a captured delivery replayed later keeps its old time.
    """
    if signed_at is None or not isinstance(event, MessageEvent) or event.kind != "updated":
        return event
    if event.updated_at is not None:
        return event
    return dataclasses.replace(event, updated_at=signed_at)
