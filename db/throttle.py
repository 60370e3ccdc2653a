"""The one throttle: requests counted per key in a sliding window.

Sign-ins, sign-ups, mailed links and profile changes all count here.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RateHit

KEY_MAX = 400


@dataclass(frozen=True)
class Limit:
    """At most `count` counted requests per key within `window`."""

    count: int
    window: timedelta


async def claim(
    session: AsyncSession, limits: Sequence[tuple[str, Limit]], now: datetime
) -> list[int] | None:
    """Count one request under every key, or none when a key is at its limit.

    Returns the new rows' ids (to forget a request that turned out fine), or None when
    throttled: a refused request is not counted, so waiting out the window always helps. Each
    key is locked for the rest of the transaction first, so parallel requests are counted one
    after another: a burst of N gets at most the limit through, never N reads of one count.
    """
    for key in sorted({key[:KEY_MAX] for key, _limit in limits}):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    for key, limit in limits:
        if await _count(session, key[:KEY_MAX], now - limit.window) >= limit.count:
            return None
    result = await session.execute(
        insert(RateHit)
        .values([{"key": key[:KEY_MAX]} for key, _limit in limits])
        .returning(RateHit.id)
    )
    return list(result.scalars())


async def _count(session: AsyncSession, key: str, since: datetime) -> int:
    total = await session.scalar(
        select(func.count()).select_from(RateHit).where(RateHit.key == key, RateHit.hit_at > since)
    )
    return int(total or 0)


async def forget(session: AsyncSession, ids: Sequence[int]) -> None:
    """Drop counted requests that turned out fine (a successful sign-in is not a guess)."""
    await session.execute(delete(RateHit).where(RateHit.id.in_(list(ids))))


async def racing(
    session: AsyncSession, key: str, *, settled: timedelta, besides: Sequence[int]
) -> bool:
    """Tell whether other requests younger than `settled` are counted under a key."""
    found = await session.scalar(
        select(RateHit.id)
        .where(
            RateHit.key == key[:KEY_MAX],
            RateHit.hit_at >= func.now() - settled,
            RateHit.id.not_in(list(besides)),
        )
        .limit(1)
    )
    return found is not None


async def forget_settled(session: AsyncSession, key: str, *, settled: timedelta) -> None:
    """Forget a key's requests older than `settled` (a typo minutes before a success).

    Newer ones may belong to guesses still being checked in parallel with the success:
    forgetting them would free their places for more guesses than the limit allows.
    """
    await session.execute(
        delete(RateHit).where(RateHit.key == key[:KEY_MAX], RateHit.hit_at < func.now() - settled)
    )


async def purge(session: AsyncSession, before: datetime) -> None:
    """Delete counted requests older than every window."""
    await session.execute(delete(RateHit).where(RateHit.hit_at < before))
