"""Chatwoot -> us: every webhook shape, duplicates, order, bad deliveries, and the cable."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from chatwoot.webhooks import sign_webhook
from db.models import Message, OutboxItem, Ticket, TicketEvent, User, WebhookReceipt
from sandbox import SandboxServer
from tests.conftest import WEBHOOK_SECRET, WEBHOOK_TOKEN
from tickets import keys

Client = TestClient[web.Request, web.Application]
PAYLOADS = Path(__file__).parent / "fixtures" / "chatwoot" / "payloads" / "webhooks"
SECRET = WEBHOOK_SECRET
TOKEN = WEBHOOK_TOKEN


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


async def post_hook(
    client: Client,
    body: dict[str, Any] | bytes,
    *,
    token: str = TOKEN,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Chatwoot-Timestamp": stamp,
        "X-Chatwoot-Signature": signature or sign_webhook(raw, secret, stamp),
        "X-Chatwoot-Delivery": f"d-{time.monotonic_ns()}",
    }
    response = await client.post(f"/api/chatwoot/webhook?token={token}", data=raw, headers=headers)
    return response.status, await response.json()


async def make_ticket(client: Client, conversation_id: int = 123) -> Ticket:
    """Insert a user and a ticket bound to a known conversation (the fixtures use 123)."""
    sessions = client.app[keys.SESSIONMAKER]
    async with sessions.begin() as session:
        user = User(email=f"u{conversation_id}@example.com", display_name="Jane Doe")
        session.add(user)
        await session.flush()
        ticket = Ticket(
            requester_id=user.id,
            title="Printer on fire",
            description="",
            complexity="baixa",
            sector="TI",
            chatwoot_conversation_id=conversation_id,
            origin="web",
        )
        session.add(ticket)
    return ticket


async def state(client: Client, ticket_id: int) -> tuple[Ticket, list[Message], list[TicketEvent]]:
    async with client.app[keys.SESSIONMAKER]() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        messages = (
            await session.execute(select(Message).where(Message.ticket_id == ticket_id))
        ).scalars()
        events = (
            await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
        ).scalars()
        return ticket, list(messages), list(events)


async def count(client: Client, model: type[Any]) -> int:
    async with client.app[keys.SESSIONMAKER]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


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


# ---- the whole loop through the sandbox --------------------------------------------------


async def control(sandbox: SandboxServer, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        if body is None:
            response = await http.get(f"/sandbox/api/{path}")
        else:
            response = await http.post(f"/sandbox/api/{path}", json=body)
        response.raise_for_status()
        return response.json()


async def sandbox_conversations(sandbox: SandboxServer) -> list[dict[str, Any]]:
    data = await control(sandbox, "conversations")
    return list(data["conversations"] if isinstance(data, dict) else data)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def new_user(client: Client, email: str = "ana@example.com") -> int:
    async with client.app[keys.SESSIONMAKER].begin() as session:
        user = User(email=email, display_name="Ana Souza")
        session.add(user)
        await session.flush()
        return user.id


def form(**overrides: Any) -> Any:
    from tickets.forms import validate_ticket_form

    raw = {
        "title": "VPN não conecta",
        "description": "Desde ontem.",
        "complexity": "media",
        "sector": "TI",
        **overrides,
    }
    return validate_ticket_form(raw, complexities=["baixa", "media", "alta"], sectors=["TI", "RH"])


async def test_open_ticket_puts_every_field_in_chatwoot(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(
        user_id,
        form(for_other="on", beneficiary_name="Bia Lima", beneficiary_email="bia@example.com"),
        origin=Origin.WEB,
    )
    conversations = await sandbox_conversations(sandbox)
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation["id"] == info.chatwoot_conversation_id
    attributes = conversation["custom_attributes"]
    assert attributes["title"] == "VPN não conecta"
    assert attributes["complexity"] == "media"
    assert attributes["sector"] == "TI"
    assert attributes["requester"] == "Ana Souza"
    assert attributes["beneficiary"] == "Bia Lima"
    assert attributes["beneficiary_email"] == "bia@example.com"
    first = conversation["messages"][0]
    assert first["content"] == "VPN não conecta\n\nDesde ontem."
    items = await service.timeline(user_id, info.id)
    assert [(i.direction, i.content) for i in items] == [("requester", first["content"])]
    # A second ticket reuses the same Chatwoot contact.
    await service.open_ticket(user_id, form(title="Outro"), origin=Origin.WEB)
    conversations = await sandbox_conversations(sandbox)
    sources = {
        c["contact"]["source_id"] if "contact" in c else c.get("source_id") for c in conversations
    }
    assert len(conversations) == 2 and len(sources) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"http_status": 500},
        {"http_status": 429},
        {"http_status": 503, "count": 1},
        {"delay_after_ms": 1500},
    ],
)
async def test_open_ticket_while_chatwoot_fails_leaves_nothing_and_retry_makes_one(
    app_client: Client, sandbox: SandboxServer, fault: dict[str, Any]
) -> None:
    from db.models import Origin
    from tickets.errors import HelpdeskUnavailable

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    await service.ensure_contact(user_id)
    service.chatwoot._http.timeout = httpx.Timeout(0.5)
    await control(sandbox, "faults", fault)
    with pytest.raises(HelpdeskUnavailable):
        await service.open_ticket(user_id, form(), origin=Origin.WEB)
    assert await count(app_client, Ticket) == 0
    await control(sandbox, "faults", {})
    await asyncio.sleep(0.02 if "delay_after_ms" not in fault else 1.6)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    conversations = await sandbox_conversations(sandbox)
    assert [c["id"] for c in conversations] == [info.chatwoot_conversation_id]
    first_messages = [m for m in conversations[0]["messages"] if m["message_type"] == "incoming"]
    assert len(first_messages) == 1
    assert await count(app_client, Ticket) == 1


async def test_idempotency_key_makes_one_ticket(app_client: Client, sandbox: SandboxServer) -> None:
    from db.models import Origin

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    first = await service.open_ticket(user_id, form(), origin=Origin.TEAMS, idempotency_key="f1")
    again = await service.open_ticket(user_id, form(), origin=Origin.TEAMS, idempotency_key="f1")
    assert first.id == again.id
    assert len(await sandbox_conversations(sandbox)) == 1


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
    from db.models import Origin

    relay = app_client.app[keys.RELAY]
    await control(sandbox, "webhook", {"url": None})
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    before = relay.catch_ups
    relay.request_catch_up()
    await eventually(lambda: _true_when(relay.catch_ups > before))
    await control(
        sandbox,
        f"conversations/{info.chatwoot_conversation_id}/messages",
        {"content": "via catch-up or cable", "agent": "Rui"},
    )

    async def arrived() -> bool:
        items = await service.timeline(user_id, info.id)
        return any(i.content == "via catch-up or cable" for i in items)

    await eventually(arrived, timeout=15)


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


async def test_an_orphan_is_adopted_only_by_the_request_that_made_it(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin
    from tickets.errors import HelpdeskUnavailable

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    await service.ensure_contact(user_id)
    service.chatwoot._http.timeout = httpx.Timeout(0.5)  # the slow fault must time out
    await control(sandbox, "faults", {"delay_after_ms": 1500})
    with pytest.raises(HelpdeskUnavailable):
        await service.open_ticket(user_id, form(title="Impressora"), origin=Origin.WEB)
    await control(sandbox, "faults", {})
    await asyncio.sleep(1.6)
    other = await service.open_ticket(user_id, form(title="VPN fora do ar"), origin=Origin.WEB)
    retried = await service.open_ticket(user_id, form(title="Impressora"), origin=Origin.WEB)
    conversations = {c["id"]: c for c in await sandbox_conversations(sandbox)}
    assert len(conversations) == 2
    first_of = {cid: c["messages"][0]["content"] for cid, c in conversations.items()}
    assert first_of[other.chatwoot_conversation_id].startswith("VPN fora do ar")
    assert first_of[retried.chatwoot_conversation_id].startswith("Impressora")


async def test_current_ticket_and_recent_are_owner_scoped(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin
    from tickets.errors import TicketNotFound

    service = app_client.app[keys.SERVICE]
    ana = await new_user(app_client, "ana@example.com")
    bia = await new_user(app_client, "bia@example.com")
    mine = await service.open_ticket(ana, form(), origin=Origin.WEB)
    theirs = await service.open_ticket(bia, form(title="Outro"), origin=Origin.WEB)
    await service.set_current_ticket(ana, theirs.id)
    await service.set_current_ticket(ana, 999_999_999)  # unknown id: no error, no change
    async with app_client.app[keys.SESSIONMAKER]() as session:
        user = await session.get(User, ana)
        assert user is not None
        assert user.current_ticket_id == mine.id
    for n in range(25):
        await service.post_message(ana, mine.id, f"m{n}", origin=Origin.WEB)
    recent = await service.recent(ana, mine.id, limit=5)
    assert [item.content for item in recent] == ["m20", "m21", "m22", "m23", "m24"]
    with pytest.raises(TicketNotFound):
        await service.recent(ana, theirs.id)
