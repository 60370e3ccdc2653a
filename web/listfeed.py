"""The live ticket list over `/ws`: a `ticket` frame per changed ticket and the unread total.

A page that sends `{"type": "list"}` follows every ticket of its user: each hub hint about one
of them makes this process read that ticket (state, unread count, newest message) once for all
of the user's list pages, then the user's unread total, and send `{"type": "ticket", ...}` and
`{"type": "unread", "total": N}`. Hints that arrive during a read coalesce into one more read.
A hint for ticket 0 (the hub reconnected and may have missed some) re-reads the newest tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import presence, repo
from tickets.hub import Hub, TicketChanged
from tickets.views import TicketInfo
from web.fanout import RETRY_DELAY, SEND_TIMEOUT, Peer, ticket_frame

log = logging.getLogger(__name__)

# After a hub reconnect, the newest tickets are read again: a list page shows 20 at a time.
RESYNC_TICKETS = 50


def unread_frame(total: int) -> str:
    """Encode an `unread` frame: the user's unread agent messages over every ticket."""
    return json.dumps({"type": "unread", "total": total})


class ListFeed:
    """Route hub hints about a user's tickets to that user's live list pages in this process."""

    def __init__(self, hub: Hub, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._hub = hub
        self._sessions = sessions
        self._peers: dict[int, set[Peer]] = {}
        self._dirty: dict[int, set[int]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self.reads = 0

    @contextlib.contextmanager
    def joined(self, user_id: int) -> Iterator[None]:
        """Hear the hub's hints about one user's tickets while a socket of theirs is open."""
        with self._hub.listen(user_id, self.changed):
            yield

    def changed(self, change: TicketChanged) -> None:
        """Take a hub hint: schedule a read when the user has a list page open here."""
        if change.user_id in self._peers:
            self._schedule(change.user_id, change.ticket_id)

    async def follow(self, peer: Peer) -> None:
        """Start sending the user's list changes to a socket; send the unread total at once."""
        self._peers.setdefault(peer.user_id, set()).add(peer)
        async with self._sessions() as session:
            total = await presence.unread_total(session, peer.user_id)
        await self._send(peer, [unread_frame(total)])

    def leave(self, peer: Peer) -> None:
        """Stop sending list changes to a closing socket."""
        peers = self._peers.get(peer.user_id)
        if peers is None:
            return
        peers.discard(peer)
        if not peers:
            del self._peers[peer.user_id]

    async def close(self) -> None:
        """Stop every read in flight."""
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()

    def _schedule(self, user_id: int, ticket_id: int) -> None:
        self._dirty.setdefault(user_id, set()).add(ticket_id)
        if user_id not in self._workers:
            self._workers[user_id] = asyncio.create_task(
                self._work(user_id), name=f"ws-list-{user_id}"
            )

    async def _work(self, user_id: int) -> None:
        try:
            while self._dirty.get(user_id) and user_id in self._peers:
                tickets = self._dirty.pop(user_id)
                try:
                    frames = await self._read(user_id, tickets)
                except Exception as exc:  # the database is down: keep the pages, retry later
                    log.warning("ws list: reading tickets of user %s failed (%r)", user_id, exc)
                    self._dirty.setdefault(user_id, set()).update(tickets)
                    await asyncio.sleep(RETRY_DELAY)
                    continue
                for peer in list(self._peers.get(user_id, ())):
                    await self._send(peer, frames)
        finally:
            self._workers.pop(user_id, None)
            if user_id not in self._peers:
                self._dirty.pop(user_id, None)

    async def _read(self, user_id: int, ticket_ids: set[int]) -> list[str]:
        """Read the changed tickets of one user and their unread total; return the frames."""
        self.reads += 1
        async with self._sessions() as session:
            if 0 in ticket_ids:
                rows, _ = await repo.tickets_of(
                    session, user_id, status="all", limit=RESYNC_TICKETS, offset=0
                )
            else:
                found = [await repo.ticket_for_user(session, user_id, i) for i in ticket_ids]
                rows = [row for row in found if row is not None]
            summaries = await presence.summaries(session, [row.id for row in rows])
            total = await presence.unread_total(session, user_id)
        infos = [TicketInfo.of(row, summaries[row.id]) for row in rows]
        return [*(ticket_frame(info) for info in infos), unread_frame(total)]

    async def _send(self, peer: Peer, frames: list[str]) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT), peer.lock:
                for text in frames:
                    await peer.send(text)
        except (ConnectionResetError, RuntimeError):
            self.leave(peer)
        except TimeoutError:
            log.info("ws list: socket of user %s too slow; cutting it", peer.user_id)
            self.leave(peer)
            if peer.transport is not None:
                peer.transport.abort()
