"""A message retried under the same key reaches Chatwoot once, whatever became of the first try.

The first attempt may still be sending (a client that gave up, a retry that reached another
process) or may have reached Chatwoot without its answer reaching us (a timeout, a process
killed between Chatwoot's answer and our commit). Both are produced here with the sandbox's
slow-answer fault against the real service and database.
"""

from __future__ import annotations

import asyncio
import io
import time

import httpx
import pytest
from sqlalchemy import text

from db import claims
from db.models import Message, Origin
from sandbox import SandboxServer
from tests.helpdesk import Client, control, count, form, new_user, sandbox_conversations
from tickets import keys
from tickets.errors import HelpdeskUnavailable
from tickets.uploads import Upload


def _file(data: bytes = b"%PDF-1.4 relatorio\n") -> list[Upload]:
    return [Upload("relatorio.pdf", "application/pdf", io.BytesIO(data), size=len(data))]


async def _incoming(sandbox: SandboxServer, conversation_id: int) -> list[dict[str, object]]:
    conversations = {c["id"]: c for c in await sandbox_conversations(sandbox)}
    messages = conversations[conversation_id]["messages"]
    return [m for m in messages if m["message_type"] == "incoming"][1:]  # after the opening one


@pytest.mark.parametrize("with_file", [False, True])
async def test_a_retry_after_a_lost_answer_adopts_what_reached_chatwoot(
    app_client: Client, sandbox: SandboxServer, with_file: bool
) -> None:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    ticket = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    app_client.app[keys.CHATWOOT]._http.timeout = httpx.Timeout(0.5)  # the slow answer is lost
    await control(sandbox, "faults", {"delay_after_ms": 1500})
    first = asyncio.create_task(
        service.post_message(
            user_id,
            ticket.id,
            "Segue o log",
            origin=Origin.WEB,
            files=_file() if with_file else [],
            idempotency_key="k1",
        )
    )
    if with_file:
        # An upload waits long for its answer: the request is cancelled meanwhile instead (a
        # handler torn down, a shutdown), after the file has reached Chatwoot.
        await asyncio.sleep(0.8)
        first.cancel()
    with pytest.raises((HelpdeskUnavailable, asyncio.CancelledError)):
        await first
    await control(sandbox, "faults", {})
    await asyncio.sleep(1.6)  # the first attempt's message is now in Chatwoot
    retried = await service.post_message(
        user_id,
        ticket.id,
        "Segue o log",
        origin=Origin.WEB,
        files=_file() if with_file else [],
        idempotency_key="k1",
    )
    incoming = await _incoming(sandbox, ticket.chatwoot_conversation_id)
    assert [m["content"] for m in incoming] == ["Segue o log"]
    assert len(incoming[0].get("attachments") or []) == (1 if with_file else 0)
    assert retried.chatwoot_id == incoming[0]["id"]
    timeline = await service.timeline(user_id, ticket.id)
    assert [i.content for i in timeline].count("Segue o log") == 1
    # A third try under the key answers from our store, without asking Chatwoot.
    again = await service.post_message(
        user_id, ticket.id, "Segue o log", origin=Origin.WEB, idempotency_key="k1"
    )
    assert again.id == retried.id
    assert await _claims_left(app_client) == 0


async def test_a_retry_while_the_first_is_still_sending_waits_for_it(
    app_client: Client, sandbox: SandboxServer
) -> None:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    ticket = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    await control(sandbox, "faults", {"delay_after_ms": 800})

    def post() -> asyncio.Task[object]:
        return asyncio.create_task(
            service.post_message(
                user_id, ticket.id, "Ainda sem rede", origin=Origin.WEB, idempotency_key="k2"
            )
        )

    first = post()
    await asyncio.sleep(0.2)  # the first holds the key and waits for Chatwoot's answer
    second = post()
    one, two = await asyncio.gather(first, second)
    await control(sandbox, "faults", {})
    assert one.id == two.id  # type: ignore[attr-defined]
    incoming = await _incoming(sandbox, ticket.chatwoot_conversation_id)
    assert [m["content"] for m in incoming] == ["Ainda sem rede"]


