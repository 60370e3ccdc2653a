"""`/ws`: session and Origin checked before the upgrade, own tickets only, resume without gaps."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from aiohttp import ClientWSTimeout, WSMsgType, WSServerHandshakeError

from sandbox import SandboxServer
from tests.web.conftest import Client, MakeWeb, open_ticket, signup
from web import keys as web_keys


def _origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def _agent(
    sandbox: SandboxServer, conversation: int, action: str, body: dict[str, Any]
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/{action}", json=body
        )
        answer.raise_for_status()


async def _frames_until(socket: Any, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.receive_json()
            frames.append(frame)
            if predicate(frame):
                return frames


async def test_ws_streams_backlog_then_live_agent_replies_and_state(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    async with web_client.ws_connect("/ws", headers={"Origin": _origin(web_client)}) as socket:
        await socket.send_json({"type": "subscribe", "ticketId": ticket["id"], "after": 0})
        first = await _frames_until(socket, lambda f: f["type"] == "item")
        assert first[0]["type"] == "ticket" and first[0]["ticket"]["id"] == ticket["id"]
        opening = first[-1]["item"]
        assert opening["direction"] == "requester"
        conversation = ticket["chatwootConversationId"]
        await _agent(sandbox, conversation, "messages", {"content": "Olá!", "agent": "Rita"})
        live = await _frames_until(socket, lambda f: f["type"] == "item")
        reply = live[-1]["item"]
        assert (reply["direction"], reply["author"], reply["content"]) == ("agent", "Rita", "Olá!")
        assert reply["id"] > opening["id"]
        await _agent(sandbox, conversation, "status", {"status": "resolved"})
        state = await _frames_until(socket, lambda f: f["type"] == "ticket")
        items = [f["item"] for f in state if f["type"] == "item"]
        assert [(i["direction"], i["kind"]) for i in items] == [("system", "resolved")]
        assert state[-1]["ticket"]["status"] == "resolved"
        await _agent(sandbox, conversation, "assign", {"agent": "Rita"})
        assigned = await _frames_until(socket, lambda f: f["type"] == "ticket")
        assert assigned[-1]["ticket"]["assignee"] == "Rita"
        assert [f["item"]["kind"] for f in assigned if f["type"] == "item"] == ["assigned"]
        bogus = [b"not json", b"[1]", b'{"type":"dance"}', b'{"type":"subscribe","ticketId":"1"}']
        for raw in bogus:
            await socket.send_str(raw.decode())
            answer = await socket.receive_json()
            assert answer["type"] == "error"
    # Resume: a new socket asking for items after the reply gets exactly what came later.
    async with web_client.ws_connect("/ws", headers={"Origin": _origin(web_client)}) as socket:
        await socket.send_json(
            {"type": "subscribe", "ticketId": ticket["id"], "after": reply["id"]}
        )
        resumed = await _frames_until(socket, lambda f: f.get("item", {}).get("kind") == "assigned")
        kinds = [f["item"]["kind"] for f in resumed if f["type"] == "item"]
        assert kinds == ["resolved", "assigned"]


async def test_ws_refuses_foreign_or_missing_origin_before_upgrade(web_client: Client) -> None:
    await signup(web_client, "ana@example.com")
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {}):
        with pytest.raises(WSServerHandshakeError) as refused:
            await web_client.ws_connect("/ws", headers=headers)
        assert refused.value.status == 403
    async with web_client.ws_connect("/ws", headers={"Origin": _origin(web_client)}) as socket:
        await socket.send_json({"type": "ping"})
        assert await socket.receive_json() == {"type": "pong"}


async def test_ws_without_session_is_refused(make_web: MakeWeb) -> None:
    client = await make_web()
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": _origin(client)})
    assert refused.value.status == 403


async def test_ws_never_shows_another_users_ticket(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    alice = await make_web()
    ticket = await open_ticket(alice, await signup(alice, "alice@example.com"))
    bob = await make_web()
    bob_ticket = await open_ticket(bob, await signup(bob, "bob@example.com"), title="Do Bob")
    async with bob.ws_connect("/ws", headers={"Origin": _origin(bob)}) as socket:
        await socket.send_json({"type": "subscribe", "ticketId": ticket["id"], "after": 0})
        assert await socket.receive_json() == {
            "type": "error",
            "error": "not_found",
            "ticketId": ticket["id"],
        }
        await socket.send_json({"type": "subscribe", "ticketId": 987654, "after": 0})
        assert (await socket.receive_json())["error"] == "not_found"
        await socket.send_json({"type": "subscribe", "ticketId": bob_ticket["id"], "after": 0})
        await _frames_until(socket, lambda f: f["type"] == "item")
        # Alice's ticket moves; Bob's socket stays silent about it.
        await _agent(sandbox, ticket["chatwootConversationId"], "messages", {"content": "secret"})
        await _agent(
            sandbox, bob_ticket["chatwootConversationId"], "messages", {"content": "hi Bob"}
        )
        frames = await _frames_until(socket, lambda f: f["type"] == "item")
        assert json.dumps(frames).count("secret") == 0
        assert frames[-1]["item"]["content"] == "hi Bob"


async def test_shutdown_closes_sockets_with_going_away(make_web: MakeWeb) -> None:
    client = await make_web()
    await signup(client, "ana@example.com")
    socket = await client.ws_connect(
        "/ws", headers={"Origin": _origin(client)}, timeout=ClientWSTimeout(ws_close=5)
    )
    assert len(client.app[web_keys.SOCKETS]) == 1
    started = asyncio.get_running_loop().time()
    await client.server.close()
    assert asyncio.get_running_loop().time() - started < 5
    message = await socket.receive()
    assert (message.type, message.data) == (WSMsgType.CLOSE, 1001)
    assert socket.closed
