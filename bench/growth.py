"""Benchmark 6: ingest rate and ticket-list latency as the database grows (1k, 10k, 100k)."""

from __future__ import annotations

import random

import aiohttp

from bench.context import Context, Figures
from bench.harness import Service, service, teams
from bench.ingest import CONCURRENCY, WRITTEN, Messages, client, poster
from bench.load import Run, Send, flat_out, ratio
from bench.report import headline
from bench.seed import Seeded, drain_outbox, mint_sessions, seed_tickets, settle

SIZES = (1_000, 10_000, 100_000)
PER_USER = 20  # tickets per employee: the list a person pages through stays the same size
COOKIE = "tft_session"  # web.sessions.cookie_name on plain http


def lister(http: aiohttp.ClientSession, url: str, tokens: list[str]) -> Send:
    """Return a sender that lists the first page of a random signed-in user's tickets."""

    async def send(index: int) -> bool:
        token = tokens[index % len(tokens)]
        async with http.get(
            f"{url}/api/conversations?limit=20", headers={"Cookie": f"{COOKIE}={token}"}
        ) as response:
            body = await response.json()
            return response.status == 200 and bool(body.get("conversations"))

    return send


def pinger(http: aiohttp.ClientSession, url: str) -> Send:
    """Return a sender that asks /healthz: the same service's floor for one round trip."""

    async def send(_index: int) -> bool:
        async with http.get(f"{url}/healthz") as response:
            await response.read()
            return response.status == 200

    return send


async def _has_list_api(svc: Service) -> bool:
    async with aiohttp.ClientSession() as http, http.get(f"{svc.url}/api/conversations") as r:
        return r.status != 404


async def growth(ctx: Context) -> dict[str, Figures]:
    """Seed up to each size with bulk SQL, then measure ingest and the ticket list there."""
    sizes = [ctx.n(size, minimum=40 * (i + 1)) for i, size in enumerate(SIZES)]
    database_url = await ctx.pg.fresh_database("growth")
    rows: list[Figures] = []
    notes: list[str] = []
    rng = random.Random(8)
    try:
        async with (
            teams() as connector,
            service(database_url, ctx.logs, profile=ctx.profile_path("growth")) as svc,
        ):
            has_list = await _has_list_api(svc)
            if not has_list:
                notes.append("ticket list: /api/conversations not served yet (web area)")
            done = 0
            first_message = 50_000_000
            for size in sizes:
                seeded = await seed_tickets(
                    database_url,
                    first=done,
                    stop=size,
                    per_user=PER_USER,
                    service_url=connector.url,
                    tenants=4,
                )
                done = size
                row: Figures = {"tickets": size, "messages": size * 2, "users": size // PER_USER}
                conversations = [
                    seeded.conversation(i) for i in rng.sample(range(size), min(200, size))
                ]
                messages = Messages(conversations, first_id=first_message)
                first_message += 1_000_000
                count = ctx.n(1000, minimum=10)
                async with client() as http:
                    run = await flat_out(
                        poster(http, svc.webhook_url, messages.batch(count)),
                        count=count,
                        concurrency=CONCURRENCY,
                        time_limit=ctx.seconds(20.0),
                    )
                    row["ingest_per_s"] = round(run.per_second, 1)
                    row["ingest_p99_ms"] = run.summary()["p99_ms"]
                    await settle(database_url, WRITTEN)
                    # The Teams deliveries of that burst run on the same core: let them finish
                    # so the list is timed on an otherwise idle service.
                    row["outbox_drain_s"] = await drain_outbox(database_url)
                    row.update(await _list_latency(ctx, http, svc, seeded, size, has_list))
                rows.append(row)
    finally:
        await ctx.pg.drop(database_url)
    return {"growth": _figures(rows, notes)}


def _figures(rows: list[Figures], notes: list[str]) -> Figures:
    """Add the ratios to the smallest size and build the growth figures with their headline."""
    first = rows[0]
    for row in rows:
        row["ingest_ratio_to_smallest"] = ratio(row["ingest_per_s"], first["ingest_per_s"])
        row["list_p50_ratio_to_smallest"] = ratio(row.get("list_p50_ms"), first.get("list_p50_ms"))
    last = rows[-1]
    figures: Figures = {
        "what": "tickets seeded with bulk SQL (2 messages each, 20 per user); ingest flat out and "
        "GET /api/conversations (first page of 20, random signed-in users) at each size",
        "baseline": "the same figures at the smallest size, and /healthz on the same service",
        "sizes": rows,
        "notes": notes,
        "headline": [
            headline(
                f"ingest/s at {last['tickets']:,} vs {first['tickets']:,} tickets",
                last["ingest_per_s"],
                first["ingest_per_s"],
                "req/s",
                lower_is_better=False,
            ),
            headline(
                f"list p50 at {last['tickets']:,} vs {first['tickets']:,} tickets",
                last.get("list_p50_ms"),
                first.get("list_p50_ms"),
                "ms",
                lower_is_better=True,
            ),
            headline(
                f"list p50 at {last['tickets']:,} tickets vs /healthz",
                last.get("list_p50_ms"),
                last.get("healthz_p50_ms"),
                "ms",
                lower_is_better=True,
            ),
        ],
    }
    return figures


async def _list_latency(
    ctx: Context,
    http: aiohttp.ClientSession,
    svc: Service,
    seeded: Seeded,
    size: int,
    has_list: bool,
) -> Figures:
    """Time the ticket list one request at a time (latency, not throughput), and /healthz."""
    count = ctx.n(500, minimum=10)
    floor = await flat_out(pinger(http, svc.url), count=count, concurrency=1, time_limit=20.0)
    out: Figures = {"healthz_p50_ms": floor.summary()["p50_ms"]}
    if not has_list:
        return out
    users = sorted({seeded.user(i) for i in random.Random(size).sample(range(size), min(50, size))})
    tokens = list((await mint_sessions(svc.database_url, users)).values())
    run: Run = await flat_out(
        lister(http, svc.url, tokens), count=count, concurrency=1, time_limit=ctx.seconds(20.0)
    )
    summary = run.summary()
    out.update(list_p50_ms=summary["p50_ms"], list_p99_ms=summary["p99_ms"], list_errors=run.errors)
    return out
