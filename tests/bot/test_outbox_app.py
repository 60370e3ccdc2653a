"""The outbox inside the real app: Chatwoot's webhook x3 and cable for one reply, one Teams post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot import keys as bot_keys
from db.models import Origin
from sandbox import SandboxServer
from tests.bot.outbox_setup import add_employee, rows
from tests.fakes.connector import FakeConnector
from tests.waiting import eventually
from tickets import keys
from tickets.forms import TicketForm
from tickets.ingest_state import IngestOutcome

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector for the test."""
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


async def control(sandbox: SandboxServer, path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        response = await http.post(f"/sandbox/api/{path}", json=body)
        response.raise_for_status()
        return response.json()


def form(title: str = "Sem acesso à VPN") -> TicketForm:
    return TicketForm(
        title=title,
        description="Desde ontem",
        complexity="baixa",
        sector="TI",
        for_other=False,
        beneficiary_name=None,
        beneficiary_email=None,
    )


async def test_one_reply_by_webhook_three_times_and_cable_is_one_teams_post(
    app_client: Client, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    app = app_client.app
    sessions = app[keys.SESSIONMAKER]
    ana = await add_employee(sessions, connector.url, locale="en")
    service = app[keys.SERVICE]
    info = await service.open_ticket(ana.user_id, form(), origin=Origin.TEAMS)
    relay = app[keys.RELAY]

    async def subscribed() -> bool:
        return relay.listener is not None and len(relay.listener.subscribed) == 1

    await eventually(subscribed)
    await control(sandbox, "faults", {"webhook_duplicate": 3})
    cid = info.chatwoot_conversation_id
    await control(
        sandbox, f"conversations/{cid}/messages", {"content": "Resolvido?", "agent": "Rui"}
    )
    [post] = await connector.wait_for(ana.conversation_id)
    assert "Resolvido?" in str(post.card) and "Rui" in str(post.card)
    await sandbox.drain_webhooks()
    counts = app[keys.INGESTOR].counts

    async def every_copy_seen() -> bool:
        # Three webhooks and the cable carried the reply: one stored, the rest duplicates.
        return counts[IngestOutcome.DUPLICATE] >= 3

    await eventually(every_copy_seen)
    worker = app[bot_keys.OUTBOX]
    polled = worker.stats.passes + 3

    async def polled_since() -> bool:
        return worker.stats.passes >= polled

    await eventually(polled_since)  # past several worker polls: nothing else may be sent
    assert len(connector.sent(ana.conversation_id)) == 1
    assert [row.kind for row in await rows(sessions)] == ["agent_message"]
    assert app[bot_keys.OUTBOX].stats.sent == 1


async def test_resolve_and_reopen_post_one_line_each_in_order(
    app_client: Client, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    app = app_client.app
    ana = await add_employee(app[keys.SESSIONMAKER], connector.url, locale="en")
    info = await app[keys.SERVICE].open_ticket(ana.user_id, form("Teclado"), origin=Origin.TEAMS)
    cid = info.chatwoot_conversation_id
    await control(sandbox, f"conversations/{cid}/messages", {"content": "Feito", "agent": "Rui"})
    await control(sandbox, f"conversations/{cid}/status", {"status": "resolved"})
    await control(sandbox, f"conversations/{cid}/status", {"status": "open"})
    sent = await connector.wait_for(ana.conversation_id, 3)
    assert "Feito" in str(sent[0].card)
    assert [r.text for r in sent[1:]] == [
        f"✅ Ticket #{info.id} “Teclado” was resolved.",
        f"🔄 Ticket #{info.id} “Teclado” was reopened.",
    ]
