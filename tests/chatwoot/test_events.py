from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatwoot.events import EventSource, MessageEvent, StatusChanged
from chatwoot.fields import MessageType, SenderType, parse_message_type, parse_time
from chatwoot.models import Message
from chatwoot.parsing import message_event_from_api, parse_event


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, MessageType.INCOMING),
        (1, MessageType.OUTGOING),
        (2, MessageType.ACTIVITY),
        (3, MessageType.TEMPLATE),
        ("incoming", MessageType.INCOMING),
        ("template", MessageType.TEMPLATE),
        (7, None),
        ("bogus", None),
        (True, None),
        (None, None),
    ],
)
def test_message_type_normalised_from_int_and_str(
    raw: object, expected: MessageType | None
) -> None:
    assert parse_message_type(raw) == expected


def test_times_are_aware_utc_from_every_encoding() -> None:
    iso = parse_time("2026-06-17T09:03:10.274Z")
    unix = parse_time(1781686990)
    flt = parse_time(1781687400.218774)
    assert iso == datetime(2026, 6, 17, 9, 3, 10, 274000, tzinfo=UTC)
    assert unix == datetime(2026, 6, 17, 9, 3, 10, tzinfo=UTC)
    assert flt is not None
    assert flt.tzinfo is not None
    assert flt.microsecond == 218774
    assert parse_time("not a time") is None
    assert parse_time(None) is None


def test_unknown_kind_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="chatwoot.parsing"):
        assert parse_event("rocket.launched", {"id": 1}, source=EventSource.CABLE) == []
    assert "rocket.launched" in caplog.text


def test_malformed_known_kind_is_dropped_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    events = parse_event("message.created", {"message_type": 1}, source=EventSource.CABLE)
    assert events == []
    assert "malformed" in caplog.text


def test_unknown_fields_are_tolerated() -> None:
    data = {
        "id": 5,
        "conversation_id": 9,
        "message_type": 1,
        "created_at": 1781686990,
        "content": "hi",
        "brand_new_field": {"x": [1, 2]},
    }
    (event,) = parse_event("message.created", data, source=EventSource.CABLE)
    assert isinstance(event, MessageEvent)
    assert event.message_id == 5
    assert event.inbox_id is None
    assert event.sender_type is None


def test_message_dedupe_keys_match_across_sources_and_split_updates() -> None:
    base = {"id": 9002, "conversation_id": 123, "message_type": 1, "created_at": 1781686990}
    (from_cable,) = parse_event(
        "message.created", {**base, "content": "a"}, source=EventSource.CABLE
    )
    (updated,) = parse_event("message.updated", {**base, "content": "a"}, source=EventSource.CABLE)
    (deleted,) = parse_event(
        "message.updated",
        {**base, "content": "This message was deleted", "content_attributes": {"deleted": True}},
        source=EventSource.CABLE,
    )
    assert from_cable.dedupe_key == "message:9002"
    assert updated.dedupe_key.startswith("message:9002:updated:")
    assert deleted.dedupe_key != updated.dedupe_key
    assert isinstance(deleted, MessageEvent)
    assert deleted.deleted


def test_status_dedupe_key_uses_chatwoot_timestamp() -> None:
    data = {"id": 123, "inbox_id": 7, "status": "resolved", "updated_at": 1781687400.218774}
    (event,) = parse_event("conversation.status_changed", data, source=EventSource.CABLE)
    assert isinstance(event, StatusChanged)
    assert event.dedupe_key == "conversation:123:status:resolved:1781687400218"


def test_api_message_becomes_catchup_event() -> None:
    message = Message(
        id=9002,
        conversation_id=123,
        message_type=MessageType.OUTGOING,
        content="hello",
        content_type="text",
        created_at=datetime(2026, 6, 17, 9, 3, 10, tzinfo=UTC),
        sender_name="Sam Agent",
        sender_type=SenderType.USER,
        sender_id=3,
    )
    event = message_event_from_api(message, inbox_id=7, source_id="teams-1")
    assert event.source is EventSource.CATCHUP
    assert event.kind == "created"
    assert event.private is False
    assert event.dedupe_key == "message:9002"
    assert (event.inbox_id, event.source_id, event.sender_name) == (7, "teams-1", "Sam Agent")
    assert event.shown_to_requester
