from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chatwoot.errors import WebhookPayloadError, WebhookSignatureError
from chatwoot.events import (
    AssigneeChanged,
    ConversationCreated,
    ConversationUpdated,
    EventSource,
    MessageEvent,
    StatusChanged,
    TypingChanged,
)
from chatwoot.fields import ConversationStatus, MessageType, SenderType
from chatwoot.webhooks import (
    decode_webhook,
    delivery_id,
    parse_webhook,
    sign_webhook,
    verify_webhook,
)
from tests.chatwoot.conftest import PAYLOADS

Load = Callable[[str], Any]
SOURCE_ID = "teams-3f2b9c1e-5d7a-4e8b-9c0d-1a2b3c4d5e6f"


def _one(load: Load, name: str) -> Any:
    events = parse_webhook(load(f"webhooks/{name}"))
    assert len(events) == 1, events
    return events[0]


def test_every_recorded_webhook_parses_without_error() -> None:
    files = sorted(p for p in (PAYLOADS / "webhooks").glob("*.json") if not p.name.startswith("_"))
    assert len(files) >= 15
    for path in files:
        events = parse_webhook(json.loads(path.read_text()))
        assert all(event.source is EventSource.WEBHOOK for event in events), path.name


def test_incoming_message_is_our_contacts_own(payload: Load) -> None:
    event = _one(payload, "message_created.incoming.json")
    assert isinstance(event, MessageEvent)
    assert event.kind == "created"
    assert (event.message_id, event.conversation_id, event.inbox_id) == (9001, 123, 7)
    assert event.message_type is MessageType.INCOMING
    assert event.sender_type is SenderType.CONTACT  # contact webhook object has no "type"
    assert event.sender_name == "Jane Doe"
    assert event.source_id == SOURCE_ID
    assert event.created_at == datetime(2026, 6, 17, 9, 0, 5, 118000, tzinfo=UTC)
    assert event.echo_id is None
    assert event.attachments == ()


def test_agent_reply(payload: Load) -> None:
    event = _one(payload, "message_created.outgoing.json")
    assert isinstance(event, MessageEvent)
    assert event.message_type is MessageType.OUTGOING
    assert event.sender_type is SenderType.USER
    assert (event.sender_name, event.sender_id) == ("Sam Agent", 3)
    assert event.private is False
    assert event.shown_to_requester
    assert event.content == "Hi Jane, I'm looking into it. Which laptop model is it?"


def test_private_note_is_flagged_private(payload: Load) -> None:
    event = _one(payload, "message_created.private_note.json")
    assert isinstance(event, MessageEvent)
    assert event.private is True
    assert event.message_type is MessageType.OUTGOING
    assert not event.shown_to_requester


def test_template_without_sender(payload: Load) -> None:
    event = _one(payload, "message_created.template_no_sender.json")
    assert isinstance(event, MessageEvent)
    assert event.message_type is MessageType.TEMPLATE
    assert (event.sender_name, event.sender_type, event.sender_id) == (None, None, None)
    assert event.message_id == 9000


def test_attachments_are_typed(payload: Load) -> None:
    event = _one(payload, "message_created.with_attachment.json")
    assert isinstance(event, MessageEvent)
    (attachment,) = event.attachments
    assert attachment.id == 311
    assert attachment.file_type == "image"
    assert attachment.content_type == "image/png"
    assert attachment.extension == "png"
    assert attachment.file_size == 184233
    assert attachment.data_url
    assert attachment.data_url.endswith("/screenshot.png")


def test_message_updated(payload: Load) -> None:
    event = _one(payload, "message_updated.json")
    assert isinstance(event, MessageEvent)
    assert event.kind == "updated"
    assert event.message_id == 9002
    assert event.dedupe_key.startswith("message:9002:updated:")


def test_conversation_created(payload: Load) -> None:
    event = _one(payload, "conversation_created.json")
    assert isinstance(event, ConversationCreated)
    assert (event.conversation_id, event.inbox_id) == (123, 7)
    assert event.status is ConversationStatus.OPEN
    assert event.source_id == SOURCE_ID
    assert event.dedupe_key == "conversation:123:created"


def test_assigned(payload: Load) -> None:
    event = _one(payload, "conversation_updated.assigned.json")
    assert isinstance(event, AssigneeChanged)
    assert (event.assignee_id, event.assignee_name) == (3, "Sam Agent")
    assert event.occurred_at == datetime.fromtimestamp(1781686920.331902, tz=UTC)
    assert event.dedupe_key == "conversation:123:assignee:3:1781686920331"


def test_resolved_via_conversation_updated(payload: Load) -> None:
    event = _one(payload, "conversation_updated.resolved.json")
    assert isinstance(event, StatusChanged)
    assert event.status is ConversationStatus.RESOLVED
    assert event.previous_status is ConversationStatus.OPEN


def test_status_changed_with_null_changed_attributes(payload: Load) -> None:
    via_status = _one(payload, "conversation_status_changed.json")
    via_updated = _one(payload, "conversation_updated.resolved.json")
    assert isinstance(via_status, StatusChanged)
    assert via_status.status is ConversationStatus.RESOLVED
    assert via_status.previous_status is None
    # Both webhooks describe one save: the core must see one event.
    assert via_status.dedupe_key == via_updated.dedupe_key


