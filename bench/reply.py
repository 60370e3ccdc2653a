"""Benchmark 2: an agent's reply in the sandbox, until the employee sees it on /ws and in Teams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import aiohttp
import httpx

from bench.breakdown import breakdown, read_marks
from bench.context import Context, Figures
from bench.harness import WORKER_COUNTS, Service, baseline, fresh_service, teams
from bench.load import fixed_rate, flat_out
from bench.replies import (
    Arrivals,
    Employee,
    Replies,
    SocketPlan,
    connector_arrivals,
    employees_with_chats,
    latencies,
    sockets,
    wait_all,
)
from bench.report import headline, table, versus_one
from bench.seed import mint_sessions
from tests.fakes.connector import FakeConnector

EMPLOYEES = 200
LIGHT = 30  # replies one at a time
RATE = 100  # replies per second under load
LOAD_SECONDS = 3.0
FLAT_OUT = 600  # replies posted as fast as FLAT_CONCURRENCY posters can, to rate throughput
FLAT_CONCURRENCY = 50
WARMUP = 100  # replies flat out before anything is timed: every worker's pools and connections
LIGHT_LOAD, RATE_LOAD, FLAT_LOAD = "light (one at a time)", "100 replies/s", "flat-out"
LOADS = (LIGHT_LOAD, RATE_LOAD, FLAT_LOAD)
WARM_LOAD = "warm-up"  # run first, never reported
WEB, TEAMS = "web /ws", "Teams connector"
TENANTS = 4  # Teams allows 50 requests/s per tenant: 100 replies/s need more than one
WAIT = 30.0
# A backlog drains at least this fast (replies/s), or the wait for it ends: a flat-out load's
# Teams sends take longer than WAIT on a busy machine, and a reply left out is no figure.
SLOWEST_DRAIN = 10.0


async def _one_at_a_time(
    ctx: Context,
    http: aiohttp.ClientSession,
    replies: Replies,
    arrivals: Arrivals,
    connector: FakeConnector,
) -> None:
    """Post each reply once the one before it reached both the socket and the connector."""
    for index in range(ctx.n(LIGHT, minimum=3)):
        await replies.post(http, index)
        text = next(reversed(replies.sent))
        chat = {replies.sent[text][1]}
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            if text in arrivals.at and text in connector_arrivals(connector, chat):
                break
            await asyncio.sleep(0.01)


async def _phase(
    ctx: Context, replies: Replies, arrivals: Arrivals, connector: FakeConnector, *, load: str
) -> tuple[Figures, Figures, dict[str, float]]:
    """Send the replies of one load; return (web, teams) figures.

    The third value is when each reply reached the connector (for the breakdown).
    """
    breached = len(connector.breaches)
    async with aiohttp.ClientSession() as http:
        if load == RATE_LOAD:
            count = ctx.n(int(RATE * LOAD_SECONDS), minimum=10)
            await fixed_rate(
                lambda i: replies.post(http, i), rate=RATE, count=count, time_limit=20.0
            )
        elif load in (FLAT_LOAD, WARM_LOAD):
            await flat_out(
                lambda i: replies.post(http, i),
                count=ctx.n(FLAT_OUT if load == FLAT_LOAD else WARMUP, minimum=10),
                concurrency=FLAT_CONCURRENCY,
                time_limit=60.0,
            )
        else:
            await _one_at_a_time(ctx, http, replies, arrivals, connector)
    limit = ctx.seconds(WAIT) + len(replies.sent) / SLOWEST_DRAIN
    teams_at = await wait_all(replies, arrivals, connector, limit)
    teams_figures = latencies(replies.sent, teams_at)
    teams_figures["breaches"] = len(connector.breaches) - breached
    return latencies(replies.sent, arrivals.at), teams_figures, teams_at


async def _measure(
    ctx: Context,
    svc: Service,
    connector: FakeConnector,
    *,
    tag: str,
    explain: bool,
) -> tuple[list[Figures], Figures, list[Employee]]:
    """Seed the employees, warm up, run each load with every socket open.

    Return the rows, where a light reply's time goes (when `explain`) and the employees.
    """
    employees = await employees_with_chats(
        ctx, svc, connector, count=ctx.n(EMPLOYEES, minimum=4), tenants=TENANTS
    )
    tokens = await mint_sessions(svc.database_url, [e.user_id for e in employees])
    ws_url = svc.url.replace("http://", "ws://", 1) + "/ws"
    ours: list[SocketPlan] = [
        (
            ws_url,
            {"Cookie": f"tft_session={tokens[e.user_id]}", "Origin": svc.url},
            {"type": "subscribe", "ticketId": e.ticket_id, "after": 0},
        )
        for e in employees
    ]
    rows: list[Figures] = []
    steps: Figures = {}
    for index, load in enumerate((WARM_LOAD, *LOADS)):
        arrivals = Arrivals()
        replies = Replies(svc.sandbox_url, employees, f"{tag}o{index}", lambda e: e.teams_chat)
        async with sockets(ours, arrivals):
            await asyncio.sleep(0.5)  # let every subscribe be answered
            web_figures, teams_figures, teams_at = await _phase(
                ctx, replies, arrivals, connector, load=load
            )
        if load == WARM_LOAD:
            continue
        if load == LIGHT_LOAD and explain:
            assert svc.app is not None
            steps = breakdown(
                read_marks(svc.app.log),
                [
                    (posted, arrivals.at.get(text), teams_at.get(text))
                    for text, (posted, _) in replies.sent.items()
                ],
            )
        rows.append({"load": load, "path": WEB, **web_figures})
        rows.append({"load": load, "path": TEAMS, **teams_figures})
    return rows, steps, employees


async def agent_reply(ctx: Context) -> dict[str, Figures]:
    """Measure reply latency and rate to /ws and to the fake connector, at 1 and 2 workers."""
    runs: dict[int, list[Figures]] = {}
    steps: Figures = {}
    bare: dict[tuple[str, str], Figures] = {}
    employee_count = 0
    for workers in WORKER_COUNTS:
        # A connector per run: each run's limiter starts afresh, and so do Teams' counts.
        async with (
            teams() as connector,
            fresh_service(
                ctx.pg,
                ctx.logs,
                "reply",
                workers=workers,
                profile=ctx.profile_path("reply") if workers == 1 else None,
                TRACE_LATENCY="true",
            ) as svc,
        ):
            runs[workers], found, employees = await _measure(
                ctx, svc, connector, tag=f"w{workers}", explain=workers == 1
            )
            employee_count = len(employees)
            if workers == 1:
                steps = found
                bare = await _baseline(ctx, svc, connector, employees)
    for path, group in steps.items():
        print(f"where a light reply's time goes ({path}):")
        print(table(group, ("step", "samples", "p50_ms", "p99_ms")))
    return {"agent_reply": _report(runs, steps, bare, employee_count)}


def _report(
    runs: dict[int, list[Figures]],
    steps: Figures,
    bare: dict[tuple[str, str], Figures],
    employee_count: int,
) -> Figures:
    """Set the bare app's figures on each 1-worker row and build the figures with the headline."""
    rows = runs[1]
    for row in rows:
        base = bare[(row["load"], row["path"])]
        row["baseline_p50_ms"], row["baseline_p99_ms"] = base["p50_ms"], base["p99_ms"]
        row["baseline_completed_per_s"] = base["completed_per_s"]
    figures: Figures = {
        "what": f"sandbox agent reply (control API) -> signed webhook -> service -> the "
        f"employee's /ws socket and the fake Bot Connector; {employee_count} employees, one "
        f"socket each, {TENANTS} Teams tenants (Teams allows 50 sends/s each); flat-out = "
        f"{FLAT_CONCURRENCY} posters at once; `tickets serve --workers N` for N in "
        f"{', '.join(map(str, WORKER_COUNTS))}, each warmed up first ({WARMUP} replies flat out)",
        "baseline": "the same sandbox webhooks into a bare aiohttp app that routes each to the "
        "conversation's socket and forwards one POST to the same fake connector",
        "rows": rows,
        "breakdown_light": steps,
        "headline": [
            *(
                headline(
                    f"reply p99, {row['path']}, {row['load']}",
                    row["p99_ms"],
                    row["baseline_p99_ms"],
                    "ms",
                    lower_is_better=True,
                )
                for row in rows
                if row["load"] != FLAT_LOAD
            ),
            *(
                headline(
                    f"replies/s completed, {row['path']}, {FLAT_LOAD}",
                    row["completed_per_s"],
                    row["baseline_completed_per_s"],
                    "replies/s",
                    lower_is_better=False,
                )
                for row in rows
                if row["load"] == FLAT_LOAD
            ),
            *_worker_headlines(runs),
        ],
    }
    for workers, found in runs.items():
        if workers != 1:
            figures[f"rows_{workers}_workers"] = found
    return figures


