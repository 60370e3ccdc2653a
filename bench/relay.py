"""Measure the proactive relay: agent reply -> Teams post latency, and the sustained send rate.

Runs the real app (``create_app``, so the real outbox worker), the Chatwoot sandbox and the
fake Bot Connector on 127.0.0.1 over one embedded PostgreSQL, then prints JSON:

- ``latency``: agent replies posted one at a time through the sandbox's control API (webhook ->
  ingest -> outbox -> gateway); milliseconds from the control call to the connector's arrival;
- ``sustained``: replies queued at once to distinct conversations of one tenant, delivered by
  the worker inside Teams' limits; messages a second from first to last arrival, and the
  limit breaches the connector counted (must be 0).

Usage: ``python -m bench.relay [--replies 50] [--conversations 400]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx
from aiohttp.test_utils import TestServer

from bench.harness import postgres
from bench.load import percentile
from bot import keys as bot_keys
from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Origin
from sandbox import SandboxConfig, SandboxServer
from tests.bot.outbox_setup import add_employee, add_ticket, queue_agent_message
from tests.conftest import WEBHOOK_SECRET, WEBHOOK_TOKEN, make_settings
from tests.fakes.connector import FakeConnector
from tickets import keys
from tickets.app import create_app
from tickets.forms import TicketForm


async def run(replies: int, conversations: int) -> dict[str, Any]:
    """Run both measurements and return the figures."""
    async with postgres() as pg:
        url = await pg.fresh_database("relay")
        engine = make_engine(url, pool_size=1)
        await upgrade_to_head(engine)
        await engine.dispose()
        sandbox = SandboxServer(SandboxConfig())
        await sandbox.start("127.0.0.1", 0)
        connector = FakeConnector()
        await connector.start()
        settings = make_settings(
            DATABASE_URL=url,
            CHATWOOT_BASE_URL=sandbox.url,
            CHATWOOT_INBOX_IDENTIFIER=sandbox.config.inbox_identifier,
            LOG_LEVEL="WARNING",
        )
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        try:
            hook = f"{server.make_url('/api/chatwoot/webhook')}?token={WEBHOOK_TOKEN}"
            async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
                answer = await http.post(
                    "/sandbox/api/webhook", json={"url": hook, "secret": WEBHOOK_SECRET}
                )
                answer.raise_for_status()
                latency = await _latency(server, sandbox, connector, http, replies)
            sustained = await _sustained(server, connector, conversations)
        finally:
            await server.close()
            await connector.stop()
            await sandbox.stop()
            await pg.drop(url)
    return {"latency": latency, "sustained": sustained}


async def _latency(
    server: TestServer,
    sandbox: SandboxServer,
    connector: FakeConnector,
    http: httpx.AsyncClient,
    replies: int,
) -> dict[str, Any]:
    app = server.app
    employee = await add_employee(app[keys.SESSIONMAKER], connector.url)
    form = TicketForm("Bench", "latency", "baixa", "TI", False, None, None)
    info = await app[keys.SERVICE].open_ticket(employee.user_id, form, origin=Origin.TEAMS)
    path = f"/sandbox/api/conversations/{info.chatwoot_conversation_id}/messages"
    samples: list[float] = []
    for n in range(replies):
        started = time.monotonic()
        answer = await http.post(path, json={"content": f"reply {n}", "agent": "Bench"})
        answer.raise_for_status()
        [*_, post] = await connector.wait_for(employee.conversation_id, n + 1, timeout=30)
        samples.append((post.at - started) * 1000)
        await asyncio.sleep(0.2)  # light load: one reply in flight at a time
    return {
        "replies": replies,
        "p50_ms": round(percentile(samples, 50), 1),
        "p99_ms": round(percentile(samples, 99), 1),
        "max_ms": round(max(samples), 1),
    }


async def _sustained(
    server: TestServer, connector: FakeConnector, conversations: int
) -> dict[str, Any]:
    sessions = server.app[keys.SESSIONMAKER]
    employees = [
        await add_employee(sessions, connector.url, tenant="bench-tenant")
        for _ in range(conversations)
    ]
    tickets = [await add_ticket(sessions, employee) for employee in employees]
    before = connector.total()
    for employee, ticket in zip(employees, tickets, strict=True):
        await queue_agent_message(sessions, employee, ticket, "sustained")
    for employee in employees:
        await connector.wait_for(employee.conversation_id, 1, timeout=120)
    arrivals = sorted(
        post.at for employee in employees for post in connector.sent(employee.conversation_id)
    )
    span = arrivals[-1] - arrivals[0]
    return {
        "conversations": conversations,
        "tenants": 1,
        "delivered": connector.total() - before,
        "seconds": round(span, 2),
        "per_second": round((len(arrivals) - 1) / span, 1) if span else None,
        "limit_per_second": 50,
        "breaches": len(connector.breaches),
        # Waits for a free slot: 0 means the worker, not Teams' limits, set the pace.
        "limiter_waits": server.app[bot_keys.OUTBOX].limiter.waits,
    }


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--conversations", type=int, default=400)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.replies, args.conversations)), indent=2))


if __name__ == "__main__":
    main()
