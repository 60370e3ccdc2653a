"""Benchmarks 1 and 5: signed webhooks at fixed rates and flat out, then each replayed 3x."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import aiohttp
import asyncpg

from bench.context import Context, Figures
from bench.db_baseline import POOL_SIZE, db_baseline
from bench.harness import WEBHOOK_SECRET, WORKER_COUNTS, Process, baseline, fresh_service, teams
from bench.load import Run, Send, fixed_rate, flat_out, ratio
from bench.payloads import Delivery, agent_message, sign
from bench.report import headline, versus_one
from bench.seed import count_rows, plain, seed_tickets, settle

RATES = (100, 500, 1000)
LEVEL_SECONDS = 2.0
CONCURRENCY = 50
TICKETS = 200
WARMUP = 40
WRITTEN = ("messages", "outbox", "webhook_receipts")
ALONE = "flat-out, no Teams chat"  # the level that measures ingest without the sends it queues


def client(limit: int = 1000) -> aiohttp.ClientSession:
    """Return the load generator's HTTP client (one pool, generous limits, 30 s per request)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=False),
        timeout=aiohttp.ClientTimeout(total=30),
    )


def poster(http: aiohttp.ClientSession, url: str, deliveries: Sequence[Delivery]) -> Send:
    """Return a sender that POSTs the index-th delivery and succeeds on 200."""

    async def send(index: int) -> bool:
        delivery = deliveries[index]
        async with http.post(url, data=delivery.body, headers=delivery.headers) as response:
            await response.read()
            return response.status == 200

    return send


class Messages:
    """Hand out agent replies with ids never used before, spread over the seeded tickets."""

    def __init__(self, conversations: Sequence[int], first_id: int = 1) -> None:
        self._conversations = conversations
        self._ids = itertools.count(first_id)

    def batch(self, count: int, *, copies: int = 1) -> list[Delivery]:
        """Return `count` signed deliveries; with copies > 1 each message is sent that often."""
        out: list[Delivery] = []
        for _ in range(count):
            message_id = next(self._ids)
            body = agent_message(
                message_id, self._conversations[message_id % len(self._conversations)]
            )
            out.extend(sign(body, WEBHOOK_SECRET) for _ in range(copies))
        return out


async def _levels(
    ctx: Context,
    url: str,
    messages: Messages,
    *,
    database_url: str | None = None,
    process: Process | None = None,
) -> list[Figures]:
    """Offer each fixed rate, then flat out; return one row of figures per level."""
    rows: list[Figures] = []
    async with client() as http:
        # Warm up: open the pools (ours and the service's) before anything is timed.
        warm = messages.batch(WARMUP)
        await flat_out(poster(http, url, warm), count=len(warm), concurrency=10, time_limit=20)
        plans: list[tuple[str, int | None]] = [(f"{rate}/s", rate) for rate in RATES]
        plans.append(("flat-out", None))
        for label, rate in plans:
            count = ctx.n(int((rate or 1000) * LEVEL_SECONDS), minimum=10)
            deliveries = messages.batch(count)
            before = await count_rows(database_url, WRITTEN) if database_url else {}
            cpu = process.cpu_seconds() if process else 0.0
            send = poster(http, url, deliveries)
            limit = ctx.seconds(12.0)
            if rate is None:
                run = await flat_out(send, count=count, concurrency=CONCURRENCY, time_limit=limit)
            else:
                run = await fixed_rate(send, rate=rate, count=count, time_limit=limit)
            row: Figures = {"level": label, **run.summary(rate)}
            if process is not None:
                row["cpu_ms_per_request"] = _cpu_per(process.cpu_seconds() - cpu, run)
            if database_url:
                row["backlog_s"] = await settle(database_url, WRITTEN)
                after = await count_rows(database_url, WRITTEN)
                written = sum(after.values()) - sum(before.values())
                row["rows_written"] = written
                row["rows_per_webhook"] = round(written / run.ok, 2) if run.ok else None
            rows.append(row)
    return rows