def _worker_headlines(runs: dict[int, list[Figures]]) -> list[Figures]:
    """Each worker count against 1: replies/s completed when loaded, p99 when not flat out."""

    def pick(load: str, path: str, key: str) -> dict[int, float | None]:
        return {
            workers: next(r[key] for r in rows if (r["load"], r["path"]) == (load, path))
            for workers, rows in runs.items()
        }

    out: list[Figures] = []
    for load in LOADS[1:]:
        for path in (WEB, TEAMS):
            out += versus_one(
                f"replies/s completed, {path}, {load}",
                pick(load, path, "completed_per_s"),
                "replies/s",
                lower_is_better=False,
            )
    for load in LOADS[:2]:
        for path in (WEB, TEAMS):
            out += versus_one(
                f"reply p99, {path}, {load}",
                pick(load, path, "p99_ms"),
                "ms",
                lower_is_better=True,
            )
    return out


async def _baseline(
    ctx: Context, svc: Service, connector: FakeConnector, employees: Sequence[Employee]
) -> dict[tuple[str, str], Figures]:
    """Aim the sandbox's webhooks at the bare app and repeat every load."""
    out: dict[tuple[str, str], Figures] = {}
    async with baseline(ctx.logs, connector=connector.url) as (base_url, _process):
        async with httpx.AsyncClient() as http:
            aimed = await http.post(
                f"{svc.sandbox_url}/sandbox/api/webhook",
                json={"url": f"{base_url}/api/chatwoot/webhook", "secret": "x"},
            )
            aimed.raise_for_status()
        ws_url = base_url.replace("http://", "ws://", 1) + "/ws"
        plans: list[SocketPlan] = [
            (f"{ws_url}?conversation={e.conversation}", {}, None) for e in employees
        ]
        for index, load in enumerate((WARM_LOAD, *LOADS)):
            arrivals = Arrivals()
            replies = Replies(
                svc.sandbox_url, employees, f"b{index}", lambda e: f"a:base-{e.conversation}"
            )
            async with sockets(plans, arrivals):
                await asyncio.sleep(0.2)
                web_figures, teams_figures, _ = await _phase(
                    ctx, replies, arrivals, connector, load=load
                )
            if load == WARM_LOAD:
                continue
            out[(load, WEB)] = web_figures
            out[(load, TEAMS)] = teams_figures
    return out
