"""The hub across processes: a change ingested by one app reaches a subscriber of another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from db.models import Origin, User
from sandbox import SandboxServer
from tests.conftest import aim_webhooks, settings_for
from tickets import keys
from tickets.app import create_app
from tickets.forms import TicketForm
from tickets.hub import TicketChanged

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def two_apps(
    database_url: str, sandbox: SandboxServer
) -> AsyncIterator[tuple[Client, Client]]:
    """Two instances of the service on one database; Chatwoot's webhooks reach only the first."""
    clients = [
        TestClient(TestServer(create_app(settings_for(database_url, sandbox)), host="127.0.0.1"))
        for _ in range(2)
    ]
    for client in clients:
        await client.start_server()
    await aim_webhooks(sandbox, clients[0])
    yield clients[0], clients[1]
    for client in clients:
        await client.close()


async def test_an_event_ingested_by_one_process_reaches_a_subscriber_of_the_other(
    two_apps: tuple[Client, Client], sandbox: SandboxServer
) -> None:
    a, b = two_apps
    async with a.app[keys.SESSIONMAKER].begin() as session:
        user = User(email="hub@example.com", display_name="Hub")
        session.add(user)
        await session.flush()
        user_id = user.id
    form = TicketForm("Monitor", "Piscando", "baixa", "TI", False, None, None)
    info = await a.app[keys.SERVICE].open_ticket(user_id, form, origin=Origin.WEB)
    async with b.app[keys.HUB].subscribe(user_id) as changes:
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            answer = await http.post(
                f"/sandbox/api/conversations/{info.chatwoot_conversation_id}/messages",
                json={"content": "Vou olhar", "agent": "Rui"},
            )
            answer.raise_for_status()
        # The hint of the ticket's own creation may still be on its way to B: every hint B
        # hears must be about this ticket, and one of them must make the reply readable.
        for _ in range(5):
            change = await asyncio.wait_for(changes.get(), timeout=10)
            assert change == TicketChanged(info.id, user_id)
            # B reads what A stored: the hint is enough to fetch the new item.
            items = await b.app[keys.SERVICE].timeline(user_id, info.id)
            if items[-1].content == "Vou olhar":
                break
    assert items[-1].content == "Vou olhar"
    assert items[-1].direction == "agent"


async def test_a_subscriber_hears_nothing_about_other_users(
    two_apps: tuple[Client, Client],
) -> None:
    a, b = two_apps
    from tickets.hub import notify_changed

    async with b.app[keys.HUB].subscribe(42) as mine:
        async with a.app[keys.SESSIONMAKER].begin() as session:
            await notify_changed(session, TicketChanged(7, 41))
            await notify_changed(session, TicketChanged(8, 42))
        assert await asyncio.wait_for(mine.get(), timeout=10) == TicketChanged(8, 42)
        assert mine.empty()
