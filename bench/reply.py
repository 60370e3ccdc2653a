"""Benchmark 2: an agent's reply in the sandbox, until the employee sees it on /ws and in Teams."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import httpx

from bench.breakdown import breakdown, read_marks
from bench.context import Context, Figures
from bench.harness import INBOX_IDENTIFIER, Service, baseline, service, teams
from bench.load import fixed_rate, ms, percentile
from bench.report import headline, table
from bench.seed import mint_sessions, plain, seed_tickets
from tests.fakes.connector import FakeConnector

EMPLOYEES = 200
LIGHT = 30  # replies one at a time
RATE = 100  # replies per second under load
LOAD_SECONDS = 3.0
TENANTS = 4  # Teams allows 50 requests/s per tenant: 100 replies/s need more than one
WAIT = 30.0


# A socket to open: its URL, the headers of the upgrade, and the frame to send once open.
SocketPlan = tuple[str, dict[str, str], dict[str, object] | None]


@dataclass
class Employee:
    """One employee: their ticket, its Chatwoot conversation and their Teams chat."""

    user_id: int
    ticket_id: int
    conversation: int
    teams_chat: str


@dataclass
class Arrivals:
    """When each reply (by its unique text) reached a web socket."""

    at: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)


async def _sandbox_conversations(sandbox_url: str, count: int) -> list[int]:
    """Open one contact and conversation per employee through the sandbox's Client API."""
    base = f"{sandbox_url}/public/api/v1/inboxes/{INBOX_IDENTIFIER}"
    conversations: list[int] = []
    async with httpx.AsyncClient(timeout=10.0) as http:
        for index in range(count):
            contact = await http.post(
                f"{base}/contacts",
                json={"name": f"Bench User {index}", "email": f"bench{index}@example.com"},
            )
            contact.raise_for_status()
            source_id = contact.json()["source_id"]
            created = await http.post(f"{base}/contacts/{source_id}/conversations", json={})
            created.raise_for_status()
            conversations.append(int(created.json()["id"]))
    return conversations


async def employees_with_chats(
    ctx: Context, svc: Service, connector: FakeConnector, *, count: int, tenants: int
) -> list[Employee]:
    """Seed `count` employees with a ticket, its sandbox conversation and a Teams chat each."""
    seeded = await seed_tickets(
        svc.database_url,
        first=0,
        stop=count,
        per_user=1,
        messages_per_ticket=0,
        service_url=connector.url,
        tenants=tenants,
    )
    conversations = await _sandbox_conversations(svc.sandbox_url, count)
    tickets = [seeded.ticket(i) for i in range(count)]
    connection = await asyncpg.connect(plain(svc.database_url))
    try:
        await connection.execute(
            """
            UPDATE tickets SET chatwoot_conversation_id = m.conversation
            FROM unnest($1::bigint[], $2::bigint[]) AS m(ticket, conversation)
            WHERE tickets.id = m.ticket
            """,
            tickets,
            conversations,
        )
    finally:
        await connection.close()
    return [
        Employee(seeded.user(i), tickets[i], conversations[i], f"a:bench-{i}") for i in range(count)
    ]


@contextlib.asynccontextmanager
async def _sockets(urls: Sequence[SocketPlan], arrivals: Arrivals) -> AsyncIterator[None]:
    """Open one socket per (url, headers, subscribe frame) and note every reply that arrives."""
    # No pool limit: every socket holds its connection for the whole phase.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        sockets = [
            await http.ws_connect(url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=5))
            for url, headers, _ in urls
        ]
        for socket, (_, _, subscribe) in zip(sockets, urls, strict=True):
            if subscribe is not None:
                await socket.send_json(subscribe)
        readers = [asyncio.create_task(_read(socket, arrivals)) for socket in sockets]
        try:
            yield
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            for socket in sockets:
                await socket.close()


async def _read(socket: aiohttp.ClientWebSocketResponse, arrivals: Arrivals) -> None:
    async for message in socket:
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        if frame.get("type") == "item":
            content = str(frame["item"].get("content") or "")
            if content.startswith("bench-reply-"):
                arrivals.at.setdefault(content, time.monotonic())
                arrivals.event.set()


