"""`/ws` fan-out: many sockets of several users, one read per change, each item once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import ClientWebSocketResponse
from sqlalchemy import event

from db import repo
from sandbox import SandboxServer
from tests.web.conftest import Client, MakeWeb, open_ticket, signup
from tickets import keys
from tickets.hub import TicketChanged
from web import keys as web_keys

Socket = ClientWebSocketResponse


def _origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def _agent(sandbox: SandboxServer, conversation: int, action: str, body: Any) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/{action}", json=body
        )
        answer.raise_for_status()


async def _watch(client: Client, ticket_id: int, after: int = 0) -> Socket:
    socket = await client.ws_connect("/ws", headers={"Origin": _origin(client)})
    await socket.send_json({"type": "subscribe", "ticketId": ticket_id, "after": after})
    return socket


async def _until(socket: Socket, done: Any, timeout: float = 15.0) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not frames or not done(frames[-1]):
            frames.append(await socket.receive_json())
    return frames


def _items(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["item"] for f in frames if f["type"] == "item"]


def _content_is(text: str) -> Any:
    return lambda f: f["type"] == "item" and f["item"].get("content") == text


@contextmanager
def _timeline_reads(client: Client) -> Iterator[list[str]]:
    """Record every timeline query the app's engine runs while the block is open."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM ticket_events" in statement and "ticket_events.id >" in statement:
            seen.append(statement)

    engine = client.app[keys.ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_every_socket_of_every_user_gets_each_item_once_from_one_read_per_change(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    alice = await make_web()
    ticket = await open_ticket(alice, await signup(alice, "alice@example.com"))
    bob = await make_web()
    bob_ticket = await open_ticket(bob, await signup(bob, "bob@example.com"), title="Do Bob")
    fanout = alice.app[web_keys.FANOUT]
    # Alice's sockets start from different cursors: the opening item, or after it.
    mine = [await _watch(alice, ticket["id"]) for _ in range(6)]
    backlogs = [await _until(s, lambda f: f["type"] == "item") for s in mine]
    opening = _items(backlogs[0])[0]["id"]
    late = [await _watch(alice, ticket["id"], after=opening) for _ in range(6)]
    for socket in late:
        assert (await socket.receive_json())["type"] == "ticket"
    bobs = [await _watch(bob, bob_ticket["id"]) for _ in range(4)]
    for socket in bobs:
        await _until(socket, lambda f: f["type"] == "item")

    heard, reads = fanout.heard, fanout.reads
    conversation = ticket["chatwootConversationId"]
    with _timeline_reads(alice) as statements:
        for text in ("um", "dois", "três"):
            await _agent(sandbox, conversation, "messages", {"content": text, "agent": "Rita"})
        await _agent(sandbox, bob_ticket["chatwootConversationId"], "messages", {"content": "oi"})
        await _agent(sandbox, conversation, "status", {"status": "resolved"})
        alice_frames = [
            await _until(s, lambda f: f["type"] == "ticket" and f["ticket"]["status"] == "resolved")
            for s in [*mine, *late]
        ]
        bob_frames = [await _until(s, _content_is("oi")) for s in bobs]

    for frames in alice_frames:
        items = _items(frames)
        assert [i.get("content") or i["kind"] for i in items] == ["um", "dois", "três", "resolved"]
        assert all(i["id"] > opening for i in items)
    for frames in bob_frames:
        assert [i["content"] for i in _items(frames)] == ["oi"]
    # One read per hint at most, not one per socket: 16 sockets, a handful of hints.
    changes = fanout.heard - heard
    assert 0 < fanout.reads - reads <= changes
    assert len(statements) == fanout.reads - reads
    for socket in [*mine, *late, *bobs]:
        await socket.close()


async def test_sockets_subscribing_while_replies_arrive_miss_nothing_and_repeat_nothing(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    client = await make_web()
    ticket = await open_ticket(client, await signup(client, "ana@example.com"))
    conversation = ticket["chatwootConversationId"]
    texts = [f"resposta {n}" for n in range(8)]

    async def replies() -> None:
        for text in texts:
            await _agent(sandbox, conversation, "messages", {"content": text, "agent": "Rita"})

    async def subscriber(delay: float) -> list[dict[str, Any]]:
        await asyncio.sleep(delay)
        socket = await _watch(client, ticket["id"])
        seen: set[str] = set()

        def all_arrived(frame: dict[str, Any]) -> bool:
            if frame["type"] == "item":
                seen.add(frame["item"].get("content"))
            return seen.issuperset(texts)

        try:
            return _items(await _until(socket, all_arrived))
        finally:
            await socket.close()

    posting = asyncio.create_task(replies())
    got = await asyncio.gather(*(subscriber(n * 0.02) for n in range(10)))
    await posting
    for items in got:
        ids = [i["id"] for i in items]
        assert ids == sorted(set(ids))
        # Every reply exactly once. Their order is the order they reached us: when one copy of
        # a reply is lost (a webhook Chatwoot never retries), its cable copy may come after a
        # later reply's webhook, as with real Chatwoot's unordered delivery.
        assert sorted(i["content"] for i in items[1:]) == sorted(texts)


async def test_dropped_socket_resumes_and_the_others_keep_receiving(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    client = await make_web()
    ticket = await open_ticket(client, await signup(client, "ana@example.com"))
    conversation = ticket["chatwootConversationId"]
    stay = await _watch(client, ticket["id"])
    leave = await _watch(client, ticket["id"])
    await _agent(sandbox, conversation, "messages", {"content": "antes", "agent": "Rita"})
    before = _items(await _until(leave, _content_is("antes")))[-1]
    await leave.close()
    for text in ("durante 1", "durante 2"):
        await _agent(sandbox, conversation, "messages", {"content": text, "agent": "Rita"})
    kept = _items(await _until(stay, _content_is("durante 2")))
    assert [i["content"] for i in kept[-3:]] == ["antes", "durante 1", "durante 2"]
    back = await _watch(client, ticket["id"], after=before["id"])
    resumed = _items(await _until(back, _content_is("durante 2")))
    assert [i["content"] for i in resumed] == ["durante 1", "durante 2"]
    assert client.app[web_keys.FANOUT].reads > 0
    for socket in (stay, back):
        await socket.close()


async def test_a_wake_up_for_everything_rereads_every_watched_ticket(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "ana@example.com")
    tickets = [await open_ticket(client, csrf, title=f"Chamado {n}") for n in range(2)]
    sockets = [await _watch(client, t["id"]) for t in tickets]
    for socket in sockets:
        await _until(socket, lambda f: f["type"] == "item")
    user_id = (await (await client.get("/api/session")).json())["user"]["id"]
    # Stored without a NOTIFY, as if the hint was lost while the hub was reconnecting.
    async with client.app[keys.SESSIONMAKER].begin() as session:
        for n, t in enumerate(tickets):
            await repo.add_event(
                session,
                ticket_id=t["id"],
                kind="assigned",
                data={"assignee": "Rita"},
                occurred_at=datetime.now(UTC),
                dedupe_key=f"missed-{n}",
            )
    client.app[keys.HUB].dispatch(TicketChanged(ticket_id=0, user_id=user_id))
    for socket in sockets:
        frames = await _until(socket, lambda f: f["type"] == "item")
        assert frames[-1]["item"]["kind"] == "assigned"
        await socket.close()


async def test_hub_listener_registered_twice_is_called_once_until_both_leave(
    make_web: MakeWeb,
) -> None:
    client = await make_web()
    hub = client.app[keys.HUB]
    heard: list[TicketChanged] = []
    change = TicketChanged(ticket_id=5, user_id=77)
    with hub.listen(77, heard.append):
        with hub.listen(77, heard.append):
            hub.dispatch(change)
        hub.dispatch(change)
    hub.dispatch(change)
    assert heard == [change, change]
    assert hub.subscriber_count == 0
