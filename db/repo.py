"""Repository functions for tickets, timelines, contact links, outbox and receipts.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChatwootContactLink,
    Message,
    OutboxItem,
    ReferenceState,
    TeamsConversationRef,
    Ticket,
    TicketEvent,
    TicketStatus,
    User,
    WebhookReceipt,
)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Load a user by id."""
    return await session.get(User, user_id)


async def find_user_by_entra(session: AsyncSession, oid: str, tid: str) -> User | None:
    """Find the user with this Entra object id in this tenant."""
    result = await session.execute(select(User).where(User.entra_oid == oid, User.entra_tid == tid))
    return result.scalar_one_or_none()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """Find a user by e-mail, case-insensitively."""
    result = await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    return result.scalar_one_or_none()


async def get_contact_link(
    session: AsyncSession, user_id: int, inbox: str, *, lock: bool = False
) -> ChatwootContactLink | None:
    """Return the user's contact link in this inbox (optionally locked for update)."""
    query = select(ChatwootContactLink).where(
        ChatwootContactLink.user_id == user_id, ChatwootContactLink.inbox_identifier == inbox
    )
    if lock:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def add_contact_link(
    session: AsyncSession,
    *,
    user_id: int,
    inbox: str,
    source_id: str,
    pubsub_token: str | None,
    contact_id: int | None,
) -> ChatwootContactLink:
    """Insert the link unless a concurrent request did; return the stored row."""
    await session.execute(
        insert(ChatwootContactLink)
        .values(
            user_id=user_id,
            inbox_identifier=inbox,
            source_id=source_id,
            pubsub_token=pubsub_token,
            contact_id=contact_id,
        )
        .on_conflict_do_nothing()
    )
    link = await get_contact_link(session, user_id, inbox)
    assert link is not None
    return link


async def all_contact_links(session: AsyncSession, inbox: str) -> Sequence[ChatwootContactLink]:
    """List every contact link of the inbox (cable subscriptions, catch-up)."""
    result = await session.execute(
        select(ChatwootContactLink).where(ChatwootContactLink.inbox_identifier == inbox)
    )
    return result.scalars().all()


async def ticket_by_key(session: AsyncSession, key: str) -> Ticket | None:
    """Find a ticket by the idempotency key of the request that created it."""
    result = await session.execute(select(Ticket).where(Ticket.idempotency_key == key))
    return result.scalar_one_or_none()


async def ticket_by_conversation(
    session: AsyncSession, conversation_id: int, *, lock: bool = False
) -> Ticket | None:
    """Find the ticket of a Chatwoot conversation (display id)."""
    query = select(Ticket).where(Ticket.chatwoot_conversation_id == conversation_id)
    if lock:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def conversation_ids_of(session: AsyncSession, link_id: int) -> set[int]:
    """Return the Chatwoot conversation ids we hold for a contact link."""
    result = await session.execute(
        select(Ticket.chatwoot_conversation_id).where(Ticket.contact_link_id == link_id)
    )
    return set(result.scalars().all())


async def lock_ticket(session: AsyncSession, ticket_id: int) -> None:
    """Lock a ticket row until the transaction ends (serializes its timeline writers)."""
    await session.execute(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update())


async def ticket_for_user(session: AsyncSession, user_id: int, ticket_id: int) -> Ticket | None:
    """Load a ticket only if it belongs to this user (authorization lives here)."""
    result = await session.execute(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.requester_id == user_id)
    )
    return result.scalar_one_or_none()


STATUS_FILTERS: dict[str, tuple[TicketStatus, ...]] = {
    "open": (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SNOOZED),
    "resolved": (TicketStatus.RESOLVED,),
    "all": tuple(TicketStatus),
}


