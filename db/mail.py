"""Repository functions for the durable mail outbox.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import MailItem, MailState


@dataclass(frozen=True)
class ClaimedMail:
    """An e-mail a worker holds a lease on and may send now."""

    id: int
    to_address: str
    subject: str
    text_body: str
    html_body: str
    attempts: int


async def enqueue(
    session: AsyncSession,
    *,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str,
    expires_at: datetime,
) -> int:
    """Queue one e-mail; return its id."""
    item = MailItem(
        to_address=to_address,
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        expires_at=expires_at,
    )
    session.add(item)
    await session.flush()
    return item.id


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[ClaimedMail]:
    """Lease pending e-mails that are due (skipping rows another worker holds)."""
    due = (
        select(MailItem.id)
        .where(
            MailItem.state == MailState.PENDING.value,
            MailItem.next_attempt_at <= now,
            or_(MailItem.claimed_until.is_(None), MailItem.claimed_until < now),
        )
        .order_by(MailItem.next_attempt_at, MailItem.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(MailItem)
        .where(MailItem.id.in_(due.scalar_subquery()))
        .values(claimed_until=now + lease, attempts=MailItem.attempts + 1)
        .returning(
            MailItem.id,
            MailItem.to_address,
            MailItem.subject,
            MailItem.text_body,
            MailItem.html_body,
            MailItem.attempts,
        )
    )
    return [
        ClaimedMail(row[0], row[1], row[2], row[3] or "", row[4] or "", row[5])
        for row in result.all()
    ]


async def mark_sent(session: AsyncSession, mail_id: int, now: datetime) -> None:
    """Record the SMTP server's acceptance and drop the bodies (they hold live links)."""
    await session.execute(
        update(MailItem)
        .where(MailItem.id == mail_id)
        .values(
            state=MailState.SENT.value,
            sent_at=now,
            claimed_until=None,
            last_error=None,
            text_body=None,
            html_body=None,
        )
    )


async def mark_retry(
    session: AsyncSession, mail_id: int, *, error: str, next_attempt_at: datetime
) -> None:
    """Release the lease and schedule the next attempt."""
    await session.execute(
        update(MailItem)
        .where(MailItem.id == mail_id)
        .values(claimed_until=None, last_error=error[:400], next_attempt_at=next_attempt_at)
    )


async def mark_failed(session: AsyncSession, mail_id: int, *, error: str) -> None:
    """Give up on an e-mail the server refused for good."""
    await session.execute(
        update(MailItem)
        .where(MailItem.id == mail_id)
        .values(
            state=MailState.FAILED.value,
            claimed_until=None,
            last_error=error[:400],
            text_body=None,
            html_body=None,
        )
    )


async def expire_stale(session: AsyncSession, now: datetime) -> int:
    """Stop retrying e-mails whose links have expired anyway; return how many."""
    result = await session.execute(
        update(MailItem)
        .where(
            MailItem.state == MailState.PENDING.value,
            MailItem.expires_at <= now,
            or_(MailItem.claimed_until.is_(None), MailItem.claimed_until < now),
        )
        .values(state=MailState.EXPIRED.value, text_body=None, html_body=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def next_due(session: AsyncSession) -> datetime | None:
    """Return when the earliest pending e-mail is due, if any."""
    due: datetime | None = await session.scalar(
        select(MailItem.next_attempt_at)
        .where(and_(MailItem.state == MailState.PENDING.value))
        .order_by(MailItem.next_attempt_at)
        .limit(1)
    )
    return due
