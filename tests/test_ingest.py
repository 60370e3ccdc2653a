"""Chatwoot -> us: every webhook shape, duplicates, order, bad deliveries, the cable, catch-up."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text

from chatwoot.webhooks import sign_webhook
from db import teams as teams_repo
from db.models import Message, OutboxItem, Ticket, WebhookReceipt
from sandbox import SandboxServer
from tests.helpdesk import (
    SECRET,
    Client,
    control,
    count,
    form,
    make_ticket,
    new_user,
    payload,
    post_hook,
    state,
)
from tests.waiting import eventually
from tickets import keys
from tickets.deliveries import AgentMessage, from_row


async def test_every_webhook_shape_gives_the_right_ticket_state(app_client: Client) -> None:
    ticket = await make_ticket(app_client)

    for name in (
        "contact_created.json",
        "contact_updated.json",
        "conversation_created.json",
        "webwidget_triggered.json",
        "conversation_typing_on.agent.json",
        "conversation_typing_off.contact.json",
    ):
        status, body = await post_hook(app_client, payload(name))
        assert status == 200, (name, body)
    _, messages, events = await state(app_client, ticket.id)
    assert messages == [] and events == []

    status, _ = await post_hook(app_client, payload("message_created.template_no_sender.json"))
    assert status == 200
    await post_hook(app_client, payload("message_created.incoming.json"))
    await post_hook(app_client, payload("message_created.with_attachment.json"))
    await post_hook(app_client, payload("message_created.outgoing.json"))
    status, body = await post_hook(app_client, payload("message_created.private_note.json"))
    assert status == 200 and body["outcomes"] == ["dropped_private"]

    current, messages, _ = await state(app_client, ticket.id)
    by_id = {m.chatwoot_message_id: m for m in messages}
    assert set(by_id) == {9000, 9001, 9002, 9004}, "private note 9003 must never be stored"
    assert str(by_id[9002].direction) == "agent"
    assert str(by_id[9001].direction) == "requester"
    assert str(by_id[9000].direction) == "agent"
    assert by_id[9004].attachments and by_id[9004].attachments[0]["file_type"]
    assert by_id[9002].content == payload("message_created.outgoing.json")["content"]

    updated = payload("message_updated.json")
    await post_hook(app_client, updated)
    _, messages, _ = await state(app_client, ticket.id)
    assert {m.chatwoot_message_id: m.content for m in messages}[9002] == (updated["content"] or "")

    await post_hook(app_client, payload("conversation_updated.assigned.json"))
    current, _, events = await state(app_client, ticket.id)
    assigned = payload("conversation_updated.assigned.json")["meta"]["assignee"]["name"]
    assert current.assignee_name == assigned
    assert [e.kind for e in events] == ["assigned"]

    await post_hook(app_client, payload("conversation_updated.custom_attributes.json"))
    await post_hook(app_client, payload("conversation_status_changed.json"))
    await post_hook(app_client, payload("conversation_updated.resolved.json"))
    current, _, events = await state(app_client, ticket.id)
    assert str(current.status) == "resolved"
    kinds = [e.kind for e in events]
    assert kinds.count("resolved") == 1, kinds
    assert "updated" in kinds
    assert await count(app_client, WebhookReceipt) >= 15


async def test_same_delivery_three_times_and_out_of_order(app_client: Client) -> None:
    ticket = await make_ticket(app_client)
    reply = payload("message_created.outgoing.json")
    outcomes = [(await post_hook(app_client, reply))[1]["outcomes"] for _ in range(3)]
    assert outcomes == [["stored"], ["duplicate"], ["duplicate"]]

    resolved = payload("conversation_status_changed.json")
    reopened = json.loads(json.dumps(resolved))
    reopened["status"] = "open"
    reopened["timestamp"] = reopened["updated_at"] = resolved["updated_at"] + 60
    for item in reopened.get("changed_attributes") or []:
        if "status" in item:
            item["status"] = {"previous_value": "resolved", "current_value": "open"}
    # The later reopen arrives first, then the older resolve, then the reopen again.
    await post_hook(app_client, reopened)
    await post_hook(app_client, resolved)
    await post_hook(app_client, reopened)
    current, messages, events = await state(app_client, ticket.id)
    assert [m.chatwoot_message_id for m in messages] == [reply["id"]]
    assert str(current.status) == "open"
    assert [e.kind for e in events] == []  # open -> open is no change; stale resolve dropped


async def test_new_message_is_stored_with_its_delivery_and_receipt_in_one_go(
    app_client: Client,
) -> None:
    ticket = await make_ticket(app_client)
    async with app_client.app[keys.SESSIONMAKER].begin() as session:
        await teams_repo.save_reference(
            session,
            user_id=ticket.requester_id,
            tenant_id="t1",
            conversation_id="a:chat-1",
            service_url="http://127.0.0.1:9/",
            reference={"conversation": {"id": "a:chat-1"}},
        )
    reply = payload("message_created.outgoing.json")
    reply["content_type"] = "input_select"
    reply["content_attributes"] = {"items": [{"title": "Sim", "value": "y"}]}
    outcomes = [(await post_hook(app_client, reply))[1]["outcomes"] for _ in range(2)]
    assert outcomes == [["stored"], ["duplicate"]]
    _, messages, _ = await state(app_client, ticket.id)
    [stored] = messages
    async with app_client.app[keys.SESSIONMAKER]() as session:
        [row] = (await session.execute(select(OutboxItem))).scalars().all()
        receipts = (
            await session.execute(select(WebhookReceipt).order_by(WebhookReceipt.id))
        ).scalars()
        assert [(r.event, r.outcome) for r in receipts] == [
            ("message_created", "stored"),
            ("message_created", "duplicate"),
        ]
    assert (row.kind, row.target, row.dedupe_key) == (
        "agent_message",
        "a:chat-1",
        f"msg:{reply['id']}:a:chat-1",
    )
    assert from_row(row.kind, row.payload, row.ticket_id) == AgentMessage(
        ticket_id=ticket.id,
        title="Printer on fire",
        author=stored.author,
        content=f"{stored.content}\n• Sim",
        message_id=stored.id,
        created_at=stored.created_at,
    )


async def test_a_message_for_no_ticket_is_parked_with_its_receipt(app_client: Client) -> None:
    status, body = await post_hook(app_client, payload("message_created.outgoing.json"))
    assert (status, body["outcomes"]) == (200, ["parked"])
    async with app_client.app[keys.SESSIONMAKER]() as session:
        outcomes = (await session.execute(select(WebhookReceipt.outcome))).scalars().all()
        parked = await session.scalar(text("SELECT count(*) FROM parked_events"))
    assert (list(outcomes), parked) == (["parked"], 1)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("bad_token", 401),
        ("bad_signature", 401),
        ("stale", 401),
        ("truncated", 400),
        ("not_object", 400),
    ],
)
async def test_bad_deliveries_are_rejected_and_store_nothing(
    app_client: Client, case: str, expected: int
) -> None:
    ticket = await make_ticket(app_client)
    body = payload("message_created.outgoing.json")
    raw = json.dumps(body).encode()
    if case == "bad_token":
        status, answer = await post_hook(app_client, body, token="wrong")
    elif case == "bad_signature":
        status, answer = await post_hook(app_client, body, signature="sha256=" + "0" * 64)
    elif case == "stale":
        status, answer = await post_hook(app_client, body, timestamp=int(time.time()) - 301)
    elif case == "truncated":
        status, answer = await post_hook(app_client, raw[: len(raw) // 2])
    else:
        status, answer = await post_hook(app_client, b"[1, 2, 3]")
    assert status == expected
    assert "error" in answer
    _, messages, events = await state(app_client, ticket.id)
    assert messages == [] and events == []
    assert await count(app_client, WebhookReceipt) == 0


async def test_tampered_body_with_a_valid_signature_of_another_body(app_client: Client) -> None:
    await make_ticket(app_client)
    body = payload("message_created.outgoing.json")
    stamp = str(int(time.time()))
    signature = sign_webhook(json.dumps(body).encode(), SECRET, stamp)
    body["content"] = "tampered"
    status, _ = await post_hook(app_client, body, signature=signature, timestamp=int(stamp))
    assert status == 401
    assert await count(app_client, Message) == 0


async def test_agent_side_reaches_us_and_private_notes_never_do(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id
    await control(
        sandbox,
        f"conversations/{cid}/messages",
        {"content": "SECRET internal note", "private": True, "agent": "Carla"},
    )
    await control(
        sandbox,
        f"conversations/{cid}/messages",
        {"content": "Olá! Vou verificar.", "private": False, "agent": "Carla"},
    )
    await control(sandbox, f"conversations/{cid}/assign", {"agent": "Carla"})
    await control(sandbox, f"conversations/{cid}/status", {"status": "resolved"})

    async def resolved() -> bool:
        return (await service.get_ticket(user_id, info.id)).status == "resolved"

    await eventually(resolved)
    items = await service.timeline(user_id, info.id)
    contents = [i.content for i in items if i.kind == "message"]
    assert contents[1:] == ["Olá! Vou verificar."]
    assert [i.kind for i in items if i.kind != "message"] == ["assigned", "resolved"]
    assert (await service.get_ticket(user_id, info.id)).assignee == "Carla"
    async with app_client.app[keys.SESSIONMAKER]() as session:
        texts = " ".join(
            str(row) for row in (await session.execute(select(Message.content))).scalars()
        )
        outbox = (await session.execute(select(OutboxItem.payload))).scalars().all()
    assert "SECRET" not in texts
    assert "SECRET" not in json.dumps(outbox)

    await service.post_message(user_id, info.id, "Ainda não funciona", origin=Origin.WEB)
    await eventually(lambda: _status_is(service, user_id, info.id, "open"))
    items = await service.timeline(user_id, info.id)
    assert [i.kind for i in items if i.kind != "message"] == ["assigned", "resolved", "reopened"]
    requester = [i for i in items if i.direction == "requester"]
    assert [i.content for i in requester][-1] == "Ainda não funciona"
    assert len(requester) == 2  # our own message echoed back by webhook and cable: stored once


async def _status_is(service: Any, user_id: int, ticket_id: int, status: str) -> bool:
    return bool((await service.get_ticket(user_id, ticket_id)).status == status)


async def test_other_inboxes_are_dropped(app_client: Client, sandbox: SandboxServer) -> None:
    await control(sandbox, "foreign_conversations", {"content": "not ours"})
    await sandbox.drain_webhooks()
    assert await count(app_client, Message) == 0
    assert await count(app_client, Ticket) == 0


async def test_cable_cut_mid_conversation_every_agent_message_once(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin

    # Only the cable (and catch-up) may deliver in this test.
    await control(sandbox, "webhook", {"url": None})
    service = app_client.app[keys.SERVICE]
    relay = app_client.app[keys.RELAY]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id

    async def subscribed() -> bool:
        listener = relay.listener
        return listener is not None and len(listener.subscribed) == 1

    await eventually(subscribed)
    sent = []
    for n in range(3):
        text = f"antes {n}"
        sent.append(text)
        await control(sandbox, f"conversations/{cid}/messages", {"content": text, "agent": "Rui"})
    await control(sandbox, "faults", {"cable_cut": True})
    for n in range(3):
        text = f"durante {n}"
        sent.append(text)
        await control(sandbox, f"conversations/{cid}/messages", {"content": text, "agent": "Rui"})

    async def all_there() -> bool:
        items = await service.timeline(user_id, info.id)
        return [i.content for i in items if i.direction == "agent"] == sent

    await eventually(all_there, timeout=20)
    assert relay.catch_ups >= 2
    async with app_client.app[keys.SESSIONMAKER]() as session:
        agent_rows = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "agent")
        )
    assert agent_rows == len(sent)


async def test_catch_up_reads_a_gap_below_our_newest_message(
    app_client: Client, sandbox: SandboxServer
) -> None:
    """An agent reply missed by webhook and cable, then an employee message: catch-up finds it."""
    from db.models import Origin

    relay = app_client.app[keys.RELAY]
    await relay.stop()  # no cable
    await control(sandbox, "webhook", {"url": None})  # no webhooks
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id
    await control(sandbox, f"conversations/{cid}/messages", {"content": "missed", "agent": "Rui"})
    await service.post_message(user_id, info.id, "newer, ours", origin=Origin.WEB)
    assert await relay.catch_up() is True
    contents = [i.content for i in await service.timeline(user_id, info.id)]
    # Timeline ids are arrival order (the resume cursor), so the late one comes last.
    assert sorted(contents[1:]) == ["missed", "newer, ours"]
    assert await relay.catch_up() is True  # a second read adds nothing
    assert [i.content for i in await service.timeline(user_id, info.id)] == contents


async def test_a_failed_cable_ingest_asks_for_a_catch_up(
    app_client: Client, sandbox: SandboxServer
) -> None:
    """The cable does not redeliver: a reply whose ingest failed arrives through a catch-up."""
    from db.models import Origin

    relay = app_client.app[keys.RELAY]
    await control(sandbox, "webhook", {"url": None})  # only the cable carries the reply
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)

    async def subscribed() -> bool:
        return relay.listener is not None and len(relay.listener.subscribed) == 1

    await eventually(subscribed)
    # A real database fault for this one reply: PostgreSQL refuses to store it, and counts the
    # refusals in a sequence (which a rollback does not undo).
    engine = app_client.app[keys.ENGINE]
    async with engine.begin() as connection:
        for statement in POISON:
            await connection.execute(text(statement))
    await control(
        sandbox,
        f"conversations/{info.chatwoot_conversation_id}/messages",
        {"content": "poison", "agent": "Rui"},
    )

    async def refused_and_asked() -> bool:
        return relay.catch_up_requests["failed ingest"] >= 1

    await eventually(refused_and_asked, timeout=15)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TRIGGER refuse_poison ON messages"))

    async def arrived() -> bool:
        items = await service.timeline(user_id, info.id)
        return any(i.content == "poison" for i in items)

    # Nothing else would read it back within the test: webhooks are off, the periodic
    # catch-up runs every five minutes.
    await eventually(arrived, timeout=30)
    async with engine.connect() as connection:
        refused = await connection.scalar(text("SELECT is_called FROM poison_refusals"))
    assert refused is True  # the reply really was refused once before it arrived


POISON = (
    "CREATE SEQUENCE poison_refusals",
    """CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('poison_refusals');
        RAISE EXCEPTION 'refused for the test';
    END $$""",
    """CREATE TRIGGER refuse_poison BEFORE INSERT ON messages
    FOR EACH ROW WHEN (NEW.content = 'poison') EXECUTE FUNCTION refuse_poison()""",
)


async def _true_when(value: bool) -> bool:
    return value


async def test_overload_is_shed_with_503_and_read_back_later(app_client: Client) -> None:
    from web.keys import WEBHOOK_LOAD

    ticket = await make_ticket(app_client)
    load = app_client.app[WEBHOOK_LOAD]
    relay = app_client.app[keys.RELAY]
    before = relay.catch_ups
    load.limit = 0
    status, body = await post_hook(app_client, payload("message_created.outgoing.json"))
    assert status == 503
    assert "overloaded" in body["error"]
    assert load.shed == 1
    await eventually(lambda: _true_when(relay.catch_ups > before))
    load.limit = 10
    status, _ = await post_hook(app_client, payload("message_created.outgoing.json"))
    assert status == 200
    assert load.inflight == 0
    _, messages, _ = await state(app_client, ticket.id)
    assert len(messages) == 1
