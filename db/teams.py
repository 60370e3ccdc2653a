"""Repository functions for the Teams front door: conversation references, ticket cards.

Like `db.repo`, every function takes the session and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ReferenceState, TeamsConversationRef, Ticket


async def save_reference(
    session: AsyncSession,
    *,
    user_id: int,
    tenant_id: str,
    conversation_id: str,
    service_url: str,
    reference: Mapping[str, Any],
) -> None:
    """Store or refresh where the bot reaches a user; a user writing again re-activates it."""
    values = {
        "user_id": user_id,
        "tenant_id": tenant_id,
        "service_url": service_url,
        "reference": dict(reference),
        "state": ReferenceState.ACTIVE,
    }
    await session.execute(
        insert(TeamsConversationRef)
        .values(conversation_id=conversation_id, **values)
        .on_conflict_do_update(
            index_elements=[TeamsConversationRef.conversation_id],
            set_={**values, "updated_at": func.now()},
        )
    )


async def mark_reference(
    session: AsyncSession, conversation_id: str, state: ReferenceState
) -> bool:
    """Set a conversation's state (uninstalled, blocked, gone); False when it is unknown."""
    result = await session.execute(
        update(TeamsConversationRef)
        .where(TeamsConversationRef.conversation_id == conversation_id)
        .values(state=state, updated_at=func.now())
        .returning(TeamsConversationRef.id)
    )
    return result.scalar_one_or_none() is not None


async def active_references(session: AsyncSession, user_id: int) -> Sequence[TeamsConversationRef]:
    """List the Teams conversations the bot may still write to for a user."""
    result = await session.execute(
        select(TeamsConversationRef).where(
            TeamsConversationRef.user_id == user_id,
            TeamsConversationRef.state == ReferenceState.ACTIVE,
        )
    )
    return result.scalars().all()


async def reference_by_conversation(
    session: AsyncSession, conversation_id: str
) -> TeamsConversationRef | None:
    """Return the stored reference of a conversation."""
    result = await session.execute(
        select(TeamsConversationRef).where(TeamsConversationRef.conversation_id == conversation_id)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class CardMove:
    """What moving a ticket's card found: whether it is the user's, and the card it replaced."""

    moved: bool
    # The older card in the same chat (None if there was none, or it was in another chat).
    previous: str | None = None
    # The reply that older card showed alone; None when it was the full card.
    previous_reply: int | None = None


async def move_ticket_card(
    session: AsyncSession,
    ticket_id: int,
    *,
    requester_id: int,
    activity_id: str,
    conversation_id: str,
    reply_id: int | None,
) -> CardMove:
    """Point the ticket's card at a new message (a reply's own card when ``reply_id`` is set).

    The row is locked for the swap, so two moves never both miss the card between them.
    """
    result = await session.execute(
        select(
            Ticket.teams_card_activity_id,
            Ticket.teams_card_conversation_id,
            Ticket.teams_card_message_id,
        )
        .where(Ticket.id == ticket_id, Ticket.requester_id == requester_id)
        .with_for_update()
    )
    row = result.one_or_none()
    if row is None:
        return CardMove(moved=False)
    old_activity, old_conversation, old_reply = row
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(
            teams_card_activity_id=activity_id,
            teams_card_conversation_id=conversation_id,
            teams_card_message_id=reply_id,
        )
    )
    if old_activity and old_conversation == conversation_id and old_activity != activity_id:
        return CardMove(moved=True, previous=old_activity, previous_reply=old_reply)
    return CardMove(moved=True)
