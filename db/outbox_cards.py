"""Outbox rows read for the Teams cards: which message showed a reply, which cards collapsed.

Like `db.outbox`, every function takes the session and never commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import OutboxItem, OutboxState


async def sent_activity(session: AsyncSession, dedupe_key: str) -> str | None:
    """Return the Teams message id a sent row became (None if it was never sent)."""
    activity: str | None = await session.scalar(
        select(OutboxItem.activity_id).where(
            OutboxItem.dedupe_key == dedupe_key, OutboxItem.state == OutboxState.SENT
        )
    )
    return activity


async def reply_cards(session: AsyncSession, ticket_id: int, target: str) -> list[str]:
    """Return the Teams messages that show one of the ticket's replies in a chat, not collapsed."""
    result = await session.execute(
        select(OutboxItem.activity_id)
        .where(
            OutboxItem.ticket_id == ticket_id,
            OutboxItem.target == target,
            OutboxItem.kind == "agent_message",
            OutboxItem.state == OutboxState.SENT,
            OutboxItem.activity_id.is_not(None),
            ~_collapsing(ticket_id, target, OutboxItem.activity_id),
        )
        .order_by(OutboxItem.id)
    )
    return [str(activity) for activity in result.scalars()]


async def collapsed(session: AsyncSession, ticket_id: int, target: str, activity_id: str) -> bool:
    """Tell whether a card of the ticket is collapsed (or about to be) to its summary."""
    return bool(await session.scalar(select(_collapsing(ticket_id, target, literal(activity_id)))))


def _collapsing(ticket_id: int, target: str, activity: Any) -> Any:
    summary = aliased(OutboxItem)
    return exists().where(
        summary.ticket_id == ticket_id,
        summary.target == target,
        summary.kind == "card_summary",
        summary.state.in_((OutboxState.PENDING, OutboxState.SENT)),
        summary.payload["activity_id"].astext == activity,
    )