def test_custom_attributes_update(payload: Load) -> None:
    event = _one(payload, "conversation_updated.custom_attributes.json")
    assert isinstance(event, ConversationUpdated)
    assert event.changed == ("custom_attributes",)


def test_assignee_and_status_in_one_save_give_two_events(payload: Load) -> None:
    data = payload("webhooks/conversation_updated.resolved.json")
    data["changed_attributes"].insert(
        0, {"assignee_id": {"previous_value": None, "current_value": 3}}
    )
    data["changed_attributes"].append(
        {"label_list": {"previous_value": [], "current_value": ["x"]}}
    )
    events = parse_webhook(data)
    assert [type(e) for e in events] == [StatusChanged, AssigneeChanged, ConversationUpdated]
    assert events[2].changed == ("label_list",)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "name",
    [
        "contact_created.json",
        "contact_updated.json",
        "webwidget_triggered.json",
        # The contact's own typing: Chatwoot relays it to webhooks, it is no news to them.
        "conversation_typing_off.contact.json",
    ],
)
def test_events_the_core_ignores_yield_nothing(payload: Load, name: str) -> None:
    assert parse_webhook(payload(f"webhooks/{name}")) == []


def test_agent_typing_webhook_is_an_event_unless_it_is_a_note(payload: Load) -> None:
    data = payload("webhooks/conversation_typing_on.agent.json")
    (event,) = parse_webhook(data)
    assert isinstance(event, TypingChanged)
    assert (event.typing, event.agent_name) == (True, "Sam Agent")
    assert event.source is EventSource.WEBHOOK
    assert parse_webhook({**data, "is_private": True}) == []


def test_unknown_or_missing_event_yields_nothing() -> None:
    assert parse_webhook({"event": "conversation_exploded", "id": 1}) == []
    assert parse_webhook({"id": 1}) == []


# ---- signature ------------------------------------------------------------------------------


@pytest.fixture
def vector(payload: Load) -> dict[str, Any]:
    return payload("webhooks/_delivery_headers_and_signature_vector.json")  # type: ignore[no-any-return]


def test_vector_verifies(vector: dict[str, Any]) -> None:
    body = vector["body"].encode()
    assert sign_webhook(body, vector["secret"], vector["timestamp"]) == vector["expected_signature"]
    verify_webhook(body, vector["headers"], vector["secret"], now=int(vector["timestamp"]) + 10)


def test_headers_are_case_insensitive(vector: dict[str, Any]) -> None:
    headers = {key.lower(): value for key, value in vector["headers"].items()}
    verify_webhook(vector["body"].encode(), headers, vector["secret"], now=int(vector["timestamp"]))
    assert delivery_id(headers) == "5f0c8a61-2d7b-4c3e-9a1f-6b8d2e4c7a90"


def test_vector_body_parses_to_the_agent_reply(vector: dict[str, Any]) -> None:
    (event,) = parse_webhook(decode_webhook(vector["body"].encode()))
    assert isinstance(event, MessageEvent)
    assert event.message_id == 9002


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda body, headers, secret, now: (body + b" ", headers, secret, now), "mismatch"),
        (lambda body, headers, secret, now: (body, headers, "wrong-secret", now), "mismatch"),
        (lambda body, headers, secret, now: (body, headers, secret, now + 301), "window"),
        (lambda body, headers, secret, now: (body, headers, secret, now - 301), "window"),
        (
            lambda body, headers, secret, now: (
                body,
                {**headers, "X-Chatwoot-Timestamp": str(now + 1)},
                secret,
                now,
            ),
            "mismatch",
        ),
        (
            lambda body, headers, secret, now: (
                body,
                {k: v for k, v in headers.items() if k != "X-Chatwoot-Signature"},
                secret,
                now,
            ),
            "missing signature",
        ),
        (
            lambda body, headers, secret, now: (
                body,
                {k: v for k, v in headers.items() if k != "X-Chatwoot-Timestamp"},
                secret,
                now,
            ),
            "missing timestamp",
        ),
        (
            lambda body, headers, secret, now: (
                body,
                {**headers, "X-Chatwoot-Timestamp": "12abc"},
                secret,
                now,
            ),
            "malformed",
        ),
    ],
)
def test_tampering_is_refused(vector: dict[str, Any], mutate: Any, reason: str) -> None:
    now = int(vector["timestamp"])
    body, headers, secret, when = mutate(
        vector["body"].encode(), vector["headers"], vector["secret"], now
    )
    with pytest.raises(WebhookSignatureError) as caught:
        verify_webhook(body, headers, secret, now=when)
    assert reason in caught.value.reason


def test_decode_rejects_non_objects() -> None:
    with pytest.raises(WebhookPayloadError):
        decode_webhook(b"[1, 2]")
    with pytest.raises(WebhookPayloadError):
        decode_webhook(b"{not json")
    assert decode_webhook(b'{"event": "x"}') == {"event": "x"}
