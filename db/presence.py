"""Presence reads and writes: how far a requester has read, unread counts, agent typing.

Like every repository module, the functions take the session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Direction, Message, Ticket


@dataclass(frozen=True, slots=True)
class LastMessage:
    """The newest message of a ticket, as a list row previews it."""

    author: str
    content: str
    created_at: datetime
    direction: str
    files: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What a ticket list row shows beyond the ticket's own columns."""

    unread: int = 0
    last_message: LastMessage | None = None


def _unread_messages() -> tuple[ColumnElement[bool], ...]:
    """Return the conditions "an agent message above the requester's seen marker"."""
    return (
        Message.direction == Direction.AGENT,
        Message.deleted.is_(False),
        Message.id > func.coalesce(Ticket.requester_seen_id, 0),
    )


async def summaries(session: AsyncSession, ticket_ids: Collection[int]) -> dict[int, Summary]:
    """Return each ticket's unread count and newest message, in two reads for any number."""
    if not ticket_ids:
        return {}
    ids = list(ticket_ids)
    counts = await session.execute(
        select(Message.ticket_id, func.count())
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.ticket_id.in_(ids), *_unread_messages())
        .group_by(Message.ticket_id)
    )
    unread = {ticket_id: int(count) for ticket_id, count in counts.all()}
    newest = await session.execute(
        select(
            Message.ticket_id,
            Message.author,
            Message.content,
            Message.created_at,
            Message.direction,
            func.jsonb_array_length(Message.attachments),
        ).where(
            Message.id.in_(
                select(func.max(Message.id))
                .where(Message.ticket_id.in_(ids), Message.deleted.is_(False))
                .group_by(Message.ticket_id)
            )
        )
    )
    last = {
        row[0]: LastMessage(row[1], row[2], row[3], str(row[4]), int(row[5] or 0))
        for row in newest.all()
    }
    return {i: Summary(unread.get(i, 0), last.get(i)) for i in ids}


async def unread_total(session: AsyncSession, user_id: int) -> int:
    """Count the agent messages a user has not seen yet, over all their tickets."""
    total = await session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Ticket.requester_id == user_id, *_unread_messages())
    )
    return int(total or 0)


async def _seen_range(
    session: AsyncSession, ticket_id: int, up_to: int | None, *, lock: bool
) -> tuple[int, int] | None:
    """Return (marker, target): the seen marker now and where `up_to` would move it."""
    query = select(func.coalesce(Ticket.requester_seen_id, 0)).where(Ticket.id == ticket_id)
    marker = await session.scalar(query.with_for_update() if lock else query)
    if marker is None:
        return None
    newest = await session.scalar(
        select(func.max(Message.id)).where(Message.ticket_id == ticket_id)
    )
    target = int(newest or 0) if up_to is None else min(up_to, int(newest or 0))
    return int(marker), target


async def _agent_messages_between(
    session: AsyncSession, ticket_id: int, above: int, up_to: int
) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.ticket_id == ticket_id,
            Message.direction == Direction.AGENT,
            Message.id > above,
            Message.id <= up_to,
        )
    )
    return int(count or 0)


async def unseen_agent_messages(session: AsyncSession, ticket_id: int, up_to: int | None) -> int:
    """Count the agent messages that marking the ticket seen up to `up_to` would make read."""
    span = await _seen_range(session, ticket_id, up_to, lock=False)
    if span is None or span[1] <= span[0]:
        return 0
    return await _agent_messages_between(session, ticket_id, *span)


async def mark_seen(session: AsyncSession, ticket_id: int, up_to: int | None) -> int:
    """Move the requester's seen marker up to `up_to` (None: the newest item); never back.

    Returns how many agent messages became read (0 when the marker did not move over one).
    """
    span = await _seen_range(session, ticket_id, up_to, lock=True)
    if span is None or span[1] <= span[0]:
        return 0
    marker, target = span
    crossed = await _agent_messages_between(session, ticket_id, marker, target)
    await session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(requester_seen_id=target)
    )
    return crossed


async def set_typing(
    session: AsyncSession, ticket_id: int, agent: str | None, at: datetime
) -> bool:
    """Store who is typing (None: nobody); True when what a reader shows changed.

    A repeated "on" from the same agent only refreshes the time, so the indicator stays up
    while they type without a new frame to every page.
    """
    current = await session.scalar(
        select(Ticket.agent_typing).where(Ticket.id == ticket_id).with_for_update()
    )
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(agent_typing=agent, agent_typing_at=at if agent is not None else None)
    )
    return current != agent
