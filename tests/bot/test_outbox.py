"""The outbox worker against the fake connector: delivery, faults, order, limits, exactly once."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxWorker
from db.engine import make_engine, make_sessionmaker
from db.models import OutboxState, ReferenceState, TeamsConversationRef
from db.outbox import claim_due, heartbeat
from tests.bot.outbox_setup import (
    add_employee,
    add_ticket,
    card_texts,
    make_worker,
    queue,
    queue_agent_message,
    rows,
)
from tests.fakes import connector as fc
from tests.fakes.connector import FakeConnector

Sessions = async_sessionmaker[AsyncSession]


async def settled(sessions: Sessions, *, timeout: float = 40.0) -> None:
    """Wait until no row is pending any more (a hang guard: a loaded machine took over 15 s)."""
    deadline = time.monotonic() + timeout
    while any(row.state is OutboxState.PENDING for row in await rows(sessions)):
        assert time.monotonic() < deadline, "outbox rows still pending"
        await asyncio.sleep(0.05)


async def passes(worker: OutboxWorker, count: int = 3) -> None:
    """Wait until the worker has looked for due rows `count` more times (nothing is left to do)."""
    target = worker.stats.passes + count
    deadline = time.monotonic() + 15
    while worker.stats.passes < target:
        assert time.monotonic() < deadline, "the worker stopped polling"
        await asyncio.sleep(0.05)


async def reference_state(sessions: Sessions, conversation_id: str) -> ReferenceState:
    async with sessions() as session:
        state = await session.scalar(
            select(TeamsConversationRef.state).where(
                TeamsConversationRef.conversation_id == conversation_id
            )
        )
    assert state is not None
    return state


async def test_agent_reply_arrives_as_an_answerable_card(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="Printer down")
    assert await queue_agent_message(sessionmaker, ana, ticket, "Try turning it off and on")
    [post] = await connector.wait_for(ana.conversation_id)
    text = str(post.card)
    assert "Printer down" in text and "Carla" in text and "Try turning it off and on" in text
    assert post.card is not None and post.card["actions"][0]["verb"] == "ticket.reply"
    assert any(item.get("id") == "reply" for item in post.card["body"])
    await settled(sessionmaker)
    [row] = await rows(sessionmaker)
    assert row.state is OutboxState.SENT and row.activity_id == post.activity_id
    assert row.claimed_by is None and row.attempts == 1


async def test_429_with_retry_after_holds_the_whole_tenant_and_keeps_order(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    bia = await add_employee(sessionmaker, connector.url)
    ticket_a, ticket_b = await add_ticket(sessionmaker, ana), await add_ticket(sessionmaker, bia)
    connector.script(ana.conversation_id, [fc.throttled(2)])
    for n in range(4):
        await queue_agent_message(sessionmaker, ana, ticket_a, f"a{n}")
    [throttled] = [r for r in await _first(connector, ana.conversation_id) if r.status == 429]
    for n in range(4):
        await queue_agent_message(sessionmaker, bia, ticket_b, f"b{n}")
    await connector.wait_for(ana.conversation_id, 4)
    await connector.wait_for(bia.conversation_id, 4)
    everything = connector.activities(ana.conversation_id) + connector.activities(
        bia.conversation_id
    )
    early = [r for r in everything if throttled.at < r.at < throttled.at + 2.0]
    assert early == [], "sent to a throttled tenant before Retry-After ran out"
    assert [_content(r.card) for r in connector.sent(ana.conversation_id)] == [
        f"a{n}" for n in range(4)
    ]
    assert [_content(r.card) for r in connector.sent(bia.conversation_id)] == [
        f"b{n}" for n in range(4)
    ]
    await settled(sessionmaker)
    assert worker.stats.throttled == 1 and connector.breaches == []
    # A throttled send is not counted as an attempt.
    assert [row.attempts for row in await rows(sessionmaker)] == [1] * 8


async def test_503_twice_then_201_is_delivered_once(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.unavailable(503), fc.unavailable(503)])
    await queue_agent_message(sessionmaker, ana, ticket, "hello")
    await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    calls = connector.activities(ana.conversation_id)
    assert [c.status for c in calls] == [503, 503, 201]
    [row] = await rows(sessionmaker)
    assert row.state is OutboxState.SENT and row.attempts == 3


async def test_transient_faults_give_up_after_bounded_attempts(
    sessionmaker: Sessions, connector: FakeConnector, database_url: str
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.unavailable(502)] * 3)
    await queue_agent_message(sessionmaker, ana, ticket, "never")
    await queue_agent_message(sessionmaker, ana, ticket, "next one still goes")
    worker = make_worker(sessionmaker, database_url, poll=0.2, max_attempts=3)
    await worker.start()
    try:
        await settled(sessionmaker)
    finally:
        await worker.stop()
    first, second = await rows(sessionmaker)
    assert first.state is OutboxState.FAILED and first.attempts == 3
    assert first.last_error is not None and "gave up after 3 attempts" in first.last_error
    assert second.state is OutboxState.SENT
    assert [c.status for c in connector.activities(ana.conversation_id)] == [502, 502, 502, 201]


async def test_blocked_stops_marks_the_reference_and_retries_nothing(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.blocked()])
    for n in range(3):
        await queue_agent_message(sessionmaker, ana, ticket, f"m{n}")
    await settled(sessionmaker)
    await passes(worker)  # several polls: nothing may be retried
    assert len(connector.activities(ana.conversation_id)) == 1
    assert await reference_state(sessionmaker, ana.conversation_id) is ReferenceState.BLOCKED
    states = [row.state for row in await rows(sessionmaker)]
    assert states == [OutboxState.CANCELLED] * 3
    # Later events for a blocked chat are not even queued by ingest (inactive reference),
    # and a row queued anyway is never claimed.
    await queue_agent_message(sessionmaker, ana, ticket, "after block")
    await passes(worker)
    assert len(connector.activities(ana.conversation_id)) == 1


async def test_uninstalled_marks_the_reference(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.not_installed()])
    await queue_agent_message(sessionmaker, ana, ticket, "hello")
    await settled(sessionmaker)
    assert await reference_state(sessionmaker, ana.conversation_id) is ReferenceState.UNINSTALLED


async def test_gone_conversation_is_recreated_once_and_delivered_once(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.gone()])
    for n in range(3):
        await queue_agent_message(sessionmaker, ana, ticket, f"m{n}")
    await settled(sessionmaker)
    [created] = connector.created
    assert created["members"][0]["id"] == ana.oid
    assert created["channelData"]["tenant"]["id"] == ana.tenant
    new_chat = created["id"]
    assert [_content(r.card) for r in connector.sent(new_chat)] == ["m0", "m1", "m2"]
    assert connector.sent(ana.conversation_id) == []
    assert await reference_state(sessionmaker, ana.conversation_id) is ReferenceState.GONE
    assert await reference_state(sessionmaker, new_chat) is ReferenceState.ACTIVE
    assert {row.target for row in await rows(sessionmaker)} == {new_chat}
    assert worker.stats.recreated == 1


async def test_too_large_falls_back_to_a_link_to_the_web_page(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    connector.script(ana.conversation_id, [fc.too_large()])
    await queue_agent_message(sessionmaker, ana, ticket, "huge")
    [post] = await connector.wait_for(ana.conversation_id)
    assert post.text is not None and f"http://127.0.0.1:3978/tickets/{ticket}" in post.text
    await settled(sessionmaker)
    [row] = await rows(sessionmaker)
    assert row.state is OutboxState.SENT


async def test_status_changes_update_the_card_in_place_and_post_one_line(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="VPN", card_activity="card-1")
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:1")
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:2")
    line = {"ticket_id": ticket, "title": "VPN", "event": "resolved", "status": "resolved"}
    await queue(sessionmaker, ana, ticket, "status_line", line, "line:2")
    await settled(sessionmaker)
    # Two queued updates render the same current state: one PUT is enough.
    [update] = connector.updates(ana.conversation_id)
    assert update.activity_id == "card-1" and "VPN" in str(update.card)
    [post] = connector.sent(ana.conversation_id)
    assert post.text == f"✅ Ticket #{ticket} “VPN” was resolved."
    states = [row.state for row in await rows(sessionmaker)]
    assert states == [OutboxState.CANCELLED, OutboxState.SENT, OutboxState.SENT]


async def test_card_update_without_a_card_is_skipped(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:9")
    await settled(sessionmaker)
    [row] = await rows(sessionmaker)
    assert row.state is OutboxState.CANCELLED and row.last_error == (
        "no ticket card in this conversation"
    )
    assert connector.total() == 0


async def test_a_replayed_row_is_queued_once(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana)
    payload = {"ticket_id": ticket, "title": "t", "event": "reopened", "status": "open"}
    queued = [await queue(sessionmaker, ana, ticket, "status_line", payload, "line:7")]
    queued += [await queue(sessionmaker, ana, ticket, "status_line", payload, "line:7")]
    assert queued == [True, False]
    await settled(sessionmaker)
    await passes(worker)
    assert len(connector.sent(ana.conversation_id)) == 1


async def _first(connector: FakeConnector, conversation_id: str) -> list[fc.Received]:
    deadline = time.monotonic() + 10
    while not connector.activities(conversation_id):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    return connector.activities(conversation_id)


def _content(card: dict[str, object] | None) -> str:
    """The agent's words in an agent-reply card (the tests use short unique tokens)."""
    return next(text for text in card_texts(card) if len(text) <= 3 and text[:1] in "abm")


