"""The shared Teams rate limiter: batched reservations stay inside every window, across limiters."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.limits import RateLimiter, Verdict, Window, plan, record_throttle
from db.models import TeamsSend
from db.outbox import WindowState

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _state(key: str, limit: int, sends: int, oldest_ago: float | None = None) -> WindowState:
    oldest = NOW - timedelta(seconds=oldest_ago) if oldest_ago is not None else None
    kth = oldest if sends >= limit else None
    return WindowState(key, limit, 1.1, sends, oldest, kth, None)


def test_plan_grants_the_tenants_room_in_order_and_times_the_rest() -> None:
    states = [_state("tenant:t", 5, 3, oldest_ago=0.6)]
    states += [_state(f"conv:{n}", 7, 0) for n in range(4)]
    verdicts, granted = plan(NOW, states, "tenant:t", [f"conv:{n}" for n in range(4)])
    assert granted == ["conv:0", "conv:1"]
    assert [v.wait for v in verdicts[:2]] == [0.0, 0.0]
    # The window is full after two grants: a slot frees when its oldest send leaves (0.5 s).
    assert [v.blocker for v in verdicts[2:]] == ["tenant", "tenant"]
    assert all(abs(v.wait - 0.505) < 1e-6 for v in verdicts[2:])


def test_plan_holds_a_full_conversation_and_a_repeat_without_using_tenant_room() -> None:
    states = [_state("tenant:t", 50, 0), _state("conv:busy", 7, 7, oldest_ago=0.3)]
    states += [_state("conv:free", 7, 0)]
    verdicts, granted = plan(NOW, states, "tenant:t", ["conv:busy", "conv:free", "conv:free"])
    assert granted == ["conv:free"]
    assert verdicts[0].blocker == "conversation" and abs(verdicts[0].wait - 0.805) < 1e-6
    assert verdicts[1].wait == 0.0
    assert verdicts[2].blocker == "conversation" and verdicts[2].wait > 0


def test_plan_counts_a_request_without_a_conversation_against_the_tenant_only() -> None:
    states = [_state("tenant:t", 50, 48, oldest_ago=0.2), _state("conv:full", 7, 7, 0.5)]
    verdicts, granted = plan(NOW, states, "tenant:t", [None, "conv:full", None, None])
    # Two roster reads fill the tenant's window; a full chat holds only its own send.
    assert granted == [None, None]
    assert [v.wait for v in (verdicts[0], verdicts[2])] == [0.0, 0.0]
    assert verdicts[1].blocker == "conversation"
    assert verdicts[3].blocker == "tenant" and abs(verdicts[3].wait - 0.905) < 1e-6


def test_plan_honours_a_tenant_throttle() -> None:
    banned = WindowState("tenant:t", 50, 1.1, 0, None, None, NOW + timedelta(seconds=2))
    verdicts, granted = plan(NOW, [banned, _state("conv:a", 7, 0)], "tenant:t", ["conv:a"])
    assert granted == [] and verdicts[0].blocker == "throttle" and verdicts[0].wait > 2


async def _request(limiter: RateLimiter, conversation: str, patience: float = 30) -> float:
    """Take a slot and leave at once (a request answered in no time); return the wait left."""
    async with limiter.slot("t", conversation, patience=patience) as grant:
        return grant.wait


async def test_concurrent_reservations_of_two_limiters_never_overfill_a_window(
    sessionmaker: Sessions,
) -> None:
    """Two limiters (two processes' worth), 60 conversations of one tenant, 10 per 0.3 s."""
    windows = (Window(10, 0.3),)
    limiters = [
        RateLimiter(sessionmaker, tenant_windows=windows, tenant_margin=0.0) for _ in range(2)
    ]
    waits = await asyncio.gather(*(_request(limiters[n % 2], f"chat-{n}") for n in range(60)))
    assert waits == [0.0] * 60
    for limiter in limiters:
        await limiter.close()
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(TeamsSend.sent_at, TeamsSend.done_at).where(TeamsSend.key == "tenant:t")
            )
        ).all()
    assert len(rows) == 60 and all(done is not None and done >= sent for sent, done in rows)
    for reserved, _ in rows:
        # At each reservation, at most 10 requests (itself included) count in the window:
        # reserved by then and answered less than a window before.
        counting = [
            1
            for sent, done in rows
            if sent <= reserved and done > reserved - timedelta(seconds=0.3)
        ]
        assert len(counting) <= 10
    # Batched: far fewer transactions than requests.
    assert sum(limiter.batches for limiter in limiters) < 60


