"""Repository functions of the Teams outbox: claim due rows, release them with an outcome.

A claim is a lease (``claimed_until``/``claimed_by``): the claiming transaction commits at once
so no connection is held while Teams answers, and a crashed process's rows become claimable
again when the lease runs out. Only the oldest pending row of a conversation is ever claimable,
so one conversation never has two deliveries in flight and its messages keep their order.
Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    and_,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    OutboxItem,
    OutboxState,
    OutboxWorker,
    ReferenceState,
    TeamsConversationRef,
    TeamsSend,
    Throttle,
    User,
)

# Workers LISTEN here; ingest and workers NOTIFY when rows become due.
CHANNEL = "outbox"
# How many leases long a live worker may hold a row before another worker takes it anyway.
LIVE_LEASES = 10


def tenant_key(tenant_id: str) -> str:
    """Name the throttle/send-log key of a tenant."""
    return f"tenant:{tenant_id}"


def conversation_key(conversation_id: str) -> str:
    """Name the throttle/send-log key of a conversation."""
    return f"conv:{conversation_id}"


@dataclass(frozen=True)
class Claim:
    """One leased outbox row with the conversation reference to deliver it through."""

    id: int
    user_id: int
    ticket_id: int | None
    target: str
    kind: str
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    worker: str
    locale: str | None
    tenant_id: str
    service_url: str
    reference: Mapping[str, Any]


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    limit: int,
    lease: float,
    grace: float = 10.0,
    void_dead: bool = True,
) -> list[Claim]:
    """Lease up to `limit` due rows, each the oldest pending row of its conversation.

    Rows of throttled tenants or conversations, of inactive references, or under someone
    else's live lease are left alone; locked rows are skipped, not waited for. A lease whose
    worker has not beaten its heart (`heartbeat`) for `grace` seconds (the process died) is
    void once `grace` seconds old, so a crash delays that worker's rows by seconds, not by the
    whole lease; a live worker's lease lasts until it records the outcome (at most
    `LIVE_LEASES` leases). `void_dead` False (the caller's own heartbeat is not steady yet, as
    right after a database blip) leaves other workers' leases alone altogether.
    """
    now = func.now()
    picked = _due(limit=limit, lease=lease, grace=grace, void_dead=void_dead)
    item = OutboxItem
    claimed = (
        update(item)
        .where(item.id == picked.c.id)
        .values(claimed_until=now + timedelta(seconds=lease), claimed_by=worker)
        .returning(
            item.id,
            item.user_id,
            item.ticket_id,
            item.target,
            item.kind,
            item.payload,
            item.attempts,
            item.created_at,
        )
        .cte("claimed")
    )
    ref = TeamsConversationRef
    # One round trip: the lease and, for each leased row, its conversation reference and locale.
    result = await session.execute(
        select(claimed, ref.tenant_id, ref.service_url, ref.reference, User.locale)
        .join(ref, ref.conversation_id == claimed.c.target)
        .join(User, User.id == ref.user_id)
        .order_by(claimed.c.id)
    )
    return [
        Claim(
            id=row.id,
            user_id=row.user_id,
            ticket_id=row.ticket_id,
            target=row.target,
            kind=row.kind,
            payload=row.payload,
            attempts=row.attempts,
            created_at=row.created_at,
            worker=worker,
            locale=row.locale,
            tenant_id=row.tenant_id,
            service_url=row.service_url,
            reference=row.reference,
        )
        for row in result.all()
    ]


def _due(*, limit: int, lease: float, grace: float, void_dead: bool) -> Any:
    """Select the oldest due row of each conversation that no live worker holds (a CTE)."""
    earlier = aliased(OutboxItem)
    ref = TeamsConversationRef
    now = func.now()
    return (
        select(OutboxItem.id)
        .join(
            ref, and_(ref.conversation_id == OutboxItem.target, ref.state == ReferenceState.ACTIVE)
        )
        .where(
            OutboxItem.state == OutboxState.PENDING,
            OutboxItem.next_attempt_at <= now,
            or_(
                OutboxItem.claimed_until.is_(None),
                # A live worker keeps its lease until it records the outcome: a database blip
                # can hold the record up past the lease, and taking the row then would send it
                # twice. Only a lease `LIVE_LEASES` times over is void for a live worker too.
                OutboxItem.claimed_until < now - timedelta(seconds=(LIVE_LEASES - 1) * lease),
                and_(
                    literal(void_dead),
                    OutboxItem.claimed_until < now + timedelta(seconds=lease - grace),
                    OutboxItem.claimed_by.not_in(_live_workers(grace)),
                ),
            ),
            ~exists().where(
                earlier.target == OutboxItem.target,
                earlier.state == OutboxState.PENDING,
                earlier.id < OutboxItem.id,
            ),
            ~exists().where(
                Throttle.key.in_(
                    [
                        literal("tenant:") + ref.tenant_id,
                        literal("conv:") + OutboxItem.target,
                    ]
                ),
                Throttle.throttled_until > now,
            ),
        )
        .order_by(OutboxItem.id)
        .limit(limit)
        .with_for_update(of=OutboxItem, skip_locked=True)
        .cte("picked")
    )


def _live_workers(grace: float) -> Any:
    seen = OutboxWorker.seen_at > func.now() - timedelta(seconds=grace)
    return select(OutboxWorker.worker).where(seen)


# A worker's heartbeat ($1: the worker), for the asyncpg connection it beats on.
HEARTBEAT_SQL: Final = (
    "INSERT INTO outbox_workers (worker, seen_at) VALUES ($1, now()) "
    "ON CONFLICT (worker) DO UPDATE SET seen_at = now()"
)


async def heartbeat(session: AsyncSession, worker: str) -> None:
    """Say the worker is alive now (its leases stay its own), in the session's transaction."""
    connection = await session.connection()
    await connection.exec_driver_sql(HEARTBEAT_SQL, (worker,))