async def _ingest_alone(
    ctx: Context, url: str, messages: Messages, database_url: str, *, process: Process | None
) -> Figures:
    """Flat out with every Teams chat switched off: ingest's own cost, no Teams sends after it."""
    count = ctx.n(1000, minimum=10)
    connection = await asyncpg.connect(plain(database_url))
    try:
        await connection.execute("UPDATE teams_conversation_refs SET state = 'uninstalled'")
        cpu = process.cpu_seconds() if process else 0.0
        async with client() as http:
            run = await flat_out(
                poster(http, url, messages.batch(count)),
                count=count,
                concurrency=CONCURRENCY,
                time_limit=ctx.seconds(12.0),
            )
        row: Figures = {"level": ALONE, **run.summary()}
        if process is not None:
            row["cpu_ms_per_request"] = _cpu_per(process.cpu_seconds() - cpu, run)
    finally:
        await connection.execute("UPDATE teams_conversation_refs SET state = 'active'")
        await connection.close()
    return row


def _cpu_per(seconds: float, run: Run) -> float | None:
    return round(seconds * 1000 / run.ok, 3) if run.ok else None


async def webhook_ingest(ctx: Context) -> dict[str, Figures]:
    """Run benchmark 1 (ingest vs two baselines, 1 and 2 workers) and 5 (duplicates)."""
    runs: dict[int, list[Figures]] = {}
    alone: dict[int, Figures] = {}
    conversations: list[int] = []
    async with teams() as connector:
        for workers in WORKER_COUNTS:
            async with fresh_service(
                ctx.pg,
                ctx.logs,
                "ingest",
                workers=workers,
                profile=ctx.profile_path("ingest") if workers == 1 else None,
            ) as svc:
                database_url = svc.database_url
                # The service migrated the database: now it can be seeded.
                conversations = await _seed(database_url, connector.url)
                messages = Messages(conversations)
                runs[workers] = await _levels(
                    ctx, svc.webhook_url, messages, database_url=database_url, process=svc.app
                )
                alone[workers] = await _ingest_alone(
                    ctx, svc.webhook_url, messages, database_url, process=svc.app
                )
                if workers == 1:
                    duplicates = await _duplicates(ctx, svc.webhook_url, messages, database_url)
    stored, bare = await _baselines(ctx, conversations)
    ours = runs[1]
    for row, base, floor in zip(ours, bare, stored, strict=True):
        _compare(row, base, "baseline")
        _compare(row, floor, "db_baseline")
    ingest: Figures = {
        "what": "signed message_created webhooks, unique ids, over 200 tickets with a Teams chat",
        "baseline": "bare aiohttp app answering the same POST with 200, same client, same run",
        "db_baseline": "bare aiohttp app that checks the HMAC and does one INSERT … ON CONFLICT "
        f"DO NOTHING per webhook (asyncpg, pool of {POOL_SIZE}), same PostgreSQL, same run",
        "levels": ours,
        "db_baseline_levels": stored,
        "alone": alone,
        "headline": [
            *_headlines(ours),
            *_alone_headlines(alone, stored[-1]),
            *_worker_headlines(runs),
        ],
    }
    for workers, rows in runs.items():
        if workers != 1:
            ingest[f"levels_{workers}_workers"] = rows
    return {"webhook_ingest": ingest, "duplicates": duplicates}


async def _baselines(ctx: Context, conversations: list[int]) -> tuple[list[Figures], list[Figures]]:
    """Run the levels on the database baseline and on the bare app; return both rows."""
    database_url = await ctx.pg.fresh_database("ingest_floor")
    try:
        async with db_baseline(ctx.logs, database_url) as (db_url, db_process):
            stored = await _levels(
                ctx, f"{db_url}/api/chatwoot/webhook", Messages(conversations), process=db_process
            )
    finally:
        await ctx.pg.drop(database_url)
    async with baseline(ctx.logs) as (base_url, base_process):
        bare = await _levels(
            ctx, f"{base_url}/api/chatwoot/webhook", Messages(conversations), process=base_process
        )
    return stored, bare


async def _seed(database_url: str, connector_url: str) -> list[int]:
    """Seed the tickets (each owner with a Teams chat); return their conversation ids."""
    seeded = await seed_tickets(
        database_url,
        first=0,
        stop=TICKETS,
        per_user=1,
        messages_per_ticket=0,
        service_url=connector_url,
        tenants=4,
    )
    return [seeded.conversation(i) for i in range(TICKETS)]