@pytest.mark.timeout(120)
async def test_two_workers_deliver_500_replies_to_50_employees_once_in_order(
    sessionmaker: Sessions, connector: FakeConnector, database_url: str
) -> None:
    """Two workers with their own engines, limiters and gateways: two processes' worth."""
    employees = [
        await add_employee(sessionmaker, connector.url, tenant=f"tenant-{n % 5}") for n in range(50)
    ]
    tickets = [await add_ticket(sessionmaker, employee) for employee in employees]
    engines = [make_engine(database_url, pool_size=5) for _ in range(2)]
    workers = [make_worker(make_sessionmaker(engine), database_url) for engine in engines]
    for worker in workers:
        await worker.start()
    try:
        for n in range(10):
            await asyncio.gather(
                *(
                    queue_agent_message(sessionmaker, employee, ticket, f"m{n}")
                    for employee, ticket in zip(employees, tickets, strict=True)
                )
            )
        for employee in employees:
            await connector.wait_for(employee.conversation_id, 10, timeout=90)
        await settled(sessionmaker)
    finally:
        for worker in workers:
            await worker.stop()
        for engine in engines:
            await engine.dispose()
    for employee in employees:
        sent = connector.sent(employee.conversation_id)
        assert [_content(r.card) for r in sent] == [f"m{n}" for n in range(10)]
    assert connector.total() == 500
    assert connector.breaches == []
    assert all(worker.stats.sent > 50 for worker in workers), [w.stats for w in workers]


