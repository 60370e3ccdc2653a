"""Event hub: "ticket X of user U changed", carried across processes by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from db import repo
from tickets import trace
from tickets.tasks import ConnectionLoop, listen_until_lost

log = logging.getLogger(__name__)

CHANNEL = "ticket_changed"


@dataclass(frozen=True)
class TicketChanged:
    """A ticket's timeline or state changed; readers fetch what is new from the database."""

    ticket_id: int
    user_id: int

    def encode(self) -> str:
        """Render as the NOTIFY payload."""
        return f"{self.ticket_id}:{self.user_id}"

    @classmethod
    def decode(cls, payload: str) -> TicketChanged | None:
        """Parse a NOTIFY payload, or None when it is not ours."""
        try:
            ticket, user = payload.split(":", 1)
            return cls(int(ticket), int(user))
        except ValueError:
            return None


Listener = Callable[[TicketChanged], None]


async def notify_changed(session: AsyncSession, change: TicketChanged) -> None:
    """Queue the notification inside the caller's transaction: PostgreSQL sends it on commit."""
    await repo.notify(session, CHANNEL, change.encode())


class Hub:
    """Fan out ticket changes to the subscribers of this process, fed by one LISTEN connection."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._subscribers: dict[int, set[asyncio.Queue[TicketChanged]]] = defaultdict(set)
        # Callbacks by user, each with how many holders registered it: one process-wide reader
        # (the /ws fan-out) registers once per socket but must be called once per change.
        self._listeners: dict[int, dict[Listener, int]] = {}
        self._loop = ConnectionLoop(dsn, self._listen, name="hub-listen")
        self.listening = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place."""
        self._loop.start()
        await asyncio.wait_for(self.listening.wait(), timeout=15)

    async def stop(self) -> None:
        """Stop listening and release the connection."""
        await self._loop.stop()

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[asyncio.Queue[TicketChanged]]:
        """Receive the changes of one user's tickets for as long as the context is open."""
        queue: asyncio.Queue[TicketChanged] = asyncio.Queue(maxsize=1000)
        self._subscribers[user_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[user_id].discard(queue)
            if not self._subscribers[user_id]:
                del self._subscribers[user_id]

    @contextlib.contextmanager
    def listen(self, user_id: int, listener: Listener) -> Iterator[None]:
        """Call `listener` with each change of one user's tickets while the context is open.

        No queue: the listener runs inside the notification callback, so it must not block.
        The same listener registered by several holders is still called once per change.
        """
        counts = self._listeners.setdefault(user_id, {})
        counts[listener] = counts.get(listener, 0) + 1
        try:
            yield
        finally:
            counts = self._listeners.get(user_id, {})
            left = counts.get(listener, 0) - 1
            if left > 0:
                counts[listener] = left
            else:
                counts.pop(listener, None)
                if not counts:
                    self._listeners.pop(user_id, None)

    @property
    def subscriber_count(self) -> int:
        """Count open subscriptions in this process (queues and listener registrations)."""
        queues = sum(len(queues) for queues in self._subscribers.values())
        return queues + sum(sum(counts.values()) for counts in self._listeners.values())

    def dispatch(self, change: TicketChanged) -> None:
        """Hand a change to this process's subscribers of that user."""
        for queue in list(self._subscribers.get(change.user_id, ())):
            if queue.full():
                # A reader that fell behind only needs to know "something changed": it
                # re-reads from the database, so dropping the oldest hint loses nothing.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(change)
        for listener in list(self._listeners.get(change.user_id, ())):
            try:
                listener(change)
            except Exception:  # one broken listener must not starve the others
                log.exception("hub: listener failed on %s", change)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        change = TicketChanged.decode(payload)
        trace.mark("hub.notified", payload)
        if change is not None:
            self.dispatch(change)

    async def _listen(self, connection: asyncpg.Connection) -> None:
        await listen_until_lost(
            self._loop, connection, CHANNEL, self._on_notify, self._on_listening
        )

    def _on_listening(self) -> None:
        if self.listening.is_set():
            self.reconnects += 1
            self._wake_everyone()
        self.listening.set()

    def _wake_everyone(self) -> None:
        # Notifications may have been missed while reconnecting: tell every reader to re-read.
        for user_id in {*self._subscribers, *self._listeners}:
            self.dispatch(TicketChanged(ticket_id=0, user_id=user_id))
