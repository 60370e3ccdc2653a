"""Resource limits a single visitor cannot exhaust: sockets per user, slow requests, sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import WSMsgType
from sqlalchemy import func, select

from db import accounts
from db.engine import make_engine, make_sessionmaker
from db.models import WebSession
from tests.web.conftest import Client, MakeWeb, page_csrf, signup
from tickets import keys
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


async def _session_rows(client: Client) -> int:
    async with client.app[keys.SESSIONMAKER]() as db:
        return int(await db.scalar(select(func.count()).select_from(WebSession)) or 0)


async def test_a_thousand_cookie_less_requests_create_no_session_rows(make_web: MakeWeb) -> None:
    client = await make_web()
    paths = ["/login", "/signup", "/api/session", "/", "/privacy", "/forgot"]
    semaphore = asyncio.Semaphore(20)

    async def visit(n: int) -> int:
        async with semaphore:
            client.session.cookie_jar.clear()
            response = await client.get(paths[n % len(paths)], allow_redirects=False)
            await response.read()
            return response.status

    statuses = await asyncio.gather(*(visit(n) for n in range(1000)))
    assert set(statuses) <= {200, 303, 404}, set(statuses)
    assert await _session_rows(client) == 0


async def test_an_anonymous_form_still_needs_its_csrf_token(make_web: MakeWeb) -> None:
    client = await make_web()
    token = await page_csrf(client, "/login")
    assert token
    good = await client.post(
        "/login",
        data={"csrf_token": token, "email": "x@example.com", "password": "wrong password!"},
        allow_redirects=False,
    )
    assert good.status == 401
    forged = await client.post(
        "/login",
        data={"csrf_token": token[:-2] + "xx", "email": "x@example.com", "password": "p" * 12},
        allow_redirects=False,
    )
    assert forged.status == 403
    # Another browser (no cookie) cannot reuse this visitor's token.
    stranger = await make_web()
    replayed = await stranger.post(
        "/login",
        data={"csrf_token": token, "email": "x@example.com", "password": "p" * 12},
        allow_redirects=False,
    )
    assert replayed.status == 403
    assert await _session_rows(client) == 0


async def test_expired_sessions_are_purged_on_a_schedule(
    database_url: str, make_web: MakeWeb
) -> None:
    engine = make_engine(database_url, pool_size=1)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    async with make_sessionmaker(engine).begin() as db:
        await accounts.create_session(
            db, session_id="stale", csrf_token="t", user_id=None, expires_at=long_ago
        )
    await engine.dispose()
    client = await make_web()
    for _ in range(100):
        if await _session_rows(client) == 0:
            break
        await asyncio.sleep(0.1)
    assert await _session_rows(client) == 0
