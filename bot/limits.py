"""Teams rate limits, enforced before sending and shared by every worker in every process.

Teams allows a bot, per conversation, 7 sends a second, 8 in 2 s, 60 in 30 s and 1,800 an
hour, and an app 50 requests a second per tenant. Each request is logged in ``teams_sends``
under its tenant and its conversation; a send may go only when every sliding window still has
room. Reservations for a tenant are serialized by a transaction-scoped advisory lock, so two
processes never both take the last slot. After a 429, ``teams_throttle`` holds a "throttled
until" for the tenant and the conversation that every reservation honours.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import outbox as store


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds`-long window."""

    limit: int
    seconds: float


CONVERSATION_WINDOWS: Final = (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
TENANT_WINDOWS: Final = (Window(50, 1),)
# Each window is widened by this much: a slot is reserved a moment before the request reaches
# Teams, and two requests may travel at different speeds.
MARGIN: Final = 0.2
# 429 without Retry-After: 1 s, 2 s, 4 s ... 64 s, each jittered down to half.
BACKOFF_BASE: Final = 1.0
BACKOFF_CAP: Final = 64.0
STRIKES_FORGOTTEN_AFTER: Final = 120.0


def throttle_delay(retry_after: float | None, strikes: int) -> float:
    """Return how long to stay away after a 429: Retry-After, else jittered exponential."""
    if retry_after is not None and retry_after >= 0:
        return retry_after
    ceiling: float = min(BACKOFF_CAP, BACKOFF_BASE * 2**strikes)
    return ceiling * (0.5 + random.random() / 2)


async def record_throttle(
    session: AsyncSession, tenant_id: str, conversation_id: str, retry_after: float | None
) -> float:
    """Set the shared throttled-until of a tenant and a conversation after a 429; return delay."""
    key = store.tenant_key(tenant_id)
    strikes = await store.throttle_strikes(session, key, forget_after=STRIKES_FORGOTTEN_AFTER)
    delay = throttle_delay(retry_after, strikes)
    await store.set_throttle(
        session,
        [key, store.conversation_key(conversation_id)],
        delay=delay,
        strikes=strikes + 1,
    )
    return delay


@dataclass(frozen=True)
class Verdict:
    """Either a reserved slot (wait == 0) or how long to wait and what blocked."""

    wait: float
    blocker: str = ""


class RateLimiter:
    """Reserve slots in the shared send log before each request to Teams."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        conversation_windows: Sequence[Window] = CONVERSATION_WINDOWS,
        tenant_windows: Sequence[Window] = TENANT_WINDOWS,
        margin: float = MARGIN,
    ) -> None:
        self._sessions = sessions
        self._conversation_windows = tuple(conversation_windows)
        self._tenant_windows = tuple(tenant_windows)
        self._margin = margin
        # Tasks of this process queue for a tenant in FIFO order instead of racing for the
        # database lock; processes still serialize on the advisory lock.
        self._tenant_locks: dict[str, asyncio.Lock] = {}
        self.waits = 0

    @property
    def history(self) -> float:
        """Return how long the send log must remember a request."""
        windows = self._conversation_windows + self._tenant_windows
        return max(window.seconds for window in windows) + self._margin

    async def acquire(self, tenant_id: str, conversation_id: str, *, patience: float) -> float:
        """Reserve a slot for one request, waiting up to `patience` s; return 0 or the wait left.

        The caller must be the only one sending to this conversation (it holds the lease of the
        conversation's head row), so a conversation verdict cannot change under it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        lock = self._tenant_locks.setdefault(tenant_id, asyncio.Lock())
        while True:
            async with lock:
                while True:
                    verdict = await self._reserve(tenant_id, conversation_id)
                    if verdict.wait <= 0:
                        return 0.0
                    if loop.time() + verdict.wait > deadline:
                        return verdict.wait
                    self.waits += 1
                    if verdict.blocker == "conversation":
                        break  # wait without holding up the rest of the tenant
                    await asyncio.sleep(verdict.wait)
            await asyncio.sleep(verdict.wait)

    async def _reserve(self, tenant_id: str, conversation_id: str) -> Verdict:
        tenant = store.tenant_key(tenant_id)
        conversation = store.conversation_key(conversation_id)
        windows = [
            (key, window.limit, window.seconds + self._margin, name)
            for key, name, group in (
                (conversation, "conversation", self._conversation_windows),
                (tenant, "tenant", self._tenant_windows),
            )
            for window in group
        ]
        async with self._sessions.begin() as session:
            await store.lock_key(session, tenant)
            now, banned, blocking = await store.send_log_check(
                session, [tenant, conversation], [(key, n, span) for key, n, span, _ in windows]
            )
            waits: list[tuple[float, str]] = []
            if banned is not None and banned > now:
                waits.append(((banned - now).total_seconds(), "throttle"))
            for (_key, _limit, span, name), oldest in zip(windows, blocking, strict=True):
                if oldest is not None:
                    waits.append(((oldest - now).total_seconds() + span, name))
            if waits:
                wait, blocker = max(waits)
                # A few ms more: the window must have moved past the oldest send.
                return Verdict(wait + 0.005, blocker)
            await store.log_sends(session, [tenant, conversation], now)
        return Verdict(0.0)

    async def prune(self) -> int:
        """Drop send-log entries older than every window."""
        async with self._sessions.begin() as session:
            return await store.prune_sends(session, older_than=self.history + 60)
