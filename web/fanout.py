"""Per-process `/ws` fan-out: one database read per changed ticket, the same frames to every socket.

A hub hint about a ticket makes this process read the ticket's state and its timeline after the
lowest cursor among the sockets watching it — once, however many sockets watch — and send the
pre-encoded frames to each of them, skipping the items a socket already has. Hints for a ticket
that arrive while it is being read coalesce into one more read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from asyncio import Transport
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import presence, repo
from tickets import reads, trace
from tickets.hub import Hub, TicketChanged
from tickets.views import TicketInfo, TimelineItem

log = logging.getLogger(__name__)

BATCH = 200
# A socket that cannot take a frame for this long is cut; the page reconnects and resumes.
SEND_TIMEOUT = 10.0
RETRY_DELAY = 1.0


class Peer:
    """One socket's side of the fan-out: whose it is, what it watches, one send at a time."""

    __slots__ = ("lock", "socket", "transport", "user_id", "watches")

    def __init__(
        self, socket: web.WebSocketResponse, user_id: int, transport: Transport | None
    ) -> None:
        self.socket = socket
        self.user_id = user_id
        self.transport = transport
        self.watches: dict[int, Watch] = {}
        # Serializes a socket's sends: a subscription's backlog and live frames never interleave.
        self.lock = asyncio.Lock()

    async def send(self, text: str) -> None:
        """Send one encoded frame unless the socket is already closed."""
        if not self.socket.closed:
            await self.socket.send_str(text)


@dataclass(slots=True, eq=False)
class Watch:
    """One ticket followed on one socket: the last cursor sent and the last state shown."""

    peer: Peer
    ticket_id: int
    last_id: int
    # The ticket's `live_state` last sent: a different one is sent as a `ticket` frame.
    state: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Changes:
    """What one read found: the ticket (None when gone) and items after the cursor, in order."""

    ticket: TicketInfo | None
    items: list[TimelineItem]


async def read_changes(
    sessions: async_sessionmaker[AsyncSession], ticket_id: int, *, after_id: int, limit: int
) -> Changes:
    """Read a ticket's state and its timeline items after `after_id` in one session."""
    async with sessions() as session:
        ticket = await repo.get_ticket(session, ticket_id)
        if ticket is None:
            return Changes(None, [])
        found = await presence.summaries(session, [ticket_id])
        info = TicketInfo.of(ticket, found[ticket_id])
        items = await reads.timeline_after(session, ticket_id, after_id=after_id, limit=limit)
    return Changes(info, items)


def item_frame(item: TimelineItem) -> str:
    """Encode an `item` frame."""
    return json.dumps({"type": "item", "item": item.to_json()})


def ticket_frame(ticket: TicketInfo) -> str:
    """Encode a `ticket` frame."""
    return json.dumps({"type": "ticket", "ticket": ticket.to_json()})


