"""The outbox worker: deliver queued Teams messages once, in order, inside Teams' limits.

One worker task per process. It wakes on the ``outbox`` notification (ingest sends it when it
queues rows, workers when they release one) and at least every second, leases due
rows (``db.outbox.claim_due``: the oldest pending row of each conversation, ``SKIP LOCKED``),
and hands each to ``bot.outbox_send.Sender``, which reserves a slot in the shared send log
(``bot.limits``), sends through the gateway and records the outcome in the transaction that
releases the lease.

Exactly-once, as the employee sees it: ingest's dedupe keys make every replay the same row; the
lease means one worker at a time holds a conversation's head row. The one window left is a
process dying after Teams accepted a send and before the release committed: the lease then
expires and the row is sent again (measured by ``tests/bot/test_outbox_crash.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Final

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot.gateway import TeamsGateway
from bot.limits import RateLimiter
from bot.outbox_send import MAX_ATTEMPTS, OutboxStats, RenderSettings, Sender
from db import outbox as store
from tickets import trace
from tickets.attachments import FileLinks
from tickets.tasks import ConnectionLoop, listen_until_lost, stop_gracefully

__all__ = ["OutboxStats", "OutboxTuning", "OutboxWorker"]

log = logging.getLogger(__name__)

CHANNEL: Final = store.CHANNEL
LEASE: Final = 60.0
PRUNE_EVERY: Final = 60.0
# Heartbeats of workers gone this long are deleted.
HEARTS_KEPT: Final = 3600.0


@dataclass(frozen=True)
class OutboxTuning:
    """How hard a worker pulls: rows per claim, sends in flight, lease, poll and retry bounds."""

    batch: int = 16
    concurrency: int = 16
    lease: float = LEASE
    poll: float = 1.0
    max_attempts: int = MAX_ATTEMPTS
    # A dead worker's leases are void this many seconds after its last heartbeat (beaten
    # every `grace` / 5 s, so a few failed beats in a database blip do not void them).
    grace: float = 10.0


class OutboxWorker:
    """Deliver outbox rows through the Teams gateway; one instance per process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: TeamsGateway,
        *,
        dsn: str,
        base_url: str,
        default_locale: str,
        labels: cards.ChoiceLabels | None = None,
        links: FileLinks | None = None,
        limiter: RateLimiter | None = None,
        tuning: OutboxTuning = OutboxTuning(),
    ) -> None:
        self._sessions = sessions
        self._dsn = dsn
        self.limiter = limiter or RateLimiter(sessions)
        self._owns_limiter = limiter is None
        self._tuning = tuning
        # Its heartbeat's name (`outbox_workers`), and the LISTEN connection's application_name
        # so an administrator sees whose it is (PostgreSQL keeps 63 bytes of it).
        host = socket.gethostname()[:30]
        self.worker_id = f"outbox:{host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.stats = OutboxStats()
        self._sender = Sender(
            sessions,
            gateway,
            self.limiter,
            RenderSettings(base_url.rstrip("/"), default_locale, labels or {}, links),
            stats=self.stats,
            max_attempts=tuning.max_attempts,
        )
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._heart: asyncio.Task[None] | None = None
        self._heart_stop = asyncio.Event()
        # Since when (loop time) every heartbeat has succeeded; None after a failed one. Only a
        # worker whose own beats have held for a whole grace, the last one lately, may judge
        # another one dead: after a blip, the others' beats may not have come through yet either.
        self._beating_since: float | None = None
        self._last_beat: float | None = None
        # Beats go on a connection of their own: through the shared pool they can wait longer
        # than a grace for a connection when the process is busy, and another worker would
        # then take this live worker's rows and send them a second time.
        self._heart_connection: asyncpg.Connection | None = None
        self.listening = asyncio.Event()
        # The LISTEN connection carries the worker's name: see worker_id above.
        self._listener = ConnectionLoop(
            dsn, self._listen, name="outbox-listen", application_name=self.worker_id
        )

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening for hints and delivering."""
        self._listener.start()
        await self._beat()  # alive before the first claim
        self._heart = asyncio.create_task(self._beat_loop(), name="outbox-heartbeat")
        self._task = asyncio.create_task(self._run(), name="outbox-worker")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), timeout=10)

    async def stop(self) -> None:
        """Stop claiming; let deliveries in flight finish (their sends are already on the wire)."""
        # The loops end on the event rather than on cancel(): Python 3.11's wait_for can
        # swallow a cancellation that races its timeout, which left a worker looping forever.
        self._wake.set()
        await self._listener.stop()
        task, self._task = self._task, None
        await stop_gracefully(task, self._listener.stopping)
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=30)
        # Whatever is still stuck keeps its lease, which lapses for another worker to retry.
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        heart, self._heart = self._heart, None
        if heart is not None:
            # Stopped by the event, not cancelled mid-query (the pooled connection would be
            # left unusable).
            self._heart_stop.set()
            await asyncio.gather(heart, return_exceptions=True)
        await self._drop_heart_connection()
        if self._owns_limiter:
            await self.limiter.close()
        # Gone now: the leases still held lapse after the grace, for another worker to retry.
        with contextlib.suppress(Exception):
            async with self._sessions.begin() as session:
                await store.forget_workers(session, self.worker_id, older_than=HEARTS_KEPT)

    @property
    def running(self) -> bool:
        """Tell whether the worker loop is alive."""
        return self._task is not None and not self._task.done()

    # ---- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + PRUNE_EVERY
        failures = 0
        while not self._listener.stopped:
            self._wake.clear()
            try:
                claimed = await self._claim_more()
                self.stats.passes += 1
                failures = 0
                if loop.time() >= next_prune:
                    next_prune = loop.time() + PRUNE_EVERY
                    await self.limiter.prune()
                    async with self._sessions.begin() as session:
                        await store.prune_workers(session, older_than=HEARTS_KEPT)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                log.exception("outbox: claiming failed (%d in a row)", failures)
                await self._listener.pause(min(5.0, 0.2 * 2**failures))
                continue
            if claimed:
                continue  # a full batch may mean more is due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._tuning.poll)

    async def _beat_loop(self) -> None:
        """Beat the heart every fifth of the grace, whatever the claim loop is waiting for."""
        while not self._heart_stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heart_stop.wait(), self._tuning.grace / 5)
                return
            await self._beat()

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        within = self._tuning.grace / 2
        try:
            if self._heart_connection is None or self._heart_connection.is_closed():
                self._heart_connection = await asyncpg.connect(
                    self._dsn,
                    timeout=within,
                    server_settings={"application_name": f"{self.worker_id}:heart"[:63]},
                )
            await self._heart_connection.execute(
                store.HEARTBEAT_SQL, self.worker_id, timeout=within
            )
            self._last_beat = loop.time()
            if self._beating_since is None:
                self._beating_since = self._last_beat
        except Exception as exc:
            # The next beat tries again; only `grace` seconds of failures void our leases.
            self._beating_since = None
            await self._drop_heart_connection()
            log.warning("outbox: heartbeat failed: %s", str(exc) or type(exc).__name__)

    async def _drop_heart_connection(self) -> None:
        connection, self._heart_connection = self._heart_connection, None
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=2)
            except Exception:  # a broken connection is dropped hard
                connection.terminate()

    def _may_judge_others(self) -> bool:
        """Tell whether this worker's own beats held for a grace and came through lately."""
        now = asyncio.get_running_loop().time()
        since, last = self._beating_since, self._last_beat
        if since is None or last is None:
            return False
        return now - since > self._tuning.grace and now - last < self._tuning.grace / 2

    async def _claim_more(self) -> bool:
        free = self._tuning.concurrency - len(self._inflight)
        if free <= 0:
            return False
        want = min(free, self._tuning.batch)
        async with self._sessions.begin() as session:
            # The pooled connection first: waiting for it can take longer than a beat, and the
            # judgement below must be as fresh as the query it goes into.
            await session.connection()
            claims = await store.claim_due(
                session,
                worker=self.worker_id,
                limit=want,
                lease=self._tuning.lease,
                grace=self._tuning.grace,
                void_dead=self._may_judge_others(),
            )
        self.stats.claimed += len(claims)
        for claim in claims:
            trace.mark("outbox.claimed", claim.id)
            task = asyncio.create_task(self._sender.deliver(claim), name=f"outbox-{claim.id}")
            self._inflight.add(task)
            task.add_done_callback(self._finished)
        return len(claims) == want

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        await listen_until_lost(
            self._listener, connection, CHANNEL, self._on_notify, self._on_listening
        )

    def _on_listening(self) -> None:
        self.listening.set()
        self._wake.set()  # hints may have been missed while disconnected

    def _on_notify(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        trace.mark("outbox.woken")
        self._wake.set()