async def tickets_of(
    session: AsyncSession, user_id: int, *, status: str, limit: int, offset: int
) -> tuple[Sequence[Ticket], int]:
    """Page through a user's tickets, most recent activity first; also return the total."""
    statuses = STATUS_FILTERS[status]
    where = (Ticket.requester_id == user_id, Ticket.status.in_(statuses))
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*where))
    result = await session.execute(
        select(Ticket)
        .where(*where)
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return result.scalars().all(), int(total or 0)


async def timeline(
    session: AsyncSession, ticket_id: int, *, after_id: int, limit: int
) -> tuple[Sequence[Message], Sequence[TicketEvent]]:
    """Return messages and events of a ticket with ids above `after_id`."""
    messages = await session.execute(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.id > after_id)
        .order_by(Message.id)
        .limit(limit)
    )
    events = await session.execute(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.id > after_id)
        .order_by(TicketEvent.id)
        .limit(limit)
    )
    return messages.scalars().all(), events.scalars().all()


async def recent_timeline(
    session: AsyncSession, ticket_id: int, *, limit: int
) -> tuple[Sequence[Message], Sequence[TicketEvent]]:
    """Return the newest `limit` messages and events of a ticket, each oldest first."""
    messages = await session.execute(
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    events = await session.execute(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    return list(reversed(messages.scalars().all())), list(reversed(events.scalars().all()))


async def add_message(session: AsyncSession, **values: Any) -> Message | None:
    """Insert a message unless its Chatwoot id or echo id is already stored; None if so."""
    # RETURNING the entity loads the new row in the same round trip.
    result = await session.execute(
        insert(Message).values(**values).on_conflict_do_nothing().returning(Message),
        execution_options={"populate_existing": True},
    )
    return result.scalar_one_or_none()


async def message_known(
    session: AsyncSession, chatwoot_message_id: int, echo_id: str | None
) -> Message | None:
    """Find a stored message by Chatwoot id or by our echo id."""
    conditions = [Message.chatwoot_message_id == chatwoot_message_id]
    if echo_id:
        conditions.append(Message.echo_id == echo_id)
    result = await session.execute(select(Message).where(or_(*conditions)).limit(1))
    return result.scalar_one_or_none()


async def add_event(
    session: AsyncSession,
    *,
    ticket_id: int,
    kind: str,
    data: dict[str, Any],
    occurred_at: datetime,
    dedupe_key: str,
) -> TicketEvent | None:
    """Insert a timeline event unless its dedupe key is known; None if it was."""
    result = await session.execute(
        insert(TicketEvent)
        .values(
            ticket_id=ticket_id,
            kind=kind,
            data=data,
            occurred_at=occurred_at,
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing()
        .returning(TicketEvent.id)
    )
    new_id = result.scalar_one_or_none()
    return None if new_id is None else await session.get(TicketEvent, new_id)


async def touch_ticket(session: AsyncSession, ticket_id: int, **values: Any) -> None:
    """Update a ticket's columns and its activity time."""
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(updated_at=func.now(), last_activity_at=func.now(), **values)
    )


async def active_references(session: AsyncSession, user_id: int) -> Sequence[TeamsConversationRef]:
    """List the Teams conversations the bot may still write to for a user."""
    result = await session.execute(
        select(TeamsConversationRef).where(
            TeamsConversationRef.user_id == user_id,
            TeamsConversationRef.state == ReferenceState.ACTIVE,
        )
    )
    return result.scalars().all()


async def enqueue(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_id: int | None,
    target: str,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Queue one Teams delivery; False when that delivery was already queued."""
    result = await session.execute(
        insert(OutboxItem)
        .values(
            user_id=user_id,
            ticket_id=ticket_id,
            target=target,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
        )
        .on_conflict_do_nothing()
        .returning(OutboxItem.id)
    )
    return result.scalar_one_or_none() is not None


async def record_receipt(
    session: AsyncSession, *, delivery_id: str | None, event: str, outcome: str
) -> None:
    """Record one webhook delivery and its outcome."""
    session.add(WebhookReceipt(delivery_id=delivery_id, event=event[:80], outcome=outcome[:80]))