class Replies:
    """Post agent replies through the sandbox's control API and remember when each left."""

    def __init__(
        self,
        sandbox_url: str,
        employees: Sequence[Employee],
        tag: str,
        chat_of: Callable[[Employee], str],
    ) -> None:
        self._url = sandbox_url
        self._employees = employees
        self._tag = tag
        self._chat_of = chat_of
        self._numbers = itertools.count()
        self.sent: dict[str, tuple[float, str]] = {}  # text -> (posted at, Teams chat)

    async def post(self, http: aiohttp.ClientSession, index: int) -> bool:
        """Post the index-th reply (to the index-th employee, round robin)."""
        employee = self._employees[index % len(self._employees)]
        text = f"bench-reply-{self._tag}-{next(self._numbers)}"
        started = time.monotonic()
        self.sent[text] = (started, self._chat_of(employee))
        async with http.post(
            f"{self._url}/sandbox/api/conversations/{employee.conversation}/messages",
            json={"content": text, "private": False, "agent": "Sam Agent"},
        ) as response:
            await response.read()
            return response.status == 200


def connector_arrivals(connector: FakeConnector, chats: set[str]) -> dict[str, float]:
    """Find each reply's text in what the connector received; keep the first arrival."""
    found: dict[str, float] = {}
    for chat in chats:
        for received in connector.sent(chat):
            blob = json.dumps(received.activity)
            start = blob.find("bench-reply-")
            while start >= 0:
                end = start + len("bench-reply-")
                while end < len(blob) and (blob[end].isalnum() or blob[end] == "-"):
                    end += 1
                found.setdefault(blob[start:end], received.at)
                start = blob.find("bench-reply-", end)
    return found


async def _wait_all(
    replies: Replies, arrivals: Arrivals, connector: FakeConnector, limit: float
) -> dict[str, float]:
    deadline = time.monotonic() + limit
    teams_at: dict[str, float] = {}
    while time.monotonic() < deadline:
        missing = {chat for t, (_, chat) in replies.sent.items() if t not in teams_at}
        # Only chats still owed a reply are scanned again; the rest are settled.
        teams_at.update(connector_arrivals(connector, missing))
        if all(t in arrivals.at for t in replies.sent) and all(t in teams_at for t in replies.sent):
            break
        await asyncio.sleep(0.1)
    return teams_at


def _latencies(sent: dict[str, tuple[float, str]], arrived: dict[str, float]) -> Figures:
    values = [arrived[t] - started for t, (started, _) in sent.items() if t in arrived]
    return {
        "replies": len(sent),
        "arrived": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values, default=math.nan)),
    }


async def _phase(
    ctx: Context,
    replies: Replies,
    arrivals: Arrivals,
    connector: FakeConnector,
    *,
    loaded: bool,
) -> tuple[Figures, Figures, dict[str, float]]:
    """Send light (one at a time) or loaded (100/s) replies; return (web, teams) figures.

    The third value is when each reply reached the connector (for the breakdown).
    """
    async with aiohttp.ClientSession() as http:
        if loaded:
            count = ctx.n(int(RATE * LOAD_SECONDS), minimum=10)
            await fixed_rate(
                lambda i: replies.post(http, i), rate=RATE, count=count, time_limit=20.0
            )
        else:
            for index in range(ctx.n(LIGHT, minimum=3)):
                await replies.post(http, index)
                text = next(reversed(replies.sent))
                chat = {replies.sent[text][1]}
                deadline = time.monotonic() + 5.0
                while time.monotonic() < deadline:
                    if text in arrivals.at and text in connector_arrivals(connector, chat):
                        break
                    await asyncio.sleep(0.01)
    teams_at = await _wait_all(replies, arrivals, connector, ctx.seconds(WAIT))
    return _latencies(replies.sent, arrivals.at), _latencies(replies.sent, teams_at), teams_at


