"""Benchmark 7: sustained Teams sends to many conversations of one tenant, inside Teams' limits.

Agent replies to 200 distinct conversations of one tenant are offered through the sandbox at
60/s for 60 s: more than Teams' 50 requests/s per tenant, so the outbox's limiter sets the pace.
Measured end to end (sandbox webhook -> ingest -> outbox -> gateway -> the fake Bot Connector,
which counts every request over a Teams limit): the rate sent, each reply's latency, breaches.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence

import aiohttp
import httpx

from bench.context import Context, Figures
from bench.harness import Service, baseline, service, teams
from bench.load import fixed_rate, ms, percentile
from bench.replies import Employee, Replies, connector_arrivals, employees_with_chats
from bench.report import headline
from tests.fakes.connector import TENANT_LIMITS, FakeConnector

CONVERSATIONS = 200
RATE = 60.0
SECONDS = 60.0
BASELINE_SECONDS = 10.0
TEAMS_TENANT_LIMIT = float(TENANT_LIMITS[0][1] / TENANT_LIMITS[0][0])
TARGET_PER_S = 45.0


async def _offer(
    ctx: Context, replies: Replies, connector: FakeConnector, seconds: float
) -> tuple[Figures, dict[str, float]]:
    """Offer replies at RATE for `seconds` (scaled), then wait until the connector has them all."""
    count = ctx.n(int(RATE * seconds), minimum=10)
    async with aiohttp.ClientSession() as http:
        run = await fixed_rate(
            lambda i: replies.post(http, i), rate=RATE, count=count, time_limit=seconds * 2 + 10
        )
    # At 50/s at most, what is queued when the offer ends takes its share of a second each.
    deadline = time.monotonic() + count / 40 + 30
    arrived: dict[str, float] = {}
    while time.monotonic() < deadline:
        missing = {chat for text, (_, chat) in replies.sent.items() if text not in arrived}
        arrived.update(connector_arrivals(connector, missing))
        if len(arrived) >= len(replies.sent):
            break
        await asyncio.sleep(0.5)
    offered = {"offered": run.offered, "posted_ok": run.ok, "offer_s": round(run.elapsed, 2)}
    return offered, arrived


def _rate(replies: Replies, arrived: dict[str, float]) -> Figures:
    times = sorted(arrived.values())
    latencies = [arrived[t] - posted for t, (posted, _) in replies.sent.items() if t in arrived]
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "replies": len(replies.sent),
        "sent": len(arrived),
        "sent_per_s": round((len(times) - 1) / span, 1) if span > 0 else None,
        "first_to_last_s": round(span, 2),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies, default=math.nan)),
    }


async def teams_sustained(ctx: Context) -> dict[str, Figures]:
    """Offer replies to 200 conversations of one tenant at 60/s; report sent/s, p99, breaches."""
    database_url = await ctx.pg.fresh_database("teams")
    try:
        async with (
            teams() as connector,
            service(
                database_url, ctx.logs, profile=ctx.profile_path("teams"), TRACE_LATENCY="true"
            ) as svc,
        ):
            employees = await employees_with_chats(
                ctx, svc, connector, count=ctx.n(CONVERSATIONS, minimum=12), tenants=1
            )
            replies = Replies(svc.sandbox_url, employees, "t", lambda e: e.teams_chat)
            offered, arrived = await _offer(ctx, replies, connector, SECONDS)
            ours = {**offered, **_rate(replies, arrived)}
            breaches = connector.breaches
            base = await _baseline(ctx, svc, connector, employees)
    finally:
        await ctx.pg.drop(database_url)
    ours["breaches"] = len(breaches)
    ours["breaches_by_scope"] = {
        scope: sum(1 for b in breaches if b.scope == scope) for scope in ("tenant", "conversation")
    }
    figures: Figures = {
        "what": f"agent replies through the sandbox to {len(employees)} conversations of one "
        f"tenant, {ours['offered']} offered at {RATE:g}/s; sent/s from the "
        "first to the last arrival at the fake Bot Connector, which counts limit breaches",
        "baseline": f"sent/s: Teams' own limit ({TEAMS_TENANT_LIMIT:g} requests/s per tenant); "
        "p99: the same offer into a bare aiohttp app forwarding each reply (no limiter)",
        "target_per_s": TARGET_PER_S,
        "ours": ours,
        "bare": base,
        "headline": [
            headline(
                f"sent/s, 200 chats of one tenant, {RATE:g}/s offered",
                ours["sent_per_s"],
                TEAMS_TENANT_LIMIT,
                "msg/s",
                lower_is_better=False,
            ),
            headline(
                f"reply p99, {RATE:g}/s offered to one tenant",
                ours["p99_ms"],
                base["p99_ms"],
                "ms",
                lower_is_better=True,
            ),
        ],
    }
    print(
        f"teams_sustained: {ours['sent']}/{ours['replies']} sent at {ours['sent_per_s']}/s, "
        f"p99 {ours['p99_ms']} ms, {ours['breaches']} limit breaches"
    )
    return {"teams_sustained": figures}


async def _baseline(
    ctx: Context, svc: Service, connector: FakeConnector, employees: Sequence[Employee]
) -> Figures:
    """Offer the same replies (shorter) to a bare app that forwards each one at once."""
    async with baseline(ctx.logs, connector=connector.url) as (base_url, _process):
        async with httpx.AsyncClient() as http:
            aimed = await http.post(
                f"{svc.sandbox_url}/sandbox/api/webhook",
                json={"url": f"{base_url}/api/chatwoot/webhook", "secret": "x"},
            )
            aimed.raise_for_status()
        replies = Replies(svc.sandbox_url, employees, "tb", lambda e: f"a:base-{e.conversation}")
        offered, arrived = await _offer(ctx, replies, connector, BASELINE_SECONDS)
    return {**offered, **_rate(replies, arrived)}
