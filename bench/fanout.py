"""Benchmark 3: thousands of /ws sockets on one process: memory each, one event to 1,000.

The service lets one employee hold at most `MAX_SOCKETS_PER_USER` sockets (tabs, devices) and
a ticket is watched only by its owner, so the 1,000 watchers are 50 employees with 20 sockets
each, and "one event" is one agent reply on each of their tickets, posted at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from bench.context import Context, Figures
from bench.harness import WEBHOOK_SECRET, Process, baseline, service, teams
from bench.load import ms, percentile
from bench.payloads import agent_message, sign
from bench.report import headline
from bench.seed import mint_sessions, seed_tickets
from web.ws import MAX_SOCKETS_PER_USER

WATCHERS = 1_000  # sockets on the tickets that change: employees' tabs and devices
TOTAL = 10_000  # sockets open on the process in the second phase
OPEN_CONCURRENCY = 50
WAIT = 60.0


@dataclass
class Socket:
    """One client socket: when its subscription was confirmed, when each reply arrived."""

    ws: aiohttp.ClientWebSocketResponse
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: dict[str, float] = field(default_factory=dict)


@dataclass
class Crowd:
    """Every socket the driver holds open, and the ones watching the busy ticket."""

    http: aiohttp.ClientSession
    sockets: list[Socket] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(
        self,
        url: str,
        headers: dict[str, str],
        subscribe: dict[str, object] | None,
        gate: asyncio.Semaphore,
    ) -> Socket:
        """Open one socket (subscribing when asked) and start reading it."""
        async with gate:
            ws = await self.http.ws_connect(url, headers=headers, heartbeat=None)
            socket = Socket(ws)
            self.sockets.append(socket)
            self.readers.append(asyncio.create_task(_read(socket)))
            if subscribe is not None:
                await ws.send_json(subscribe)
            await asyncio.wait_for(socket.ready.wait(), WAIT)
            return socket

    async def close(self) -> None:
        """Stop reading and close every socket."""
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(s.ws.close() for s in self.sockets), return_exceptions=True)


async def _read(socket: Socket) -> None:
    async for message in socket.ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        kind = frame.get("type")
        if kind in ("ticket", "hello"):
            socket.ready.set()
        elif kind == "item":
            content = str(frame["item"].get("content") or "")
            socket.arrived.setdefault(content, time.monotonic())


@contextlib.asynccontextmanager
async def crowd() -> AsyncIterator[Crowd]:
    """Hold sockets open for the duration of the block."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        group = Crowd(http)
        try:
            yield group
        finally:
            await group.close()


async def _settled_rss(process: Process) -> int:
    # Freshly opened sockets leave garbage behind; give the allocator a moment to settle.
    await asyncio.sleep(1.0)
    return process.rss_bytes()


async def _reach(watchers: list[tuple[Socket, str]], posts: list[asyncio.Task[bool]]) -> Figures:
    """Wait until every watcher got its text; return arrival figures from the posts' start."""
    started = time.monotonic()
    ok = all(await asyncio.gather(*posts))
    deadline = started + WAIT
    # Polling a thousand sockets every 5 ms costs less than an event per socket per frame.
    while time.monotonic() < deadline and not all(text in s.arrived for s, text in watchers):  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    values = [s.arrived[text] - started for s, text in watchers if text in s.arrived]
    return {
        "accepted": ok,
        "reached": len(values),
        "first_ms": ms(min(values, default=math.nan)),
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "last_ms": ms(max(values, default=math.nan)),
    }


def _groups(watchers: int) -> list[int]:
    """Split the watchers into employees of at most `MAX_SOCKETS_PER_USER` sockets each."""
    full, rest = divmod(watchers, MAX_SOCKETS_PER_USER)
    return [MAX_SOCKETS_PER_USER] * full + ([rest] if rest else [])


async def _post_webhook(http: aiohttp.ClientSession, url: str, body: bytes) -> bool:
    delivery = sign(body, WEBHOOK_SECRET)
    async with http.post(url, data=delivery.body, headers=delivery.headers) as response:
        await response.read()
        return response.status == 200


async def fan_out(ctx: Context) -> dict[str, Figures]:
    """Open 1k then 10k sockets on the service and on the bare app; push one event to 1k."""
    watchers, total = ctx.n(WATCHERS, minimum=10), ctx.n(TOTAL, minimum=20)
    ours = await _ours(ctx, watchers, total)
    bare = await _bare(ctx, watchers, total)
    rows: list[Figures] = []
    for key in ("open_1", "open_2"):
        rows.append({"phase": ours[key]["phase"], **ours[key], **_prefixed(bare[key])})
    for row in rows:
        row.pop("baseline_phase", None)
    figures: Figures = {
        "what": f"{watchers:,} sockets watching {len(_groups(watchers))} tickets (their owners' "
        f"tabs and devices, {MAX_SOCKETS_PER_USER} each: the per-employee cap), then up to "
        f"{total:,} sockets (other employees, each watching their own ticket) on one process; "
        "one agent reply webhook for each watched ticket, posted at once",
        "baseline": "bare aiohttp app: the same sockets, the same webhook routed to the "
        "conversation's sockets (no database, no per-socket re-read)",
        "phases": rows,
        "headline": [
            *(
                headline(
                    f"memory per socket, {row['sockets']:,} open",
                    row["kb_per_socket"],
                    row["baseline_kb_per_socket"],
                    "KB",
                    lower_is_better=True,
                )
                for row in rows
            ),
            *(
                headline(
                    f"event to all {watchers:,} watchers, {row['sockets']:,} open",
                    row["last_ms"],
                    row["baseline_last_ms"],
                    "ms",
                    lower_is_better=True,
                )
                for row in rows
            ),
        ],
    }
    return {"fan_out": figures}


