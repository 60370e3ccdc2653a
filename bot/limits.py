"""Teams rate limits, enforced before sending and shared by every worker in every process.

Teams allows a bot, per conversation, 7 sends a second, 8 in 2 s, 60 in 30 s and 1,800 an
hour, and an app 50 requests a second per tenant. Each request is logged in ``teams_sends``
under its tenant and its conversation (a roster read under its tenant only); a request may go
only when every sliding window still has room. A request counts from its reservation until a
window after its answer: it reaches Teams somewhere in between, however slowly it travelled, so
no window Teams counts can hold more than the limit (a margin fixed in advance would not cover
a request held up longer than it on a busy machine). Every request counts: the outbox's sends,
updates and 1:1 creates (``bot.outbox_send``) and a turn's own replies and roster reads
(``bot.turn_limits``). Reservations for a tenant are serialized by a transaction-scoped
advisory lock, so two processes never both take the last slot; within a process they are
decided in batches. After a 429, ``teams_throttle`` holds a "throttled until" for the tenant
and the conversation that every reservation honours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import Delivery, TeamsGateway
from db import outbox as store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    """At most `limit` requests in any `seconds`-long window."""

    limit: int
    seconds: float


CONVERSATION_WINDOWS: Final = (Window(7, 1), Window(8, 2), Window(60, 30), Window(1800, 3600))
TENANT_WINDOWS: Final = (Window(50, 1),)
# Each window is widened by this much, for rounding only: travel is covered by counting a
# request until its answer (a tenant's sustained rate is limit / (1 s + margin + round trip)).
MARGIN: Final = 0.01
TENANT_MARGIN: Final = 0.01
# A request whose answer was never recorded (its process died) stops counting this long after
# its reservation: longer than any request to Teams may take (the gateway's timeout is 20 s).
IN_FLIGHT_CAP: Final = 30.0
# Answers are written this long after the first of a batch (when no reservation took them): a
# request then counts this much longer, and a busy process writes 20 batches a second, not one
# per request.
RECORD_AFTER: Final = 0.05
# Answers not yet recorded are retried this many times (about a minute), then left to the cap.
DONE_TRIES: Final = 12
# A few ms more on every wait: the window must have moved past the oldest send.
SLACK: Final = 0.005
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
    rows: tuple[int, ...] = ()  # the send-log entries of a granted request


@dataclass
class Grant:
    """What `RateLimiter.slot` yields: 0 and the request may go, or how long it would wait."""

    wait: float
    rows: tuple[int, ...] = ()
    doubt: bool = False

    def in_doubt(self) -> None:
        """Say the request may still reach Teams after the block.

        A call left running on a thread past a timeout: no answer is recorded, and the request
        counts until the in-flight cap.
        """
        self.doubt = True


def _seconds(later: datetime, now: datetime) -> float:
    return (later - now).total_seconds()


def _conversation_wait(now: datetime, states: Sequence[store.WindowState]) -> Verdict:
    """Tell how long a conversation must wait (0: every window has room and no 429 holds)."""
    waits = [(0.0, "")]
    for state in states:
        if state.banned is not None and state.banned > now:
            waits.append((_seconds(state.banned, now), "throttle"))
        if state.kth is not None:
            waits.append((_seconds(state.kth, now) + state.seconds, "conversation"))
    wait, blocker = max(waits)
    return Verdict(wait, blocker)


def _tenant_wait(now: datetime, states: Sequence[store.WindowState], granted: int) -> float:
    """Tell when a full tenant window (after `granted` more sends now) has a slot again."""
    waits = [0.0]
    for state in states:
        if state.sends + granted < state.limit:
            continue
        if state.sends >= state.limit and state.kth is not None:
            waits.append(_seconds(state.kth, now) + state.seconds)
        elif state.oldest is not None:
            waits.append(_seconds(state.oldest, now) + state.seconds)
        else:
            waits.append(state.seconds)  # filled by this batch alone
    return max(waits)


def plan(
    now: datetime,
    states: Sequence[store.WindowState],
    tenant: str,
    conversations: Sequence[str | None],
) -> tuple[list[Verdict], list[str | None]]:
    """Decide a batch of requests of one tenant, in order: the verdicts and the keys granted.

    A request goes when its conversation's windows have room, no 429 holds the tenant or the
    conversation, and the tenant's windows still have room after the ones granted before it.
    A request without a conversation (a roster read) answers to the tenant's windows only.
    """
    tenant_states = [s for s in states if s.key == tenant]
    ban = max((s.banned for s in tenant_states if s.banned is not None), default=None)
    room = min((s.limit - s.sends for s in tenant_states), default=len(conversations))
    verdicts: list[Verdict] = []
    granted: list[str | None] = []
    for conversation in conversations:
        if ban is not None and ban > now:
            verdicts.append(Verdict(_seconds(ban, now) + SLACK, "throttle"))
            continue
        verdict = _conversation_wait(now, [s for s in states if s.key == conversation])
        if conversation is not None and conversation in granted:
            # One request per conversation and batch: the next waits for the next batch.
            verdict = Verdict(max(verdict.wait, SLACK), "conversation")
        if verdict.wait > 0:
            verdicts.append(Verdict(verdict.wait + SLACK, verdict.blocker))
        elif len(granted) < room:
            granted.append(conversation)
            verdicts.append(Verdict(0.0))
        else:
            wait = _tenant_wait(now, tenant_states, len(granted))
            verdicts.append(Verdict(wait + SLACK, "tenant"))
    return verdicts, granted


@dataclass(eq=False)
class _Request:
    conversation: str | None
    answer: asyncio.Future[Verdict]


class RateLimiter:
    """Reserve slots in the shared send log before each request to Teams.

    Requests of one tenant are decided in batches: whatever queued while the previous batch was
    in the database goes in one transaction (lock, record this process's answered requests, read
    every window, log the grants), so the rate a tenant can reach does not depend on how long one
    round trip takes. Answers are recorded in batches too, by a task of their own.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        conversation_windows: Sequence[Window] = CONVERSATION_WINDOWS,
        tenant_windows: Sequence[Window] = TENANT_WINDOWS,
        margin: float = MARGIN,
        tenant_margin: float = TENANT_MARGIN,
        in_flight_cap: float = IN_FLIGHT_CAP,
    ) -> None:
        self._sessions = sessions
        self._conversation_windows = tuple(conversation_windows)
        self._tenant_windows = tuple(tenant_windows)
        self._margin = margin
        self._tenant_margin = tenant_margin
        self._in_flight_cap = in_flight_cap
        self._pending: dict[str, list[_Request]] = {}
        self._drainers: dict[str, asyncio.Task[None]] = {}
        self._done: list[int] = []
        self._recorder: asyncio.Task[None] | None = None
        self.waits = 0
        self.batches = 0

    @property
    def history(self) -> float:
        """Return how long the send log must remember a request."""
        windows = self._conversation_windows + self._tenant_windows
        return max(window.seconds for window in windows) + self._margin + self._in_flight_cap

    @contextlib.asynccontextmanager
    async def slot(
        self, tenant_id: str, conversation_id: str | None, *, patience: float
    ) -> AsyncIterator[Grant]:
        """Reserve a slot for one request, waiting up to `patience` s; yield the grant.

        Make the request inside the block when the grant's wait is 0: leaving the block records
        that it was answered (or failed), from which moment its windows start to close. A block
        left by a cancellation, or whose grant was put `in_doubt`, records nothing: its request
        may still be travelling, so it counts until the in-flight cap.
        ``conversation_id`` None: a request only the tenant's windows count (a roster read).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            verdict = await self._verdict(tenant_id, conversation_id)
            if verdict.wait <= 0:
                break
            if loop.time() + verdict.wait > deadline:
                yield Grant(verdict.wait)
                return
            self.waits += 1
            await asyncio.sleep(verdict.wait)
        grant = Grant(0.0, verdict.rows)
        try:
            yield grant
        except asyncio.CancelledError:
            grant.in_doubt()  # e.g. a wait_for around a call that runs on in a thread
            raise
        finally:
            if not grant.doubt:
                self._answered(grant.rows)

    async def _verdict(self, tenant_id: str, conversation_id: str | None) -> Verdict:
        """Ask for a slot; a caller cancelled after its slot was granted gives the slot back."""
        answer = self._ask(tenant_id, conversation_id)
        try:
            return await answer
        except asyncio.CancelledError:
            if answer.done() and not answer.cancelled() and answer.exception() is None:
                self._answered(answer.result().rows)  # granted, never used
            raise

    def _ask(self, tenant_id: str, conversation_id: str | None) -> asyncio.Future[Verdict]:
        answer: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(tenant_id, []).append(_Request(conversation_id, answer))
        if tenant_id not in self._drainers:
            self._drainers[tenant_id] = asyncio.create_task(
                self._drain(tenant_id), name=f"limiter-{tenant_id}"
            )
        return answer

    async def _drain(self, tenant_id: str) -> None:
        """Decide the tenant's queued requests batch by batch until none is left."""
        batch: list[_Request] = []
        try:
            while batch := [r for r in self._pending.pop(tenant_id, []) if not r.answer.done()]:
                try:
                    verdicts = await self._reserve(tenant_id, [r.conversation for r in batch])
                except Exception as exc:  # the caller's delivery records it and retries
                    for request in batch:
                        if not request.answer.done():
                            request.answer.set_exception(exc)
                    continue
                for request, verdict in zip(batch, verdicts, strict=True):
                    if request.answer.done():  # its caller gave up: the slot goes unused
                        self._answered(verdict.rows)
                    else:
                        request.answer.set_result(verdict)
        finally:
            self._drainers.pop(tenant_id, None)
            # Stopped mid-batch (shutdown): nobody may wait forever for an answer.
            for request in [*batch, *self._pending.pop(tenant_id, [])]:
                request.answer.cancel()

    async def _reserve(self, tenant_id: str, conversations: Sequence[str | None]) -> list[Verdict]:
        tenant = store.tenant_key(tenant_id)
        keys = [store.conversation_key(c) if c is not None else None for c in conversations]
        windows = [(tenant, w.limit, w.seconds + self._tenant_margin) for w in self._tenant_windows]
        windows += [
            (key, w.limit, w.seconds + self._margin)
            for key in dict.fromkeys(k for k in keys if k is not None)
            for w in self._conversation_windows
        ]
        self.batches += 1
        done, self._done = self._done, []
        try:
            async with self._sessions.begin() as session:
                await store.lock_key(session, tenant)
                if done:  # this process's answered requests count in this very decision
                    await store.mark_done(session, done)
                now, states = await store.window_states(
                    session, windows, in_flight_cap=self._in_flight_cap
                )
                verdicts, granted = plan(now, states, tenant, keys)
                if granted:
                    logged = [tenant] * len(granted) + [key for key in granted if key is not None]
                    ids = await store.log_sends(session, logged, now)
        except BaseException:
            if done:
                self._answered(done)  # the recorder writes them instead
            raise
        if granted:
            verdicts = _with_rows(verdicts, granted, ids)
        return verdicts

    def _answered(self, rows: Sequence[int]) -> None:
        """Queue the answered requests' entries; the recorder writes them in batches."""
        self._done.extend(rows)
        if self._done and (self._recorder is None or self._recorder.done()):
            self._recorder = asyncio.create_task(self._record_done(), name="limiter-done")

    async def _record_done(self) -> None:
        """Write every queued answer; retry a failed write for about a minute, then let go."""
        delay, tries = 0.1, 0
        while self._done:
            # Answers of the next moments go in one write, unless a reservation of this
            # process takes them first (it writes them in its own transaction).
            await asyncio.sleep(RECORD_AFTER)
            if not self._done:
                return
            done, self._done = self._done, []
            try:
                async with self._sessions.begin() as session:
                    await store.mark_done(session, done)
                delay, tries = 0.1, 0
            except Exception:
                tries += 1
                if tries >= DONE_TRIES:  # they stop counting at the in-flight cap
                    log.warning("limiter: %d answered requests left unrecorded", len(done))
                    delay, tries = 0.1, 0
                    continue
                self._done[:0] = done
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def close(self) -> None:
        """Record the answers still queued (at shutdown), within a few seconds."""
        self._answered(())  # starts the recorder if answers wait without one
        if self._recorder is not None and not self._recorder.done():
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._recorder), 5)

    async def throttled(
        self, tenant_id: str, conversation_id: str, retry_after: float | None
    ) -> float:
        """Record a 429 answered to a call made outside the outbox (a turn's); return the delay."""
        async with self._sessions.begin() as session:
            return await record_throttle(session, tenant_id, conversation_id, retry_after)

    async def prune(self) -> int:
        """Drop send-log entries older than every window."""
        async with self._sessions.begin() as session:
            return await store.prune_sends(session, older_than=self.history + 60)


