"""Send claims: one holder at a time for a key, across every service process.

A key names one send to Chatwoot (a message's echo id, a user's ticket creation). Holding it is
a lease in `send_claims`, renewed while the holder works, so a holder killed with SIGKILL frees
it within one lease. A claim released without being settled stays as a trace: the next holder
learns that an earlier attempt may have reached Chatwoot and must look there before sending.

Only the database's clock is used (now() in every statement), so processes on hosts whose clocks
differ still agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

# Twice the pool's wait for a connection (a renewal can queue that long under load).
LEASE: Final = 60.0
# Longer than one lease: a holder that died frees the key before a waiter gives up.
WAIT: Final = 65.0
# A waiter looks again after POLL, then less and less often (up to POLL_MAX).
POLL: Final = 0.1
POLL_MAX: Final = 1.0
RETRY: Final = 0.5
# A holder renews this often, so a lease long enough for a slow pool still runs well ahead.
RENEW_EVERY: Final = 5.0
# A holder acts on its claim only while this much of the lease is surely left.
MARGIN: Final = 2.0

_TAKE = text(
    """
    INSERT INTO send_claims (key, holder, held_until, after_message_id)
    VALUES (:key, :holder, now() + make_interval(secs => :lease), :after)
    ON CONFLICT (key) DO UPDATE
        SET holder = excluded.holder, held_until = excluded.held_until
        WHERE send_claims.held_until < now()
    RETURNING xmax <> 0 AS earlier, after_message_id
    """
)
_RENEW = text(
    "UPDATE send_claims SET held_until = now() + make_interval(secs => :lease)"
    " WHERE key = :key AND holder = :holder"
)
_RELEASE = text(
    "UPDATE send_claims SET held_until = now() - interval '1 microsecond'"
    " WHERE key = :key AND holder = :holder"
)
_SETTLE = text("DELETE FROM send_claims WHERE key = :key AND holder = :holder")
# Unsettled traces a day old are forgotten: no client retries a message a day later. Rows
# another transaction is deleting are skipped, never waited for.
_PURGE = text(
    "DELETE FROM send_claims WHERE ctid IN (SELECT ctid FROM send_claims"
    " WHERE held_until < now() - interval '1 day' LIMIT 100 FOR UPDATE SKIP LOCKED)"
)


class ClaimBusy(Exception):
    """Another request kept the key for longer than a waiter waits."""


@dataclass
class Held:
    """A key this process holds.

    `earlier` is True when an attempt before this one was released unsettled (it may have
    reached Chatwoot); `after_message_id` is what the first attempt recorded. The renewer keeps
    `valid_until` (this process's monotonic clock) and sets `lost` if someone else took the key.
    """

    key: str
    holder: str
    earlier: bool
    after_message_id: int | None
    valid_until: float
    lost: bool = False

    def secure(self) -> bool:
        """Tell whether the key is surely still ours for a while (act on it only then)."""
        return not self.lost and time.monotonic() + MARGIN < self.valid_until


@contextlib.asynccontextmanager
async def holding(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    *,
    after_message_id: int | None = None,
    lease: float = LEASE,
    wait: float = WAIT,
) -> AsyncIterator[Held]:
    """Hold `key` for the block (waiting up to `wait` for another holder); raise ClaimBusy.

    Settle the claim (`settle`) in the transaction that stores the outcome; a block that ends
    without settling leaves a trace for the next attempt.
    """
    held = await _acquire(sessions, key, after_message_id, lease, wait)
    done = asyncio.Event()
    renewing = asyncio.create_task(_renew(sessions, held, lease, done))
    try:
        yield held
    finally:
        # Stopped by the event, never cancelled: a query cancelled mid-way leaves its pooled
        # connection unusable ("another operation is in progress").
        done.set()
        await renewing
        await _release(sessions, held)


async def settle(session: AsyncSession, held: Held) -> None:
    """Forget the claim in the caller's transaction: the send is stored, nothing to trace."""
    await session.execute(_SETTLE, {"key": held.key, "holder": held.holder})
    await session.execute(_PURGE)


async def _acquire(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    after_message_id: int | None,
    lease: float,
    wait: float,
) -> Held:
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    params = {"key": key, "holder": holder, "lease": lease, "after": after_message_id}
    pause = POLL
    while True:
        asked = time.monotonic()
        async with sessions.begin() as session:
            row = (await session.execute(_TAKE, params)).first()
        if row is not None:
            return Held(key, holder, bool(row.earlier), row.after_message_id, asked + lease)
        if time.monotonic() >= deadline:
            raise ClaimBusy(key)
        await asyncio.sleep(pause)
        pause = min(POLL_MAX, pause * 1.5)


async def _renew(
    sessions: async_sessionmaker[AsyncSession], held: Held, lease: float, done: asyncio.Event
) -> None:
    """Extend the lease every third of it until the holder is done."""
    params = {"key": held.key, "holder": held.holder, "lease": lease}
    pause = min(RENEW_EVERY, lease / 3)
    while True:
        try:
            await asyncio.wait_for(done.wait(), pause)
            return
        except TimeoutError:
            pass
        try:
            asked = time.monotonic()
            async with sessions.begin() as session:
                renewed = (await session.execute(_RENEW, params)).rowcount  # type: ignore[attr-defined]
            if not renewed:
                # Settled (the row is gone), or the lease lapsed and another request took the
                # key: either way, stop acting on it.
                log.info("the claim on %s is no longer held", held.key)
                held.lost = True
                return
            held.valid_until = asked + lease
            pause = min(RENEW_EVERY, lease / 3)
        except (DBAPIError, SQLAlchemyError, OSError) as exc:
            # Soon again: a terminated connection is replaced at once, and the lease must not
            # lapse while the holder still works (a waiter would send a second time).
            log.warning("could not renew the claim on %s: %s", held.key, exc)
            pause = RETRY


async def _release(sessions: async_sessionmaker[AsyncSession], held: Held) -> None:
    """End the lease; an unsettled claim stays as a trace (a settled one is already gone)."""
    try:
        async with sessions.begin() as session:
            await session.execute(_RELEASE, {"key": held.key, "holder": held.holder})
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        # The lease runs out by itself; a waiter then takes the key.
        log.warning("could not release the claim on %s: %s", held.key, exc)
