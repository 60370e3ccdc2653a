"""The sandbox's account webhooks: Chatwoot's bodies, headers, signature, ordering."""

from __future__ import annotations

import hashlib
import hmac
import time

from sandbox import SandboxConfig, SandboxServer
from tests.chatwoot.sandbox_support import (
    SECRET,
    Api,
    Delivery,
    WebhookReceiver,
    assert_same_keys,
    drain,
    load_payload,
)


def verify(delivery: Delivery, secret: str) -> bool:
    """Verify a delivery the way §2.3 says: HMAC-SHA256 over ``timestamp.raw_body``."""
    timestamp = delivery.headers["X-Chatwoot-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + delivery.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(delivery.headers["X-Chatwoot-Signature"], "sha256=" + expected)


def test_verification_matches_chatwoot_vector() -> None:
    vector = load_payload("webhooks", "_delivery_headers_and_signature_vector.json")
    delivery = Delivery(
        {
            "X-Chatwoot-Timestamp": vector["timestamp"],
            "X-Chatwoot-Signature": vector["expected_signature"],
        },
        vector["body"].encode(),
    )
    assert verify(delivery, vector["secret"])
    assert not verify(delivery, "wrong-secret")


async def scenario(api: Api) -> int:
    """Run the reference scenario: contact, conversation, message, assign, reply, note, resolve."""
    await api.contact()
    conv = await api.conversation(ticket_ref="TCK-1", source="teams")
    cid = int(conv["id"])
    await api.message(cid, "My laptop won't boot", echo_id="tmp-1")
    await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam Agent"})
    await api.control("POST", f"/conversations/{cid}/messages", {"content": "Looking into it"})
    await api.control(
        "POST", f"/conversations/{cid}/messages", {"content": "check warranty", "private": True}
    )
    await api.control("POST", f"/conversations/{cid}/status", {"status": "resolved"})
    await drain(api.sb)
    return cid


async def test_every_event_has_chatwoot_shape_and_valid_signature(
    api: Api, hooks: WebhookReceiver
) -> None:
    await scenario(api)
    # contact events travel on their own queue; a conversation's events keep their order
    assert [e for e in hooks.events() if not e.startswith("contact_")] == [
        "conversation_created",
        "message_created",
        "conversation_updated",
        "message_created",
        "message_created",
        "conversation_status_changed",
        "conversation_updated",
    ]
    assert sorted(e for e in hooks.events() if e.startswith("contact_")) == [
        "contact_created",
        "contact_updated",
    ]
    now = time.time()
    for d in hooks.deliveries:
        assert verify(d, SECRET), d.event
        assert abs(int(d.headers["X-Chatwoot-Timestamp"]) - now) < 60
        assert d.headers["Content-Type"] == "application/json"
        assert d.headers["Accept"] == "application/json"
        assert len(d.headers["X-Chatwoot-Delivery"]) == 36
        assert b": " not in d.body[:200]  # compact, like Rails
    assert len({d.headers["X-Chatwoot-Delivery"] for d in hooks.deliveries}) == len(
        hooks.deliveries
    )

    created = [d.json for d in hooks.of("message_created")]
    incoming, reply, note = created
    assert_same_keys(incoming, load_payload("webhooks", "message_created.incoming.json"))
    assert incoming["message_type"] == "incoming"
    assert incoming["conversation"]["custom_attributes"] == {
        "ticket_ref": "TCK-1",
        "source": "teams",
    }
    assert_same_keys(reply, load_payload("webhooks", "message_created.outgoing.json"))
    assert reply["message_type"] == "outgoing"
    assert reply["private"] is False
    assert_same_keys(note, load_payload("webhooks", "message_created.private_note.json"))
    assert note["private"] is True
    assert note["message_type"] == "outgoing"
    # the conversation object carries the last *chat* message, never the note itself
    assert note["conversation"]["messages"][0]["content"] == "Looking into it"

    assert_same_keys(
        hooks.of("contact_created")[0].json, load_payload("webhooks", "contact_created.json")
    )
    assert_same_keys(
        hooks.of("contact_updated")[0].json, load_payload("webhooks", "contact_updated.json")
    )
    assert_same_keys(
        hooks.of("conversation_created")[0].json,
        load_payload("webhooks", "conversation_created.json"),
    )
    assigned, resolved = (d.json for d in hooks.of("conversation_updated"))
    assert_same_keys(assigned, load_payload("webhooks", "conversation_updated.assigned.json"))
    assert [next(iter(c)) for c in assigned["changed_attributes"]] == ["assignee_id", "updated_at"]
    assert assigned["changed_attributes"][0]["assignee_id"]["previous_value"] is None
    assert assigned["meta"]["assignee"]["name"] == "Sam Agent"
    assert_same_keys(resolved, load_payload("webhooks", "conversation_updated.resolved.json"))
    assert resolved["changed_attributes"][0] == {
        "status": {"previous_value": "open", "current_value": "resolved"}
    }
    status_changed = hooks.of("conversation_status_changed")[0].json
    assert_same_keys(status_changed, load_payload("webhooks", "conversation_status_changed.json"))
    assert status_changed["changed_attributes"] is None
    assert status_changed["status"] == "resolved"


async def test_activity_messages_never_reach_webhooks(api: Api, hooks: WebhookReceiver) -> None:
    cid = await scenario(api)
    activities = [m for m in api.sb.state.conversations[cid].messages if m.message_type == 2]
    assert len(activities) == 2  # assignment and resolve lines exist on the agent side
    sent_ids = {d.json.get("id") for d in hooks.of("message_created")}
    assert not sent_ids & {m.id for m in activities}


async def test_update_last_seen_sends_message_updated_for_replies_and_notes(
    api: Api, hooks: WebhookReceiver
) -> None:
    cid = await scenario(api)
    hooks.deliveries.clear()
    await api.call("POST", f"/contacts/teams-jane/conversations/{cid}/update_last_seen")
    await drain(api.sb)
    updated = [d.json for d in hooks.of("message_updated")]
    assert [(u["content"], u["private"]) for u in updated] == [
        ("Looking into it", False),
        ("check warranty", True),
    ]
    assert_same_keys(updated[0], load_payload("webhooks", "message_updated.json"))


async def test_typing_webhooks(api: Api, hooks: WebhookReceiver) -> None:
    await api.contact()
    conv = await api.conversation()
    await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{conv['id']}/toggle_typing",
        json={"typing_status": "off"},
    )
    await api.control("POST", f"/conversations/{conv['id']}/typing", {"agent": "Sam"})
    await drain(api.sb)
    off, on = (
        hooks.of("conversation_typing_off")[0].json,
        hooks.of("conversation_typing_on")[0].json,
    )
    assert_same_keys(off, load_payload("webhooks", "conversation_typing_off.contact.json"))
    assert_same_keys(on, load_payload("webhooks", "conversation_typing_on.agent.json"))
    assert on["user"]["type"] == "user"


