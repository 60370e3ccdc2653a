"""Resource limits a single visitor cannot exhaust: sockets per user, slow requests, sessions."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType

from tests.web.conftest import Client, MakeWeb, signup
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


HALF_SENT = 100


async def _half_sent(client: Client, payload: bytes) -> float:
    """Send part of a request and return how long the server kept the connection open."""
    assert client.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    writer.write(payload)
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    assert b"200 OK" not in answer
    return loop.time() - started


async def test_half_sent_headers_are_closed_within_the_bound(make_web: MakeWeb) -> None:
    client = await make_web(HTTP_HEADER_TIMEOUT=2, HTTP_BODY_TIMEOUT=2)
    partial = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    held = await asyncio.gather(*(_half_sent(client, partial) for _ in range(HALF_SENT)))
    assert max(held) < 2 + 2.0, sorted(held)[-5:]
    # The service still answers everyone else.
    assert (await client.get("/healthz")).status == 200


async def test_half_sent_bodies_are_closed_within_the_bound(make_web: MakeWeb) -> None:
    client = await make_web(HTTP_HEADER_TIMEOUT=2, HTTP_BODY_TIMEOUT=2)
    for path in ("/login", "/api/chatwoot/webhook?token=x", "/api/messages"):
        partial = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            "email=a"
        ).encode()
        held = await asyncio.gather(*(_half_sent(client, partial) for _ in range(HALF_SENT // 4)))
        assert max(held) < 2 + 2.0, (path, sorted(held)[-5:])
    assert (await client.get("/healthz")).status == 200