class Fanout:
    """Route hub hints to the sockets of this process by ticket, reading once per change."""

    def __init__(self, hub: Hub, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._hub = hub
        self._sessions = sessions
        self._watchers: dict[int, set[Watch]] = {}
        self._dirty: set[int] = set()
        self._workers: dict[int, asyncio.Task[None]] = {}
        # Hints heard so far: a subscriber compares it around its own backlog read to learn
        # whether a change may have slipped between that read and its registration.
        self.heard = 0
        self.reads = 0

    @contextlib.contextmanager
    def joined(self, user_id: int) -> Iterator[None]:
        """Hear the hub's hints about one user's tickets while a socket of theirs is open."""
        with self._hub.listen(user_id, self.changed):
            yield

    def changed(self, change: TicketChanged) -> None:
        """Take a hub hint: re-read the ticket, or every watched ticket of the user for 0."""
        self.heard += 1
        if change.ticket_id == 0:
            # The hub lost its LISTEN connection and may have missed hints: re-read everything.
            tickets = [
                ticket_id
                for ticket_id, watchers in self._watchers.items()
                if any(w.peer.user_id == change.user_id for w in watchers)
            ]
        else:
            tickets = [change.ticket_id] if change.ticket_id in self._watchers else []
        for ticket_id in tickets:
            self.poke(ticket_id)

    def watch(self, watch: Watch) -> None:
        """Start sending a ticket's changes to a socket whose backlog is up to date."""
        self.unwatch(watch.peer, watch.ticket_id)
        watch.peer.watches[watch.ticket_id] = watch
        self._watchers.setdefault(watch.ticket_id, set()).add(watch)

    def unwatch(self, peer: Peer, ticket_id: int) -> None:
        """Stop sending a ticket's changes to a socket."""
        watch = peer.watches.pop(ticket_id, None)
        watchers = self._watchers.get(ticket_id)
        if watch is None or watchers is None:
            return
        watchers.discard(watch)
        if not watchers:
            del self._watchers[ticket_id]

    def leave(self, peer: Peer) -> None:
        """Forget every subscription of a closing socket."""
        for ticket_id in list(peer.watches):
            self.unwatch(peer, ticket_id)

    def poke(self, ticket_id: int) -> None:
        """Schedule a read of the ticket; pokes during a read coalesce into one more."""
        self._dirty.add(ticket_id)
        if ticket_id not in self._workers:
            self._workers[ticket_id] = asyncio.create_task(
                self._work(ticket_id), name=f"ws-fanout-{ticket_id}"
            )

    async def close(self) -> None:
        """Stop every read in flight."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    async def _work(self, ticket_id: int) -> None:
        try:
            while ticket_id in self._dirty and ticket_id in self._watchers:
                self._dirty.discard(ticket_id)
                try:
                    await self._refresh(ticket_id)
                except Exception as exc:  # the database is down: keep the sockets, retry later
                    log.warning("ws fan-out: reading ticket %s failed (%r)", ticket_id, exc)
                    self._dirty.add(ticket_id)
                    await asyncio.sleep(RETRY_DELAY)
        finally:
            self._workers.pop(ticket_id, None)
            if ticket_id not in self._watchers:
                self._dirty.discard(ticket_id)

    async def _refresh(self, ticket_id: int) -> None:
        watchers = self._watchers.get(ticket_id)
        if not watchers:
            return
        cursor = min(w.last_id for w in watchers)
        while True:
            self.reads += 1
            changes = await read_changes(self._sessions, ticket_id, after_id=cursor, limit=BATCH)
            trace.mark("fanout.read", ticket_id)
            ticket = changes.ticket
            targets = list(self._watchers.get(ticket_id, ()))
            if ticket is None:
                for watch in targets:
                    self.unwatch(watch.peer, ticket_id)
                return
            last = len(changes.items) < BATCH
            frames = [(item.cursor, item_frame(item)) for item in changes.items]
            state = ticket_frame(ticket) if last else None
            outcomes = await asyncio.gather(
                *(
                    self._deliver(watch, cursor, frames, ticket, state)
                    for watch in targets
                    if self._allowed(watch, ticket)
                )
            )
            trace.mark("fanout.sent", ticket_id)
            if not all(outcomes):
                # A socket joined behind this read's cursor: read again from its own cursor.
                self._dirty.add(ticket_id)
            if last:
                return
            cursor = frames[-1][0]

    def _allowed(self, watch: Watch, ticket: TicketInfo) -> bool:
        # Subscribing checked ownership already; checking again keeps a socket from ever
        # receiving another user's ticket, whatever routed the hint here.
        if watch.peer.user_id == ticket.requester_id:
            return True
        self.unwatch(watch.peer, watch.ticket_id)
        return False

    async def _deliver(
        self,
        watch: Watch,
        cursor: int,
        frames: list[tuple[int, str]],
        ticket: TicketInfo,
        state: str | None,
    ) -> bool:
        """Send one socket what it lacks; False when it is behind the read and needs another."""
        peer = watch.peer
        try:
            async with asyncio.timeout(SEND_TIMEOUT), peer.lock:
                if peer.watches.get(watch.ticket_id) is not watch:
                    return True
                if watch.last_id < cursor:
                    return False
                for position, text in frames:
                    if position > watch.last_id:
                        await peer.send(text)
                        watch.last_id = position
                if state is not None and ticket.live_state != watch.state:
                    watch.state = ticket.live_state
                    await peer.send(state)
        except (ConnectionResetError, RuntimeError):
            self.leave(peer)
        except TimeoutError:
            log.info("ws fan-out: socket of user %s too slow; cutting it", peer.user_id)
            self.leave(peer)
            if peer.transport is not None:
                peer.transport.abort()
        return True
