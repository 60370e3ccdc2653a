"""Agent replies through the sandbox, and where they arrive: the employee's /ws and Teams.

The plumbing of benchmark 2 (`bench.reply`), shared with the Teams benchmark (`bench.teams`).
"""

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

from bench.context import Context, Figures
from bench.harness import INBOX_IDENTIFIER, Service
from bench.load import ms, percentile
from bench.seed import plain, seed_tickets
from tests.fakes.connector import FakeConnector

# A socket to open: its URL, the headers of the upgrade, and the frame to send once open.
SocketPlan = tuple[str, dict[str, str], dict[str, object] | None]
# How long to wait for every socket's subscription to be answered before a load starts.
SUBSCRIBE_WAIT = 30.0


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
    # Sockets whose subscription was answered (the ticket's snapshot frame came).
    subscribed: int = 0


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
async def sockets(urls: Sequence[SocketPlan], arrivals: Arrivals) -> AsyncIterator[None]:
    """Open one socket per (url, headers, subscribe frame) and note every reply that arrives."""
    # No pool limit: every socket holds its connection for the whole phase.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        opened = [
            await http.ws_connect(url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=5))
            for url, headers, _ in urls
        ]
        for socket, (_, _, subscribe) in zip(opened, urls, strict=True):
            if subscribe is not None:
                await socket.send_json(subscribe)
        readers = [asyncio.create_task(_read(socket, arrivals)) for socket in opened]
        # Every subscription answered before the first reply: a backlog read still running
        # for another socket would be timed as the reply's latency.
        expected = sum(1 for _, _, subscribe in urls if subscribe is not None)
        deadline = time.monotonic() + SUBSCRIBE_WAIT
        while arrivals.subscribed < expected and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            for socket in opened:
                await socket.close()


async def _read(socket: aiohttp.ClientWebSocketResponse, arrivals: Arrivals) -> None:
    async for message in socket:
        if message.type is not aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        if frame.get("type") == "ticket":
            arrivals.subscribed += 1
        elif frame.get("type") == "item":
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


async def wait_all(
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


def latencies(sent: dict[str, tuple[float, str]], arrived: dict[str, float]) -> Figures:
    values = [arrived[t] - started for t, (started, _) in sent.items() if t in arrived]
    # Completed per second: from the first post to the last arrival, so a backlog counts.
    first = min((started for started, _ in sent.values()), default=math.nan)
    span = max((arrived[t] for t in sent if t in arrived), default=math.nan) - first
    return {
        "replies": len(sent),
        "arrived": len(values),
        "p50_ms": ms(percentile(values, 50)),
        "p99_ms": ms(percentile(values, 99)),
        "max_ms": ms(max(values, default=math.nan)),
        "completed_per_s": round(len(values) / span, 1) if span > 0 else None,
    }