async def test_the_same_text_under_another_key_is_another_message(
    app_client: Client, sandbox: SandboxServer
) -> None:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    ticket = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    app_client.app[keys.CHATWOOT]._http.timeout = httpx.Timeout(0.5)
    await control(sandbox, "faults", {"delay_after_ms": 1500})
    with pytest.raises(HelpdeskUnavailable):
        await service.post_message(user_id, ticket.id, "ok", origin=Origin.WEB, idempotency_key="a")
    await control(sandbox, "faults", {})
    await asyncio.sleep(1.6)
    # "ok" again, a new message (key b): it must not adopt the lost one of key a...
    second = await service.post_message(
        user_id, ticket.id, "ok", origin=Origin.WEB, idempotency_key="b"
    )
    # ...and key a's retry adopts its own, not the one key b sent.
    first = await service.post_message(
        user_id, ticket.id, "ok", origin=Origin.WEB, idempotency_key="a"
    )
    incoming = await _incoming(sandbox, ticket.chatwoot_conversation_id)
    assert [m["content"] for m in incoming] == ["ok", "ok"]
    assert {first.chatwoot_id, second.chatwoot_id} == {m["id"] for m in incoming}
    assert await count(app_client, Message) == 3  # the opening message and the two "ok"


async def test_a_dead_holders_claim_lapses_and_says_an_attempt_came_before(
    app_client: Client,
) -> None:
    sessions = app_client.app[keys.SESSIONMAKER]
    async with sessions.begin() as session:
        # What a process killed mid-send leaves: a lease nobody renews.
        await session.execute(
            text(
                "INSERT INTO send_claims (key, holder, held_until, after_message_id)"
                " VALUES ('k-dead', 'gone', now() + interval '400 milliseconds', 41)"
            )
        )
    started = time.monotonic()
    async with claims.holding(sessions, "k-dead", after_message_id=99) as held:
        waited = time.monotonic() - started
        assert held.earlier and held.after_message_id == 41  # the first attempt's mark stays
    assert 0.3 <= waited < 5
    with pytest.raises(claims.ClaimBusy):
        async with claims.holding(sessions, "k-busy"), claims.holding(sessions, "k-busy", wait=0.3):
            pass
    async with claims.holding(sessions, "k-fresh") as held:
        assert not held.earlier


async def test_a_working_holder_keeps_renewing_its_lease(app_client: Client) -> None:
    sessions = app_client.app[keys.SESSIONMAKER]
    async with claims.holding(sessions, "k-long", lease=0.3):
        # Three leases long: without renewal the waiter would take the key after the first.
        with pytest.raises(claims.ClaimBusy):
            async with claims.holding(sessions, "k-long", wait=0.9):
                pass
    async with claims.holding(sessions, "k-long", wait=0.5) as held:
        assert held.earlier  # released unsettled: a trace of the first holder's attempt


async def test_a_holder_whose_key_was_taken_over_stops_acting_on_it(app_client: Client) -> None:
    sessions = app_client.app[keys.SESSIONMAKER]
    async with claims.holding(sessions, "k-taken", lease=0.6) as held:
        assert held.secure() is False  # a 0.6 s lease never leaves the 2 s margin
        async with sessions.begin() as session:
            # What a lapse looks like from the holder's side: another request owns the row.
            await session.execute(
                text("UPDATE send_claims SET holder = 'other' WHERE key = 'k-taken'")
            )
        for _ in range(50):
            if held.lost:
                break
            await asyncio.sleep(0.05)
        assert held.lost and not held.secure()
    async with sessions() as session:
        owner = await session.scalar(text("SELECT holder FROM send_claims WHERE key = 'k-taken'"))
    assert owner == "other"  # releasing did not touch the new holder's claim


async def test_a_long_lease_is_secure_while_renewed(app_client: Client) -> None:
    sessions = app_client.app[keys.SESSIONMAKER]
    async with claims.holding(sessions, "k-secure") as held:
        assert held.secure()


async def _claims_left(client: Client) -> int:
    async with client.app[keys.SESSIONMAKER]() as session:
        return int(await session.scalar(text("SELECT count(*) FROM send_claims")) or 0)