async def test_a_dead_workers_lease_is_void_after_the_grace_a_live_ones_is_kept(
    sessionmaker: Sessions, connector: FakeConnector, database_url: str
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    bia = await add_employee(sessionmaker, connector.url)
    await queue_agent_message(sessionmaker, ana, await add_ticket(sessionmaker, ana), "m0")
    await queue_agent_message(sessionmaker, bia, await add_ticket(sessionmaker, bia), "m0")

    async def beat_until(stop: asyncio.Event) -> None:
        # A live worker beats its heart; it holds no connection at all here, as when
        # PostgreSQL has just terminated its backends: its leases must still be kept.
        while not stop.is_set():
            async with sessionmaker.begin() as session:
                await heartbeat(session, "outbox:alive")
            await asyncio.sleep(0.1)

    stop = asyncio.Event()
    heart = asyncio.create_task(beat_until(stop))
    try:
        async with sessionmaker.begin() as session:
            [held] = await claim_due(session, worker="outbox:alive", limit=1, lease=60)
            [orphan] = await claim_due(session, worker="outbox:dead", limit=1, lease=60)
        assert {held.target, orphan.target} == {ana.conversation_id, bia.conversation_id}
        worker = make_worker(sessionmaker, database_url, poll=0.2, grace=0.5)
        await worker.start()
        try:
            await connector.wait_for(orphan.target, timeout=5)
            await passes(worker)
            await asyncio.sleep(1.0)  # twice the grace: the beating worker's lease holds
            await passes(worker)
            assert connector.sent(held.target) == []
            stop.set()
            await heart
            await connector.wait_for(held.target, timeout=5)
        finally:
            await worker.stop()
    finally:
        stop.set()
        await heart