def _compare(row: Figures, base: Figures, name: str) -> None:
    """Copy a baseline's figures next to ours and add the ratios."""
    row[f"{name}_accepted_per_s"] = base["accepted_per_s"]
    row[f"{name}_p50_ms"] = base["p50_ms"]
    row[f"{name}_p99_ms"] = base["p99_ms"]
    row[f"{name}_cpu_ms_per_request"] = base.get("cpu_ms_per_request")
    prefix = "ratio" if name == "baseline" else f"ratio_{name}"
    row[f"{prefix}_accepted"] = ratio(row["accepted_per_s"], base["accepted_per_s"])
    row[f"{prefix}_p50"] = ratio(row["p50_ms"], base["p50_ms"])


def _headlines(ours: list[Figures]) -> list[Figures]:
    flat = ours[-1]
    return [
        *(
            headline(
                f"accepted/s, {row['level']}",
                row["accepted_per_s"],
                row["baseline_accepted_per_s"],
                "req/s",
                lower_is_better=False,
            )
            for row in ours
        ),
        headline(
            "accepted/s, flat-out, vs DB-bound baseline",
            flat["accepted_per_s"],
            flat["db_baseline_accepted_per_s"],
            "req/s",
            lower_is_better=False,
        ),
        headline(
            "CPU per webhook, flat-out, vs DB-bound baseline",
            flat.get("cpu_ms_per_request"),
            flat["db_baseline_cpu_ms_per_request"],
            "ms",
            lower_is_better=True,
        ),
        *(
            headline(
                f"p99, {row['level']}",
                row["p99_ms"],
                row["baseline_p99_ms"],
                "ms",
                lower_is_better=True,
            )
            for row in ours
        ),
    ]


def _alone_headlines(alone: dict[int, Figures], floor: Figures) -> list[Figures]:
    """Ingest without the Teams sends it queues, against the DB-bound baseline flat out."""
    one = alone[1]
    return [
        headline(
            f"accepted/s, {ALONE}, vs DB-bound baseline",
            one["accepted_per_s"],
            floor["accepted_per_s"],
            "req/s",
            lower_is_better=False,
        ),
        headline(
            f"CPU per webhook, {ALONE}, vs DB-bound baseline",
            one.get("cpu_ms_per_request"),
            floor.get("cpu_ms_per_request"),
            "ms",
            lower_is_better=True,
        ),
        *versus_one(
            f"accepted/s, {ALONE}",
            {workers: row["accepted_per_s"] for workers, row in alone.items()},
            "req/s",
            lower_is_better=False,
        ),
    ]


def _worker_headlines(runs: dict[int, list[Figures]]) -> list[Figures]:
    return versus_one(
        "accepted/s, flat-out",
        {workers: rows[-1]["accepted_per_s"] for workers, rows in runs.items()},
        "req/s",
        lower_is_better=False,
    )


async def _duplicates(ctx: Context, url: str, messages: Messages, database_url: str) -> Figures:
    """Flat out with unique webhooks, then with every webhook delivered 3 times at once."""
    count = ctx.n(1000, minimum=10)
    async with client() as http:
        unique = await flat_out(
            poster(http, url, messages.batch(count)),
            count=count,
            concurrency=CONCURRENCY,
            time_limit=ctx.seconds(20.0),
        )
        await settle(database_url, WRITTEN)
        before = await count_rows(database_url, WRITTEN)
        replayed = messages.batch(count, copies=3)
        tripled = await flat_out(
            poster(http, url, replayed),
            count=len(replayed),
            concurrency=CONCURRENCY,
            time_limit=ctx.seconds(30.0),
        )
        await settle(database_url, WRITTEN)
        after = await count_rows(database_url, WRITTEN)
    stored = after["messages"] - before["messages"]
    return {
        "what": "each webhook delivered 3x (copies racing), flat out, same service as (1)",
        "baseline": "the same service flat out with unique webhooks, measured just before",
        "unique": unique.summary(),
        "replayed_3x": tripled.summary(),
        "unique_events": count,
        "messages_stored": stored,
        "requests_ratio": ratio(tripled.per_second, unique.per_second),
        "events_ratio": ratio(tripled.per_second / 3, unique.per_second),
        "headline": [
            headline(
                "events/s, each webhook 3x",
                round(tripled.per_second / 3, 1),
                round(unique.per_second, 1),
                "events/s",
                lower_is_better=False,
            ),
            headline(
                "requests/s, each webhook 3x",
                round(tripled.per_second, 1),
                round(unique.per_second, 1),
                "req/s",
                lower_is_better=False,
            ),
        ],
        "rows_per_request": round((sum(after.values()) - sum(before.values())) / tripled.ok, 2)
        if tripled.ok
        else None,
    }
