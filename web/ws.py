"""`/ws`: live timeline items and ticket state for the signed-in user's own tickets.

Client -> server: `{"type": "subscribe", "ticketId": N, "after": lastId}`. Server -> client:
`{"type": "item", "item": {...}}` for every item after the cursor, then live ones;
`{"type": "ticket", "ticket": {...}}` when what the page shows of it changes (status, assignee,
who is typing, unread count); `{"type": "error",
"error": "not_found"}` for a ticket that is not the user's. Every hub notification is only a
hint to re-read from the database after the last id sent, so a missed hint loses nothing and
nothing is sent twice. Live changes go through `web.fanout`: one read per changed ticket per
process, whatever the number of sockets watching it. `{"type": "list"}` follows every ticket
of the user for the live ticket list instead (`web.listfeed`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from tickets import keys
from tickets.errors import TicketNotFound
from tickets.service import TicketService
from web import keys as web_keys
from web import sessions
from web.fanout import BATCH, Fanout, Peer, Watch, item_frame, ticket_frame
from web.http import MAX_ID, site_origin
from web.listfeed import ListFeed

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 20
MAX_FRAME = 4096
# A few tabs and devices each; a script opening hundreds would hold memory and fan-out work.
MAX_SOCKETS_PER_USER = 20


def setup_ws(app: web.Application) -> None:
    """Register `/ws`, the fan-out and the registry that closes every socket on shutdown."""
    app.router.add_get("/ws", websocket)
    app.cleanup_ctx.append(_registry)
    # on_shutdown runs before the runner waits for open handlers; cleanup contexts only after
    # that wait, so a socket left for them would hold shutdown up for the whole grace period.
    app.on_shutdown.append(close_sockets)


async def _registry(app: web.Application) -> AsyncIterator[None]:
    sockets: set[web.WebSocketResponse] = set()
    app[web_keys.SOCKETS] = sockets
    app[web_keys.USER_SOCKETS] = {}
    fanout = Fanout(app[keys.HUB], app[keys.SESSIONMAKER])
    app[web_keys.FANOUT] = fanout
    listfeed = ListFeed(app[keys.HUB], app[keys.SESSIONMAKER])
    app[web_keys.LISTFEED] = listfeed
    yield
    await close_sockets(app)
    await fanout.close()
    await listfeed.close()


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
    mine = request.app[web_keys.USER_SOCKETS].setdefault(user.id, [])
    mine.append(socket)
    await _close_oldest(mine)
    fanout = request.app[web_keys.FANOUT]
    peer = Peer(socket, user.id, request.transport)
    listfeed = request.app[web_keys.LISTFEED]
    stream = _Stream(peer, request.app[keys.SERVICE], fanout, listfeed)
    try:
        # Joined before any subscription, so no hint about this user's tickets goes unheard.
        with fanout.joined(user.id), listfeed.joined(user.id):
            try:
                await stream.read()
            finally:
                fanout.leave(peer)
                listfeed.leave(peer)
    finally:
        registry.discard(socket)
        _forget(request.app[web_keys.USER_SOCKETS], user.id, socket)
        await socket.close()
    return socket


async def _close_oldest(mine: list[web.WebSocketResponse]) -> None:
    while len(mine) > MAX_SOCKETS_PER_USER:
        oldest = mine.pop(0)
        # 1008: the page does not reconnect on a policy close, so two tabs never fight.
        with contextlib.suppress(Exception):
            await oldest.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too many sockets")


def _forget(
    by_user: dict[int, list[web.WebSocketResponse]], user_id: int, socket: web.WebSocketResponse
) -> None:
    mine = by_user.get(user_id)
    if mine is None:
        return
    with contextlib.suppress(ValueError):
        mine.remove(socket)
    if not mine:
        del by_user[user_id]


class _Stream:
    """Read one socket's requests; live frames reach it through the fan-out."""

    def __init__(self, peer: Peer, service: TicketService, fanout: Fanout, listfeed: ListFeed):
        self.peer = peer
        self.service = service
        self.fanout = fanout
        self.listfeed = listfeed

    async def read(self) -> None:
        async for message in self.peer.socket:
            if message.type is not WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(message.data)
            except (ValueError, RecursionError):
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
        if kind == "list":
            await self.listfeed.follow(self.peer)
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
        peer = self.peer
        if ticket_id not in peer.watches and len(peer.watches) >= MAX_SUBSCRIPTIONS:
            await self._send({"type": "error", "error": "too_many_subscriptions"})
            return
        async with peer.lock:
            # Counted before reading: a hint heard from here on may concern what we read.
            heard = self.fanout.heard
            try:
                ticket = await self.service.get_ticket(peer.user_id, ticket_id)
            except TicketNotFound:
                await self._not_found(ticket_id)
                return
            self.fanout.unwatch(peer, ticket_id)
            watch = Watch(peer, ticket_id, max(0, min(after, MAX_ID)), ticket.live_state)
            await peer.send(ticket_frame(ticket))
            try:
                await self._backlog(watch)
            except TicketNotFound:
                await self._not_found(ticket_id)
                return
            self.fanout.watch(watch)
            if self.fanout.heard != heard:
                # A change may have landed between the backlog read and the registration.
                self.fanout.poke(ticket_id)

    async def _backlog(self, watch: Watch) -> None:
        while True:
            items = await self.service.timeline(
                self.peer.user_id, watch.ticket_id, after_id=watch.last_id, limit=BATCH
            )
            for item in items:
                await self.peer.send(item_frame(item))
                watch.last_id = item.cursor
            if len(items) < BATCH:
                return

    async def _not_found(self, ticket_id: int) -> None:
        await self._send({"type": "error", "error": "not_found", "ticketId": ticket_id})

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.peer.send(json.dumps(payload))
