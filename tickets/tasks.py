"""The one background-loop helper of the long-lived loops (hub, cable relay, outbox worker).

`ConnectionLoop` keeps one dedicated PostgreSQL connection for a loop: connect, run the loop's
session on it, reconnect after a jittered backoff when it is lost, pause without missing a stop,
and stop by asking (an event) rather than cancelling. `listen_until_lost` is the LISTEN session
the hub and the outbox share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

import asyncpg

from db.engine import probe

log = logging.getLogger(__name__)

# What a lost or refused database connection raises; anything else is a bug and propagates.
CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
PROBE_EVERY = 5.0

Session = Callable[[asyncpg.Connection], Awaitable[None]]
Notify = Callable[[asyncpg.Connection, int, str, str], None]


async def stop_gracefully(
    task: asyncio.Task[None] | None, stopping: asyncio.Event, *, grace: float = 10.0
) -> None:
    """Ask a loop to finish by setting `stopping`; cancel it only if it does not in time.

    Loops holding asyncpg connections finish between queries this way: cancelling a query
    mid-flight can leave its connection unable to close.
    """
    if task is None:
        return
    stopping.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class ConnectionLoop:
    """Run a session on one dedicated connection, reconnecting until asked to stop."""

    def __init__(
        self,
        dsn: str,
        session: Session,
        *,
        name: str,
        application_name: str | None = None,
        delay: float = 0.2,
        max_delay: float = 5.0,
        backoff: bool = True,
    ) -> None:
        self._dsn = dsn
        self._session = session
        self.name = name
        self._settings = {"application_name": application_name} if application_name else None
        self._delay = delay
        self._max_delay = max_delay
        self._backoff = backoff
        self._task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    def start(self) -> None:
        """Start the loop in the background."""
        self.stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Ask the loop to finish (cancel it only if it does not in time)."""
        self.stopping.set()
        task, self._task = self._task, None
        await stop_gracefully(task, self.stopping)

    @property
    def stopped(self) -> bool:
        """Tell whether the loop was asked to stop."""
        return self.stopping.is_set()

    async def pause(self, seconds: float) -> bool:
        """Sleep, but wake at once on a stop; return True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return self.stopping.is_set()

    async def pause_until(self, event: asyncio.Event, seconds: float) -> None:
        """Wait for `event`, a stop, or the time, whichever comes first."""
        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self.stopping.wait())}
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
        for waiter in pending:
            waiter.cancel()

    async def _run(self) -> None:
        delay = self._delay
        while not self.stopping.is_set():
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn, server_settings=self._settings)
                delay = self._delay
                await self._session(connection)
            except CONNECTION_ERRORS as exc:
                log.warning("%s: database connection lost (%s); retrying", self.name, exc)
            finally:
                if connection is not None:
                    await _close(connection)
            wait = delay * (1 + random.random()) if self._backoff else delay
            if await self.pause(wait):
                return
            if self._backoff:
                delay = min(delay * 2, self._max_delay)


async def listen_until_lost(
    loop: ConnectionLoop,
    connection: asyncpg.Connection,
    channel: str,
    on_notify: Notify,
    on_listening: Callable[[], None],
) -> None:
    """LISTEN on `channel` until the connection is lost or the loop stops.

    `on_listening` runs once the LISTEN is in place (notifications may have been missed while
    disconnected, so callers re-read there). A dropped backend is not always reported promptly,
    so the connection is probed every few seconds.
    """
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _c: lost.set())
    await connection.add_listener(channel, on_notify)
    on_listening()
    while not (lost.is_set() or loop.stopped):
        await loop.pause_until(lost, PROBE_EVERY)
        if lost.is_set() or loop.stopped or connection.is_closed():
            return
        try:
            await probe(connection, within=PROBE_EVERY)
        except CONNECTION_ERRORS:
            return


async def _close(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=2)
    except Exception:  # a broken connection is dropped hard
        connection.terminate()