async def test_requests_that_travel_slowly_still_never_overfill_the_window_teams_counts(
    sessionmaker: Sessions,
) -> None:
    """Each request reaches "Teams" anywhere up to 0.15 s after its slot, its answer later still.

    Half a window of travel, far beyond any margin: two limiters, 80 requests, 10 per 0.3 s,
    and no 0.3 s stretch of arrivals may hold more than 10 (the breach Teams answers with 429).
    """
    rng = random.Random(20)
    windows = (Window(10, 0.3),)
    limiters = [
        RateLimiter(sessionmaker, tenant_windows=windows, tenant_margin=0.0) for _ in range(2)
    ]
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()

    async def travel(n: int) -> None:
        async with limiters[n % 2].slot("t", f"chat-{n}", patience=60) as grant:
            assert grant.wait == 0
            await asyncio.sleep(rng.uniform(0, 0.15))
            arrivals.append(loop.time())
            await asyncio.sleep(rng.uniform(0, 0.05))

    await asyncio.gather(*(travel(n) for n in range(80)))
    arrivals.sort()
    busiest = max(
        sum(1 for later in arrivals[i:] if later - first < 0.3) for i, first in enumerate(arrivals)
    )
    assert len(arrivals) == 80 and busiest <= 10


async def test_a_request_never_answered_counts_until_the_in_flight_cap(
    sessionmaker: Sessions,
) -> None:
    """A process that died mid-request leaves its slot open: it holds the window, then lets go."""
    windows = (Window(1, 0.2),)
    dead = RateLimiter(sessionmaker, tenant_windows=windows, in_flight_cap=1.5)
    slot = dead.slot("t", "chat-1", patience=1)
    grant = await slot.__aenter__()
    assert grant.wait == 0
    grant.in_doubt()  # as a process that died mid-request: no answer is ever recorded
    alive = RateLimiter(sessionmaker, tenant_windows=windows, in_flight_cap=1.5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _request(alive, "chat-2", patience=0.5) > 0  # still in flight: the window is full
    assert await _request(alive, "chat-2", patience=5) == 0
    # Free once the cap (1.5 s) and the window (0.2 s) have passed since the reservation.
    assert 1.0 < loop.time() - started < 3.0
    await slot.__aexit__(None, None, None)
    await alive.close()
    async with sessionmaker() as session:
        done = dict((await session.execute(select(TeamsSend.key, TeamsSend.done_at))).all())
    assert done["conv:chat-1"] is None  # the doubtful request was never marked answered


async def _answered(sessions: Sessions) -> list[bool]:
    async with sessions() as session:
        rows = await session.scalars(select(TeamsSend.done_at).order_by(TeamsSend.id))
        return [done is not None for done in rows]


async def test_a_request_cancelled_mid_call_keeps_counting_until_the_cap(
    sessionmaker: Sessions,
) -> None:
    """A wait_for gave up on a call a thread still makes: it may reach Teams later still."""
    limiter = RateLimiter(sessionmaker)

    async def call() -> None:
        async with limiter.slot("t", "chat-1", patience=5) as grant:
            assert grant.wait == 0
            await asyncio.sleep(10)  # the call, still running when the caller gives up

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(call(), 0.3)
    await _request(limiter, "chat-2")  # answered at once
    await limiter.close()
    # Tenant and conversation rows of each: the cancelled one stays unanswered.
    assert await _answered(sessionmaker) == [False, False, True, True]


async def test_a_slot_granted_to_a_caller_already_cancelled_is_given_back(
    sessionmaker: Sessions,
) -> None:
    """Granted in its batch, but its caller was cancelled before it ran again: no slot lost."""
    entered = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    class CancelledOnGrant(RateLimiter):
        """Cancels the caller the moment its answer is set, before the caller wakes up."""

        def _ask(self, tenant_id: str, conversation_id: str | None) -> asyncio.Future[Verdict]:
            answer = super()._ask(tenant_id, conversation_id)
            answer.add_done_callback(lambda _: tasks[0].cancel())
            return answer

    limiter = CancelledOnGrant(sessionmaker)

    async def caller() -> None:
        async with limiter.slot("t", "chat-1", patience=5):
            entered.set()

    tasks.append(asyncio.create_task(caller()))
    with contextlib.suppress(asyncio.CancelledError):
        await tasks[0]
    await limiter.close()
    assert not entered.is_set()
    # Both entries (tenant, conversation) were logged, and both are marked answered.
    assert await _answered(sessionmaker) == [True, True]


async def test_a_throttled_tenant_waits_and_patience_runs_out(sessionmaker: Sessions) -> None:
    async with sessionmaker.begin() as session:
        await record_throttle(session, "t", "chat-1", retry_after=3)
    limiter = RateLimiter(sessionmaker)
    left = await _request(limiter, "chat-2", patience=0.5)
    assert left > 2.0
    async with sessionmaker() as session:
        assert list(await session.scalars(select(TeamsSend))) == []
