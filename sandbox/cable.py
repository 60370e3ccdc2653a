"""The ``/cable`` ActionCable endpoint as a contact sees it (``RoomChannel`` + pubsub token)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from sandbox.state import SandboxState

log = logging.getLogger(__name__)

PROTOCOLS = ("actioncable-v1-json", "actioncable-unsupported")
FLUSH_SECONDS = 5.0


class CableConnection:
    """One accepted socket with its subscriptions and an ordered outbound queue."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        # identifier string (exact bytes the client sent) -> pubsub token, or None when the
        # token was unknown: ActionCable keeps such a subscription registered but silent.
        self.subscriptions: dict[str, str | None] = {}
        self.outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame for this socket."""
        self.outbox.put_nowait(frame)


class CableHub:
    """Track cable sockets and broadcast events to the sockets following a token."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._connections: set[CableConnection] = set()
        self._pending: set[asyncio.TimerHandle] = set()
        self._no_pending = asyncio.Event()
        self._no_pending.set()

    def broadcast(self, token: str, event: str, data: dict[str, Any]) -> None:
        """Send an event to every subscription of ``token``."""
        for conn in list(self._connections):
            for identifier, subscribed in conn.subscriptions.items():
                if subscribed == token:
                    conn.send({"identifier": identifier, "message": {"event": event, "data": data}})

    def broadcast_job(
        self, token: str, event: str, data: dict[str, Any], build: Callable[[], dict[str, Any]]
    ) -> None:
        """Broadcast now, or under late snapshots as a jittered job that rebuilds ``data``."""
        if not self._state.late_snapshots:
            self.broadcast(token, event, data)
            return
        delay = random.uniform(0, self._state.snapshot_jitter_ms / 1000)
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def run() -> None:
            self._pending.discard(handle)
            if not self._pending:
                self._no_pending.set()
            self.broadcast(token, event, build())

        handle = loop.call_later(delay, run)
        self._pending.add(handle)
        self._no_pending.clear()

    async def flush(self) -> None:
        """Wait until every scheduled broadcast was queued and every socket wrote its frames."""
        # Bounded: a socket that died mid-write never drains its queue.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_SECONDS):
                await self._no_pending.wait()
                for conn in list(self._connections):
                    if not conn.ws.closed:
                        await conn.outbox.join()

    async def cut(self) -> int:
        """Close every socket now (the ``cable_cut`` fault); return how many were closed."""
        conns = list(self._connections)
        for conn in conns:
            await conn.ws.close()
        return len(conns)

    async def close(self) -> None:
        """Close every socket on shutdown."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
        self._no_pending.set()
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one ``/cable`` socket: welcome, pings, subscriptions, events."""
        ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
        await ws.prepare(request)
        conn = CableConnection(ws)
        self._connections.add(conn)
        writer = asyncio.create_task(self._write(conn))
        pinger = asyncio.create_task(self._ping(conn))
        conn.send({"type": "welcome"})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_command(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._connections.discard(conn)
            pinger.cancel()
            conn.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
            await writer
        return ws

    async def _write(self, conn: CableConnection) -> None:
        while True:
            frame = await conn.outbox.get()
            try:
                if frame is None or conn.ws.closed:
                    return
                await conn.ws.send_str(json.dumps(frame, separators=(",", ":")))
            except (ConnectionError, RuntimeError):
                return
            finally:
                conn.outbox.task_done()

    async def _ping(self, conn: CableConnection) -> None:
        while True:
            await asyncio.sleep(self._state.config.ping_interval)
            conn.send({"type": "ping", "message": int(time.time())})

    def _on_command(self, conn: CableConnection, raw: str) -> None:
        try:
            command = json.loads(raw)
            kind = command["command"]
            identifier = command["identifier"]
        except (ValueError, KeyError, TypeError):
            # The frame may hold a pubsub token: log its size, never its text.
            log.info("cable: ignoring a malformed frame of %d characters", len(raw))
            return
        if not isinstance(identifier, str):
            return
        if kind == "subscribe":
            self._subscribe(conn, identifier)
        elif kind == "unsubscribe":
            conn.subscriptions.pop(identifier, None)
        elif kind == "message":
            token = conn.subscriptions.get(identifier)
            if token is not None and _action(command.get("data")) == "update_presence":
                self._presence(conn, identifier)

    def _subscribe(self, conn: CableConnection, identifier: str) -> None:
        if identifier in conn.subscriptions:
            # ActionCable ignores a second identical subscribe on the same socket.
            return
        try:
            params = json.loads(identifier)
        except ValueError:
            return
        if not isinstance(params, dict) or params.get("channel") != "RoomChannel":
            return
        token = params.get("pubsub_token")
        ci = (
            self._state.contact_inbox_by_token(token)
            if isinstance(token, str) and not params.get("user_id")
            else None
        )
        if ci is None:
            # Real Chatwoot raises inside `subscribed`, logs it and sends nothing at all.
            conn.subscriptions[identifier] = None
            return
        conn.subscriptions[identifier] = ci.pubsub_token
        conn.send({"identifier": identifier, "type": "confirm_subscription"})
        self._presence(conn, identifier)

    def _presence(self, conn: CableConnection, identifier: str) -> None:
        users = {str(agent.id): agent.availability for agent in self._state.agents.values()}
        data = {"account_id": self._state.config.account_id, "users": users}
        conn.send({"identifier": identifier, "message": {"event": "presence.update", "data": data}})


def _action(data: Any) -> str | None:
    if not isinstance(data, str):
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    action = parsed.get("action") if isinstance(parsed, dict) else None
    return action if isinstance(action, str) else None
