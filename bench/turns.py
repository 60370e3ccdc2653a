"""Benchmark 4: signed Teams activities to /api/messages until the reply reaches the connector.

The bot runs in its own process (`bench.botserver`) with Teams' real inbound token check against
a local issuer; the driver holds the issuer and the fake Bot Connector. The baseline is the SDK's
stock echo bot behind the same adapter, auth and connector, in the same run.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx

from bench.context import Context, Figures
from bench.harness import Service, service, teams
from bench.load import ms, percentile
from bench.report import headline
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT, TeamsUser
from tests.fakes.connector import FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider

TURNS = 100
WARMUP = 5
# Commands (and echo turns) rotate over this many chats: one chat takes at most 7 replies a
# second and 60 in 30 s from a bot (Teams' limits, which the bot's limiter keeps), and back-to-back
# turns of one user would time the limiter's pacing instead of the turn.
CHATS = 20
FORM = {
    "title": "Bench: impressora não imprime",
    "description": "Medindo a latência do envio do formulário.",
    "complexity": "media",
    "sector": "TI",
    "for_other": "false",
}


@contextlib.asynccontextmanager
async def issuer() -> AsyncIterator[TeamsIdentityProvider]:
    """Run the local OpenID issuer that signs the activities as Teams would."""
    idp = TeamsIdentityProvider()
    await idp.start()
    try:
        yield idp
    finally:
        await idp.stop()


async def _turn(
    http: httpx.AsyncClient, user: TeamsUser, activity: dict[str, Any], *, expect_send: bool
) -> float | None:
    """POST one signed activity; return seconds until its reply reached the connector.

    A message's reply is a connector call (made before the bot answers 201); an invoke's
    reply (the card) comes back in the HTTP answer itself.
    """
    header = user.authorization(activity)
    assert header is not None
    before = len(user.connector.sent(user.conversation_id))
    started = time.monotonic()
    answer = await http.post(user.endpoint, json=activity, headers={"Authorization": header})
    done = time.monotonic()
    if answer.status_code not in (200, 201):
        return None
    if not expect_send:
        return done - started
    sent = user.connector.sent(user.conversation_id)
    if len(sent) <= before:
        return None
    return sent[before].at - started


async def _series(
    count: int, step: Callable[[int], Awaitable[float | None]]
) -> tuple[list[float], int]:
    values: list[float] = []
    failed = 0
    for index in range(count):
        value = await step(index)
        if value is None:
            failed += 1
        else:
            values.append(value)
    return values, failed


def _figures(values: list[float], failed: int) -> Figures:
    return {
        "turns": len(values) + failed,
        "failed": failed,
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values, default=math.nan)),
    }


@contextlib.asynccontextmanager
async def _bot(
    ctx: Context,
    mode: str,
    connector: FakeConnector,
    idp: TeamsIdentityProvider,
) -> AsyncIterator[Service]:
    database_url = await ctx.pg.fresh_database(f"turns_{mode}")
    try:
        async with service(
            database_url,
            ctx.logs,
            profile=ctx.profile_path("turns") if mode == "tickets" else None,
            module="bench.botserver",
            module_args=[
                "--mode",
                mode,
                "--metadata-url",
                idp.metadata_url,
                "--token-url",
                connector.token_url,
            ],
            MICROSOFT_APP_ID=APP_ID,
            MICROSOFT_APP_PASSWORD=APP_PASSWORD,
            MICROSOFT_APP_TENANT_ID=TENANT,
        ) as svc:
            yield svc
    finally:
        await ctx.pg.drop(database_url)


async def bot_turns(ctx: Context) -> dict[str, Figures]:
    """Time text commands and form submits on the real bot, and echo turns on the SDK's bot."""
    count = ctx.n(TURNS, minimum=5)
    rows: list[Figures] = []
    async with teams() as connector, issuer() as idp, httpx.AsyncClient(timeout=30) as http:
        async with _bot(ctx, "tickets", connector, idp) as svc:
            endpoint = f"{svc.url}/api/messages"
            texts = [TeamsUser(endpoint, connector, idp) for _ in range(CHATS)]
            forms = TeamsUser(endpoint, connector, idp)

            async def command(index: int) -> float | None:
                user = texts[index % CHATS]
                return await _turn(http, user, user.message("meus chamados"), expect_send=True)

            async def submit(index: int) -> float | None:
                data = {"formId": f"bench-{index}-{time.monotonic_ns()}", **FORM}
                activity = forms.execute("ticket.create", data, "m-form")
                return await _turn(http, forms, activity, expect_send=False)

            await _series(CHATS, command)  # every chat once: its user is known after
            await _series(WARMUP, submit)
            rows.append(
                {"turn": "text command 'meus chamados'", **_figures(*await _series(count, command))}
            )
            rows.append(
                {"turn": "form submit ticket.create", **_figures(*await _series(count, submit))}
            )
        ours = len(connector.breaches)
        async with _bot(ctx, "echo", connector, idp) as svc:
            echoes = [TeamsUser(f"{svc.url}/api/messages", connector, idp) for _ in range(CHATS)]

            async def echoed(index: int) -> float | None:
                echo = echoes[index % CHATS]
                return await _turn(http, echo, echo.message("meus chamados"), expect_send=True)

            await _series(CHATS, echoed)
            base = _figures(*await _series(count, echoed))
        # The stock echo bot has no limiter: its fast turns may outpace the tenant's 50/s.
        base["connector_limit_breaches"] = len(connector.breaches) - ours
    return {"bot_turn": _report(rows, base, ours)}


def _report(rows: list[Figures], base: Figures, breaches: int) -> Figures:
    """Set the echo baseline on each turn row and build the figures with their headline."""
    for row in rows:
        row["baseline_p50_ms"], row["baseline_p99_ms"] = base["p50_ms"], base["p99_ms"]
    figures: Figures = {
        "what": "signed activities (RS256 from a local issuer, validated by the SDK) to "
        "/api/messages one at a time; a command's reply is timed to the fake connector, a form "
        "submit's card to the invoke answer (it creates the Chatwoot conversation in the sandbox)",
        "baseline": "the SDK's stock CloudAdapter.process + echo ActivityHandler, same auth, "
        "same connector, same run",
        "echo": base,
        "turns": rows,
        "connector_limit_breaches": breaches,
        "headline": [
            *(
                headline(
                    f"p50, {row['turn']}", row["p50_ms"], base["p50_ms"], "ms", lower_is_better=True
                )
                for row in rows
            ),
            *(
                headline(
                    f"p99, {row['turn']}", row["p99_ms"], base["p99_ms"], "ms", lower_is_better=True
                )
                for row in rows
            ),
        ],
    }
    return figures
