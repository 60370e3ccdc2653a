"""The home of `parked_events`: events of a conversation whose ticket is not stored yet.

Parking and the ticket insert take the same transaction-scoped advisory lock on the
conversation id, so an event either sees the committed ticket or is parked before the ticket's
transaction can start; whoever commits the ticket then replays what was parked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ParkedEvent, Ticket

# "TCKT": the advisory-lock class of conversation ids (two-key form, apart from other locks).
_LOCK_CLASS = 0x5443_4B54
# A ticket commits seconds after Chatwoot's create; anything older belongs to no ticket of ours
# (another inbox of the account, or a create that was given up) and is purged.
KEEP_FOR = timedelta(minutes=15)


async def lock_conversation(session: AsyncSession, conversation_id: int) -> None:
    """Serialize, until the transaction ends, everyone deciding whether a conversation is ours."""
    await session.execute(
        select(func.pg_advisory_xact_lock(_LOCK_CLASS, conversation_id % 2_147_483_647))
    )


async def park(session: AsyncSession, conversation_id: int, event: dict[str, Any]) -> None:
    """Keep an event for a conversation with no ticket yet; drop ones that waited too long."""
    session.add(ParkedEvent(conversation_id=conversation_id, event=event))
    await session.execute(delete(ParkedEvent).where(ParkedEvent.parked_at < func.now() - KEEP_FOR))


async def parked_for(
    session: AsyncSession, conversation_id: int
) -> Sequence[tuple[int, dict[str, Any]]]:
    """Return the parked events of a conversation, oldest first, with their row ids."""
    result = await session.execute(
        select(ParkedEvent.id, ParkedEvent.event)
        .where(ParkedEvent.conversation_id == conversation_id)
        .order_by(ParkedEvent.id)
    )
    return [(row_id, event) for row_id, event in result.all()]


async def forget(session: AsyncSession, ids: Sequence[int]) -> None:
    """Delete parked events that were applied."""
    if ids:
        await session.execute(delete(ParkedEvent).where(ParkedEvent.id.in_(ids)))


async def claimable(session: AsyncSession) -> Sequence[int]:
    """Return conversations with parked events whose ticket now exists (a replay was missed)."""
    result = await session.execute(
        select(ParkedEvent.conversation_id)
        .join(Ticket, Ticket.chatwoot_conversation_id == ParkedEvent.conversation_id)
        .distinct()
    )
    return list(result.scalars().all())
