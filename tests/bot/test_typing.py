"""Agent typing in Teams: the typing indicator, bounded per chat, before the reply itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from db.models import Origin
from sandbox import SandboxServer
from tests.bot.outbox_setup import add_employee, rows
from tests.bot.test_outbox_app import control, form
from tests.fakes.connector import FakeConnector
from tests.waiting import eventually
from tickets import keys

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector for the test."""
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


async def test_agent_typing_shows_teams_typing_bounded_per_chat(
    app_client: Client, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    app = app_client.app
    sessions = app[keys.SESSIONMAKER]
    ana = await add_employee(sessions, connector.url, locale="pt-BR")
    info = await app[keys.SERVICE].open_ticket(ana.user_id, form(), origin=Origin.TEAMS)
    relay = app[keys.RELAY]

    async def subscribed() -> bool:
        return relay.listener is not None and len(relay.listener.subscribed) == 1

    await eventually(subscribed)
    cid = info.chatwoot_conversation_id
    # A burst of "typing" (cable and webhook both carry each one) becomes one indicator per
    # few seconds of the chat (tickets.presence.TEAMS_TYPING_EVERY), however many copies.
    for _ in range(6):
        await control(sandbox, f"conversations/{cid}/typing", {"agent": "Carla", "status": "on"})
    await control(sandbox, f"conversations/{cid}/messages", {"content": "Pronto", "agent": "Carla"})

    async def reply_sent() -> bool:
        return any("Pronto" in str(r.card) for r in connector.sent(ana.conversation_id))

    await eventually(reply_sent)
    await sandbox.drain_webhooks()
    sent = connector.sent(ana.conversation_id)
    kinds = [r.activity.get("type") for r in sent]
    assert kinds[-1] == "message" and "Pronto" in str(sent[-1].card)
    typing = [r for r in sent if r.activity.get("type") == "typing"]
    assert 1 <= len(typing) <= 2, kinds  # a burst may straddle one bucket boundary
    assert all(r.text is None and r.card is None for r in typing)
    queued = [row for row in await rows(sessions) if row.kind == "typing"]
    assert len(queued) == len(typing)
    assert all(row.dedupe_key.startswith(f"typing:{cid}:") for row in queued)