def _prefixed(figures: Figures) -> Figures:
    return {f"baseline_{k}": v for k, v in figures.items()}


async def _ours(ctx: Context, watchers: int, total: int) -> dict[str, Figures]:
    database_url = await ctx.pg.fresh_database("fanout")
    out: dict[str, Figures] = {}
    try:
        async with (
            teams() as connector,
            service(database_url, ctx.logs, profile=ctx.profile_path("fanout")) as svc,
        ):
            groups = _groups(watchers)
            others = total - watchers
            seeded = await seed_tickets(
                database_url,
                first=0,
                stop=len(groups) + others,
                per_user=1,
                messages_per_ticket=0,
                service_url=connector.url,
            )
            users = [seeded.user(i) for i in range(len(groups) + others)]
            tokens = await mint_sessions(database_url, users)
            ws_url = svc.url.replace("http://", "ws://", 1) + "/ws"

            def plan(index: int) -> tuple[dict[str, str], dict[str, object]]:
                headers = {"Cookie": f"tft_session={tokens[users[index]]}", "Origin": svc.url}
                ticket = {"type": "subscribe", "ticketId": seeded.ticket(index), "after": 0}
                return headers, ticket

            def event(phase: int) -> tuple[list[tuple[Socket, str]], list[asyncio.Task[bool]]]:
                """One reply on each watched ticket; which text each watcher waits for."""
                texts = [f"bench-fanout-{phase}-{g}" for g in range(len(groups))]
                posts = [
                    asyncio.create_task(
                        _post_webhook(
                            group.http,
                            svc.webhook_url,
                            agent_message(
                                phase * 100_000 + g, seeded.conversation(g), content=text
                            ),
                        )
                    )
                    for g, text in enumerate(texts)
                ]
                return [(socket, texts[g]) for socket, g in watching], posts

            assert svc.app is not None
            gate = asyncio.Semaphore(OPEN_CONCURRENCY)
            async with crowd() as group:
                rss0 = await _settled_rss(svc.app)
                started = time.monotonic()
                opened = await asyncio.gather(
                    *(
                        group.open(ws_url, *plan(g), gate)
                        for g, size in enumerate(groups)
                        for _ in range(size)
                    )
                )
                owners = [g for g, size in enumerate(groups) for _ in range(size)]
                watching = list(zip(opened, owners, strict=True))
                opened_1 = time.monotonic() - started
                rss1 = await _settled_rss(svc.app)
                reach_1 = await _reach(*event(1))
                out["open_1"] = _phase(watchers, rss0, rss1, opened_1, reach_1)
                started = time.monotonic()
                await asyncio.gather(
                    *(
                        group.open(ws_url, *plan(i), gate)
                        for i in range(len(groups), len(groups) + others)
                    )
                )
                opened_2 = time.monotonic() - started
                rss2 = await _settled_rss(svc.app)
                reach_2 = await _reach(*event(2))
                out["open_2"] = _phase(total, rss0, rss2, opened_2 + opened_1, reach_2)
    finally:
        await ctx.pg.drop(database_url)
    return out


async def _bare(ctx: Context, watchers: int, total: int) -> dict[str, Figures]:
    out: dict[str, Figures] = {}
    groups = _groups(watchers)
    async with baseline(ctx.logs) as (base_url, process), crowd() as group:
        ws_url = base_url.replace("http://", "ws://", 1) + "/ws"
        hook = f"{base_url}/api/chatwoot/webhook"
        gate = asyncio.Semaphore(OPEN_CONCURRENCY)

        def event(phase: int) -> tuple[list[tuple[Socket, str]], list[asyncio.Task[bool]]]:
            texts = [f"bench-fanout-{phase}-{g}" for g in range(len(groups))]
            posts = [
                asyncio.create_task(
                    _post_webhook(group.http, hook, agent_message(g + 1, g + 1, content=text))
                )
                for g, text in enumerate(texts)
            ]
            return [(socket, texts[g]) for socket, g in watching], posts

        rss0 = await _settled_rss(process)
        started = time.monotonic()
        opened = await asyncio.gather(
            *(
                group.open(f"{ws_url}?conversation={g + 1}", {}, None, gate)
                for g, size in enumerate(groups)
                for _ in range(size)
            )
        )
        watching = list(
            zip(opened, [g for g, n in enumerate(groups) for _ in range(n)], strict=True)
        )
        opened_1 = time.monotonic() - started
        rss1 = await _settled_rss(process)
        out["open_1"] = _phase(watchers, rss0, rss1, opened_1, await _reach(*event(1)))
        started = time.monotonic()
        await asyncio.gather(
            *(
                group.open(f"{ws_url}?conversation={i + len(groups) + 1}", {}, None, gate)
                for i in range(total - watchers)
            )
        )
        opened_2 = time.monotonic() - started
        rss2 = await _settled_rss(process)
        out["open_2"] = _phase(total, rss0, rss2, opened_1 + opened_2, await _reach(*event(2)))
    return out


def _phase(sockets: int, rss0: int, rss: int, opened: float, reach: Figures) -> Figures:
    return {
        "phase": f"{sockets:,} open",
        "sockets": sockets,
        "rss_mb": round(rss / 2**20, 1),
        "kb_per_socket": round((rss - rss0) / sockets / 1024, 1),
        "open_per_s": round(sockets / opened, 1) if opened > 0 else None,
        **reach,
    }
