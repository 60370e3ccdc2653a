"""`/ws`: live timeline items and ticket state for the signed-in user's own tickets.

Client -> server: `{"type": "subscribe", "ticketId": N, "after": lastId}`. Server -> client:
`{"type": "item", "item": {...}}` for every item after the cursor, then live ones;
`{"type": "ticket", "ticket": {...}}` when status or assignee change; `{"type": "error",
"error": "not_found"}` for a ticket that is not the user's. Every hub notification is only a
hint to re-read from the database after the last id sent, so a missed hint loses nothing and
nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tickets import keys
from tickets.hub import TicketChanged
from tickets.service import TicketNotFound, TicketService
from web import keys as web_keys
from web import sessions
from web.http import MAX_ID, site_origin

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 20
MAX_FRAME = 4096
BATCH = 200


@dataclass
class Subscription:
    """One ticket followed on a socket: the last item id sent and the last state shown."""

    ticket_id: int
    last_id: int
    status: str
    assignee: str | None


def setup_ws(app: web.Application) -> None:
    """Register `/ws` and the registry that closes every socket on shutdown."""
    app.router.add_get("/ws", websocket)
    app.cleanup_ctx.append(_registry)
    # on_shutdown runs before the runner waits for open handlers; cleanup contexts only after
    # that wait, so a socket left for them would hold shutdown up for the whole grace period.
    app.on_shutdown.append(close_sockets)


async def _registry(app: web.Application) -> AsyncIterator[None]:
    sockets: set[web.WebSocketResponse] = set()
    app[web_keys.SOCKETS] = sockets
    yield
    await close_sockets(app)


async def close_sockets(app: web.Application) -> None:
    """Close every open socket with 1001 (going away); pages reconnect and resume."""
    for socket in list(app.get(web_keys.SOCKETS, ())):
        with contextlib.suppress(Exception):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def websocket(request: web.Request) -> web.StreamResponse:
    """Check the session and the Origin, then stream the user's ticket changes."""
    user = sessions.current_user(request)
    origin = request.headers.get("Origin")
    if user is None or origin != site_origin(request):
        # Refused before the upgrade: a foreign page cannot ride the visitor's cookie.
        return web.Response(status=403, text="forbidden")
    socket = web.WebSocketResponse(heartbeat=25.0, max_msg_size=MAX_FRAME)
    await socket.prepare(request)
    registry = request.app[web_keys.SOCKETS]
    registry.add(socket)
    stream = _Stream(socket, request.app[keys.SERVICE], user.id)
    try:
        async with request.app[keys.HUB].subscribe(user.id) as changes:
            pump = asyncio.create_task(stream.follow(changes), name=f"ws-follow-{user.id}")
            try:
                await stream.read()
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pump
    finally:
        registry.discard(socket)
        await socket.close()
    return socket


class _Stream:
    """The state of one socket: its subscriptions and a lock that serializes sends."""

    def __init__(self, socket: web.WebSocketResponse, service: TicketService, user_id: int):
        self.socket = socket
        self.service = service
        self.user_id = user_id
        self.subscriptions: dict[int, Subscription] = {}
        self.lock = asyncio.Lock()

    async def read(self) -> None:
        async for message in self.socket:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                await self._send({"type": "error", "error": "bad_json"})
                continue
            if not isinstance(frame, dict):
                await self._send({"type": "error", "error": "bad_request"})
                continue
            await self._handle(frame)

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind != "subscribe":
            await self._send({"type": "error", "error": "unknown_type"})
            return
        ticket_id, after = frame.get("ticketId"), frame.get("after", 0)
        if (
            not isinstance(ticket_id, int)
            or isinstance(ticket_id, bool)
            or not 0 < ticket_id <= MAX_ID
            or not isinstance(after, int)
            or isinstance(after, bool)
        ):
            await self._send({"type": "error", "error": "bad_request"})
            return
        if ticket_id not in self.subscriptions and len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            await self._send({"type": "error", "error": "too_many_subscriptions"})
            return
        async with self.lock:
            try:
                ticket = await self.service.get_ticket(self.user_id, ticket_id)
            except TicketNotFound:
                await self._send({"type": "error", "error": "not_found", "ticketId": ticket_id})
                return
            self.subscriptions[ticket_id] = Subscription(
                ticket_id, max(0, min(after, MAX_ID)), ticket.status, ticket.assignee
            )
            await self._send({"type": "ticket", "ticket": ticket.to_json()})
            await self._sync(self.subscriptions[ticket_id], check_state=False)

    async def follow(self, changes: asyncio.Queue[TicketChanged]) -> None:
        while True:
            change = await changes.get()
            async with self.lock:
                if change.ticket_id == 0:
                    targets = list(self.subscriptions.values())
                else:
                    found = self.subscriptions.get(change.ticket_id)
                    targets = [found] if found is not None else []
                for subscription in targets:
                    try:
                        await self._sync(subscription, check_state=True)
                    except TicketNotFound:
                        self.subscriptions.pop(subscription.ticket_id, None)
                    except (ConnectionResetError, RuntimeError):
                        return

    async def _sync(self, subscription: Subscription, *, check_state: bool) -> None:
        while True:
            items = await self.service.timeline(
                self.user_id, subscription.ticket_id, after_id=subscription.last_id, limit=BATCH
            )
            for item in items:
                await self._send({"type": "item", "item": item.to_json()})
                subscription.last_id = item.id
            if len(items) < BATCH:
                break
        if check_state:
            ticket = await self.service.get_ticket(self.user_id, subscription.ticket_id)
            if (ticket.status, ticket.assignee) != (subscription.status, subscription.assignee):
                subscription.status, subscription.assignee = ticket.status, ticket.assignee
                await self._send({"type": "ticket", "ticket": ticket.to_json()})

    async def _send(self, payload: dict[str, Any]) -> None:
        if not self.socket.closed:
            await self.socket.send_json(payload)
