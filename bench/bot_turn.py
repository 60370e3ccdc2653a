"""Bot turn latency through the real auth path: a text command and a card submit, p50/p99.

``python -m bench.bot_turn [--turns N]`` starts embedded PostgreSQL, the Chatwoot sandbox, a
local token issuer, the fake Bot Connector and the real app (SingleTenant bot identity) on
127.0.0.1, then times signed ``POST /api/messages`` round trips as Teams would make them:

* ``command``: the text "meus chamados" (identity + reference upsert, a history read, the
  history card posted to the connector before the 201);
* ``submit``: an ``Action.Execute`` ``ticket.create`` with a fresh form (validation, Chatwoot
  contact/conversation/message in the sandbox, the ticket stored, the ticket card returned);
* ``refresh``: an ``Action.Execute`` ``ticket.refresh`` (reads only, card returned).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from botframework.connector.auth import ChannelValidation

from bot.routes import BOT_CREDENTIALS
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade_to_head
from sandbox import SandboxConfig, SandboxServer
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT, TeamsUser, find_action
from tests.conftest import settings_for
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tickets.app import create_app

# Commands rotate over this many chats: a bot may send one chat 7 replies a second and 60 in
# 30 s (Teams' limits, which its limiter keeps), which back-to-back turns would outpace.
CHATS = 20
FORM = {
    "title": "Bench: impressora não imprime",
    "description": "Medindo a latência do envio do formulário.",
    "complexity": "media",
    "sector": "TI",
    "for_other": "false",
}


def percentiles(samples: list[float]) -> dict[str, float]:
    """Return n, p50, p99 and max in milliseconds."""
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def _timed(turns: int, step: Callable[[int], Awaitable[None]]) -> list[float]:
    samples = []
    for index in range(turns):
        started = time.perf_counter()
        await step(index)
        samples.append(time.perf_counter() - started)
    return samples


async def measure(turns: int = 200, warmup: int = 10) -> dict[str, dict[str, float]]:
    """Run the three turn kinds ``turns`` times each and return their latency figures."""
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as workdir:
        server = await asyncio.to_thread(EmbeddedPostgres(Path(workdir) / "pg").start)
        try:
            return await _measure(server, turns, warmup)
        finally:
            await asyncio.to_thread(server.stop)


async def _measure(server: EmbeddedPostgres, turns: int, warmup: int) -> dict[str, Any]:
    url = server.url()
    engine = make_engine(url, pool_size=1)
    await upgrade_to_head(engine)
    await engine.dispose()
    sandbox = SandboxServer(SandboxConfig())
    await sandbox.start("127.0.0.1", 0)
    connector, idp = FakeConnector(), TeamsIdentityProvider()
    await connector.start()
    await idp.start()
    ChannelValidation.open_id_metadata_endpoint = idp.metadata_url
    settings = settings_for(
        url,
        sandbox,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD=APP_PASSWORD,
        MICROSOFT_APP_TENANT_ID=TENANT,
        LOG_LEVEL="WARNING",
    )
    app = create_app(settings)
    app[BOT_CREDENTIALS] = ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        endpoint = f"http://127.0.0.1:{port}/api/messages"
        users = [TeamsUser(endpoint, connector, idp) for _ in range(CHATS)]
        figures = await _turn_figures(users, turns, warmup)
        figures["connector"] = {
            "token_requests": connector.token_requests,
            "breaches": len(connector.breaches),
        }
        return figures
    finally:
        await runner.cleanup()
        ChannelValidation.open_id_metadata_endpoint = None
        await idp.stop()
        await connector.stop()
        await sandbox.stop()


async def _turn_figures(users: list[TeamsUser], turns: int, warmup: int) -> dict[str, Any]:
    """Time the command (rotating over the chats), submit and refresh turns after a warm-up."""
    user = users[0]
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(activity: dict[str, Any], user: TeamsUser = user) -> Any:
            header = user.authorization(activity)
            assert header is not None
            answer = await http.post(
                user.endpoint, json=activity, headers={"Authorization": header}
            )
            assert answer.status_code in (200, 201), answer.text
            return answer.json() if answer.content else None

        async def command(index: int) -> None:
            chat = users[index % len(users)]
            await post(chat.message("meus chamados"), chat)

        async def submit(index: int) -> None:
            data = {"formId": f"bench-{index}-{time.monotonic_ns()}", **FORM}
            body = await post(user.execute("ticket.create", data, "m-form"))
            assert body["type"] == "application/vnd.microsoft.card.adaptive"

        ticket: dict[str, Any] = {}

        async def refresh(_index: int) -> None:
            await post(user.execute("ticket.refresh", ticket, "m-card"))

        await _timed(max(warmup, len(users)), command)
        await _timed(warmup, submit)
        body = await post(
            user.execute("ticket.create", {"formId": "bench-pinned", **FORM}, "m-card")
        )
        ticket.update(find_action(body["value"], "ticket.refresh")["data"])
        figures = {
            "command": percentiles(await _timed(turns, command)),
            "submit": percentiles(await _timed(turns, submit)),
            "refresh": percentiles(await _timed(turns, refresh)),
        }
    return figures


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.turns)), indent=2))


if __name__ == "__main__":
    main()