async def prune_workers(session: AsyncSession, *, older_than: float) -> None:
    """Drop the heartbeats of workers long dead (killed: they never said goodbye)."""
    await session.execute(
        delete(OutboxWorker).where(
            OutboxWorker.seen_at < func.now() - timedelta(seconds=older_than)
        )
    )


async def forget_workers(session: AsyncSession, worker: str, *, older_than: float) -> None:
    """Drop this worker's heartbeat (it stopped) and the ones long dead."""
    await session.execute(
        delete(OutboxWorker).where(
            or_(
                OutboxWorker.worker == worker,
                OutboxWorker.seen_at < func.now() - timedelta(seconds=older_than),
            )
        )
    )


def _owned(claim: Claim) -> Any:
    return and_(OutboxItem.id == claim.id, OutboxItem.claimed_by == claim.worker)


_RELEASED = {"claimed_until": None, "claimed_by": None}


async def mark_sent(session: AsyncSession, claim: Claim, activity_id: str | None) -> bool:
    """Record a delivery Teams accepted; False when the lease had been lost meanwhile."""
    result = await session.execute(
        update(OutboxItem)
        .where(_owned(claim))
        .values(
            state=OutboxState.SENT,
            activity_id=activity_id,
            sent_at=func.now(),
            attempts=OutboxItem.attempts + 1,
            last_error=None,
            **_RELEASED,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def reschedule(
    session: AsyncSession,
    claim: Claim,
    *,
    delay: float,
    count_attempt: bool,
    error: str | None = None,
) -> bool:
    """Put a claimed row back, due after `delay` seconds (an attempt is counted if asked)."""
    values: dict[str, Any] = {
        "next_attempt_at": func.now() + timedelta(seconds=max(delay, 0.0)),
        **_RELEASED,
    }
    if count_attempt:
        values["attempts"] = OutboxItem.attempts + 1
    if error is not None:
        values["last_error"] = error[:2000]
    result = await session.execute(update(OutboxItem).where(_owned(claim)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession, claim: Claim, state: OutboxState, reason: str, *, attempt: bool = True
) -> bool:
    """Park a claimed row for good (failed or cancelled) with the reason."""
    values: dict[str, Any] = {"state": state, "last_error": reason[:2000], **_RELEASED}
    if attempt:
        values["attempts"] = OutboxItem.attempts + 1
    result = await session.execute(update(OutboxItem).where(_owned(claim)).values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cancel_pending(session: AsyncSession, target: str, reason: str) -> int:
    """Cancel every pending row of a conversation; return how many."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.target == target, OutboxItem.state == OutboxState.PENDING)
        .values(state=OutboxState.CANCELLED, last_error=reason[:2000], **_RELEASED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def retarget_pending(session: AsyncSession, old: str, new: str) -> int:
    """Move a conversation's pending rows to the conversation that replaced it."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.target == old, OutboxItem.state == OutboxState.PENDING)
        .values(target=new)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def wake_workers(session: AsyncSession) -> None:
    """Wake every process's worker when the caller's transaction commits."""
    await session.execute(select(func.pg_notify(CHANNEL, "")))


async def card_update_superseded(session: AsyncSession, claim: Claim, ticket_id: int) -> bool:
    """Tell whether a later card update of the same ticket and chat is already queued."""
    newer = await session.scalar(
        select(
            exists().where(
                OutboxItem.target == claim.target,
                OutboxItem.kind == claim.kind,
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.state == OutboxState.PENDING,
                OutboxItem.id > claim.id,
            )
        )
    )
    return bool(newer)


# ---- throttle and send log ----------------------------------------------------------------


async def throttle_strikes(session: AsyncSession, key: str, *, forget_after: float) -> int:
    """Count this key's recent 429s (0 when the last one ended over `forget_after` s ago)."""
    result = await session.execute(
        select(Throttle.strikes, Throttle.throttled_until, func.now()).where(Throttle.key == key)
    )
    row = result.one_or_none()
    if row is None:
        return 0
    strikes, until, now = row
    return 0 if until < now - timedelta(seconds=forget_after) else int(strikes)


async def set_throttle(
    session: AsyncSession, keys: Iterable[str], *, delay: float, strikes: int
) -> None:
    """Forbid sends on these keys for `delay` seconds (never shortening a longer ban)."""
    until = func.now() + timedelta(seconds=delay)
    statement = insert(Throttle).values(
        [{"key": key, "throttled_until": until, "strikes": strikes} for key in keys]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Throttle.key],
            set_={
                "throttled_until": func.greatest(
                    Throttle.throttled_until, statement.excluded.throttled_until
                ),
                "strikes": statement.excluded.strikes,
            },
        )
    )


async def throttled_until(session: AsyncSession, keys: Sequence[str]) -> datetime | None:
    """Return the latest 'do not send before' among these keys, if any."""
    return await session.scalar(
        select(func.max(Throttle.throttled_until)).where(Throttle.key.in_(keys))
    )


async def lock_key(session: AsyncSession, key: str) -> None:
    """Serialize send-log reservations on `key` across processes until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


@dataclass(frozen=True)
class WindowState:
    """One sliding window of one key as the send log holds it now.

    A request counts from its reservation until ``seconds`` after its answer; one not yet
    answered counts as ending now (and, if never answered, ending at its reservation plus the
    in-flight cap). ``oldest`` and ``kth`` are those ends.
    """

    key: str
    limit: int
    seconds: float
    sends: int  # requests counting in the window
    oldest: datetime | None  # the earliest end among them: the window's next slot frees after it
    kth: datetime | None  # the `limit`-th latest end (None when fewer): full until it leaves
    banned: datetime | None  # the key's "throttled until", if any


_WINDOW_STATE = text(
    """
    SELECT w.key, w.n, w.span, statement_timestamp() AS now,
           (SELECT max(t.throttled_until) FROM teams_throttle t WHERE t.key = w.key) AS banned,
           c.sends, c.oldest, c.kth
    FROM unnest(CAST(:keys AS text[]), CAST(:limits AS int[]), CAST(:spans AS float8[]))
         WITH ORDINALITY AS w(key, n, span, i)
    CROSS JOIN LATERAL (
        SELECT count(*) AS sends, min(e.end_at) AS oldest,
               (array_agg(e.end_at ORDER BY e.end_at DESC))[w.n] AS kth
        FROM (
            SELECT coalesce(
                       s.done_at,
                       least(s.sent_at + make_interval(secs => :cap), statement_timestamp())
                   ) AS end_at
            FROM teams_sends s
            WHERE s.key = w.key
              AND s.sent_at > statement_timestamp() - make_interval(secs => w.span + :cap)
        ) AS e
        WHERE e.end_at > statement_timestamp() - make_interval(secs => w.span)
    ) AS c
    ORDER BY w.i
    """
)


async def window_states(
    session: AsyncSession, windows: Sequence[tuple[str, int, float]], *, in_flight_cap: float
) -> tuple[datetime, list[WindowState]]:
    """Read, in one round trip, the clock and each ``(key, limit, seconds)`` window's state.

    ``in_flight_cap``: how long after its reservation a request never answered stops counting.
    """
    result = await session.execute(
        _WINDOW_STATE,
        {
            "keys": [key for key, _, _ in windows],
            "limits": [limit for _, limit, _ in windows],
            "spans": [seconds for _, _, seconds in windows],
            "cap": in_flight_cap,
        },
    )
    rows = result.all()
    if rows:
        now: datetime = rows[0].now
    else:
        now = (await session.execute(select(func.statement_timestamp()))).scalar_one()
    states = [
        WindowState(row.key, row.n, row.span, row.sends, row.oldest, row.kth, row.banned)
        for row in rows
    ]
    return now, states


async def log_sends(session: AsyncSession, keys: Sequence[str], at: datetime) -> list[int]:
    """Record one request to Teams under each key; return the entries' ids, in order."""
    result = await session.execute(
        insert(TeamsSend).returning(TeamsSend.id, sort_by_parameter_order=True),
        [{"key": key, "sent_at": at} for key in keys],
    )
    return list(result.scalars())


async def mark_done(session: AsyncSession, ids: Sequence[int]) -> None:
    """Record that these requests have been answered (or failed): their windows start closing."""
    await session.execute(
        update(TeamsSend)
        .where(TeamsSend.id.in_(ids), TeamsSend.done_at.is_(None))
        .values(done_at=func.statement_timestamp())
    )


async def prune_sends(session: AsyncSession, *, older_than: float) -> int:
    """Forget send-log entries no limit window can still see."""
    result = await session.execute(
        delete(TeamsSend).where(TeamsSend.sent_at < func.now() - timedelta(seconds=older_than))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