async def create_chat(
    limiter: RateLimiter,
    gateway: TeamsGateway,
    *,
    tenant_id: str,
    service_url: str,
    oid: str,
    patience: float,
) -> tuple[float, Delivery | None, dict[str, Any] | None]:
    """Open the bot's 1:1 chat with a user inside the tenant's limits.

    Return (0, Teams' answer, the new reference), or (the wait left, None, None) when no slot
    came within `patience`.
    """
    async with limiter.slot(tenant_id, f"create:{oid}", patience=patience) as grant:
        if grant.wait > 0:
            return grant.wait, None, None
        delivery, reference = await gateway.create_personal_conversation(
            service_url=service_url, tenant_id=tenant_id, user_aad_id=oid
        )
        if delivery.in_flight:
            grant.in_doubt()
        return 0.0, delivery, reference


def _with_rows(
    verdicts: Sequence[Verdict], granted: Sequence[str | None], ids: Sequence[int]
) -> list[Verdict]:
    """Give each granted verdict its send-log entries: its tenant's, then its conversation's."""
    conversation_ids = iter(ids[len(granted) :])
    out: list[Verdict] = []
    index = 0  # plan grants in order: the n-th verdict of 0 is the n-th grant
    for verdict in verdicts:
        if verdict.wait > 0:
            out.append(verdict)
            continue
        rows = [ids[index]]
        if granted[index] is not None:
            rows.append(next(conversation_ids))
        out.append(Verdict(0.0, verdict.blocker, tuple(rows)))
        index += 1
    return out
