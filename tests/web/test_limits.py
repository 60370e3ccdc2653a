"""Resource limits a single visitor cannot exhaust: sockets per user, slow requests, sessions."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType

from tests.web.conftest import Client, signup
from web import keys as web_keys
from web.ws import MAX_SOCKETS_PER_USER


def _origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def test_one_user_keeps_at_most_the_socket_cap_and_the_oldest_are_closed(
    web_client: Client,
) -> None:
    await signup(web_client, "abas@example.com")
    extra = 5
    sockets = []
    for _ in range(MAX_SOCKETS_PER_USER + extra):
        sockets.append(await web_client.ws_connect("/ws", headers={"Origin": _origin(web_client)}))
    try:
        oldest, newest = sockets[:extra], sockets[extra:]
        for socket in oldest:
            message = await asyncio.wait_for(socket.receive(), timeout=5)
            assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
        for socket in newest:
            await socket.send_json({"type": "ping"})
            assert (await asyncio.wait_for(socket.receive_json(), timeout=5)) == {"type": "pong"}
        assert len(web_client.app[web_keys.SOCKETS]) == MAX_SOCKETS_PER_USER
    finally:
        for socket in sockets:
            await socket.close()