async def agent_reply(ctx: Context) -> dict[str, Figures]:
    """Measure reply latency to /ws and to the fake connector, light and at 100/s."""
    database_url = await ctx.pg.fresh_database("reply")
    rows: list[Figures] = []
    steps: Figures = {}
    try:
        async with (
            teams() as connector,
            service(
                database_url, ctx.logs, profile=ctx.profile_path("reply"), TRACE_LATENCY="true"
            ) as svc,
        ):
            employees = await employees_with_chats(
                ctx, svc, connector, count=ctx.n(EMPLOYEES, minimum=4), tenants=TENANTS
            )
            tokens = await mint_sessions(database_url, [e.user_id for e in employees])
            ws_url = svc.url.replace("http://", "ws://", 1) + "/ws"
            ours: list[SocketPlan] = [
                (
                    ws_url,
                    {"Cookie": f"tft_session={tokens[e.user_id]}", "Origin": svc.url},
                    {"type": "subscribe", "ticketId": e.ticket_id, "after": 0},
                )
                for e in employees
            ]
            for loaded in (False, True):
                label = "100 replies/s" if loaded else "light (one at a time)"
                arrivals = Arrivals()
                replies = Replies(
                    svc.sandbox_url, employees, f"o{int(loaded)}", lambda e: e.teams_chat
                )
                async with _sockets(ours, arrivals):
                    await asyncio.sleep(0.5)  # let every subscribe be answered
                    web_figures, teams_figures, teams_at = await _phase(
                        ctx, replies, arrivals, connector, loaded=loaded
                    )
                if not loaded:
                    assert svc.app is not None
                    steps = breakdown(
                        read_marks(svc.app.log),
                        [
                            (posted, arrivals.at.get(text), teams_at.get(text))
                            for text, (posted, _) in replies.sent.items()
                        ],
                    )
                rows.append({"load": label, "path": "web /ws", **web_figures})
                rows.append({"load": label, "path": "Teams connector", **teams_figures})
            bare = await _baseline(ctx, svc, connector, employees)
    finally:
        await ctx.pg.drop(database_url)
    for path, group in steps.items():
        print(f"where a light reply's time goes ({path}):")
        print(table(group, ("step", "samples", "p50_ms", "p99_ms")))
    return {"agent_reply": _report(rows, steps, bare, len(employees))}


def _report(
    rows: list[Figures],
    steps: Figures,
    bare: dict[tuple[str, str], Figures],
    employee_count: int,
) -> Figures:
    """Set the bare app's figures on each row and build the figures with their headline."""
    for row in rows:
        base = bare[(row["load"], row["path"])]
        row["baseline_p50_ms"], row["baseline_p99_ms"] = base["p50_ms"], base["p99_ms"]
    figures: Figures = {
        "what": f"sandbox agent reply (control API) -> signed webhook -> service -> the "
        f"employee's /ws socket and the fake Bot Connector; {employee_count} employees, one "
        f"socket each, {TENANTS} Teams tenants",
        "baseline": "the same sandbox webhooks into a bare aiohttp app that routes each to the "
        "conversation's socket and forwards one POST to the same fake connector",
        "rows": rows,
        "breakdown_light": steps,
        "headline": [
            headline(
                f"reply p99, {row['path']}, {row['load']}",
                row["p99_ms"],
                row["baseline_p99_ms"],
                "ms",
                lower_is_better=True,
            )
            for row in rows
        ],
    }
    return figures


async def _baseline(
    ctx: Context, svc: Service, connector: FakeConnector, employees: Sequence[Employee]
) -> dict[tuple[str, str], Figures]:
    """Aim the sandbox's webhooks at the bare app and repeat both phases."""
    out: dict[tuple[str, str], Figures] = {}
    async with baseline(ctx.logs, connector=connector.url) as (base_url, _process):
        async with httpx.AsyncClient() as http:
            aimed = await http.post(
                f"{svc.sandbox_url}/sandbox/api/webhook",
                json={"url": f"{base_url}/api/chatwoot/webhook", "secret": "x"},
            )
            aimed.raise_for_status()
        ws_url = base_url.replace("http://", "ws://", 1) + "/ws"
        sockets: list[SocketPlan] = [
            (f"{ws_url}?conversation={e.conversation}", {}, None) for e in employees
        ]
        for loaded in (False, True):
            label = "100 replies/s" if loaded else "light (one at a time)"
            arrivals = Arrivals()
            replies = Replies(
                svc.sandbox_url, employees, f"b{int(loaded)}", lambda e: f"a:base-{e.conversation}"
            )
            async with _sockets(sockets, arrivals):
                await asyncio.sleep(0.2)
                web_figures, teams_figures, _ = await _phase(
                    ctx, replies, arrivals, connector, loaded=loaded
                )
            out[(label, "web /ws")] = web_figures
            out[(label, "Teams connector")] = teams_figures
    return out