async def test_events_of_one_conversation_arrive_in_order(api: Api, hooks: WebhookReceiver) -> None:
    await api.contact()
    conv = await api.conversation()
    hooks.delay = 0.01  # a slow receiver must not let later events overtake earlier ones
    for i in range(10):
        await api.control("POST", f"/conversations/{conv['id']}/messages", {"content": f"r{i}"})
    await drain(api.sb)
    assert [d.json["content"] for d in hooks.of("message_created")] == [f"r{i}" for i in range(10)]


async def test_failed_delivery_is_not_retried(api: Api, hooks: WebhookReceiver) -> None:
    hooks.status = 500
    await api.contact()
    await drain(api.sb)
    assert hooks.events() == ["contact_created"]
    status, log = await api.control("GET", "/webhook/deliveries")
    assert status == 200
    assert log[-1]["outcome"] == "500"


async def test_foreign_inbox_events_carry_the_other_inbox(api: Api, hooks: WebhookReceiver) -> None:
    status, conv = await api.control("POST", "/foreign_conversations", {"content": "elsewhere"})
    assert status == 200
    await drain(api.sb)
    msg = hooks.of("message_created")[0].json
    assert msg["inbox"]["id"] == api.sb.config.inbox_id + 1
    assert msg["conversation"]["inbox_id"] == conv["inbox_id"] != api.sb.config.inbox_id
    # and the conversation is invisible through our inbox's Client API
    status, _ = await api.call("GET", "/contacts/anything/conversations")
    assert status == 404


async def test_no_secret_means_no_signature_headers(hooks: WebhookReceiver) -> None:
    async with SandboxServer(SandboxConfig(webhook_url=hooks.url)) as server:
        server.desk.create_contact(server.state.inbox, {"name": "Unsigned"})
        await drain(server)
    (delivery,) = hooks.deliveries
    assert "X-Chatwoot-Signature" not in delivery.headers
    assert "X-Chatwoot-Timestamp" not in delivery.headers
    assert "X-Chatwoot-Delivery" in delivery.headers


async def test_webhook_target_can_be_reconfigured(api: Api, hooks: WebhookReceiver) -> None:
    other = WebhookReceiver()
    await other.start()
    try:
        status, body = await api.control(
            "POST", "/webhook", {"url": other.url, "secret": "another-secret"}
        )
        # The answer names the target but holds neither the URL's token nor the secret.
        shown = other.url.split("?")[0] + "?[redacted]"
        assert (status, body) == (200, {"url": shown, "secret_set": True})
        await api.contact()
        await drain(api.sb)
        assert hooks.deliveries == []
        assert other.events() == ["contact_created"]
        assert verify(other.deliveries[0], "another-secret")
    finally:
        await other.stop()
