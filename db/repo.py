"""Repository functions for tickets, timelines, contact links, outbox and receipts.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    ChatwootContactLink,
    Message,
    OutboxItem,
    Ticket,
    TicketEvent,
    TicketStatus,
    WebhookReceipt,
)
from db.rows import insert_new

# A timeline event with the newest Chatwoot message id stored before it (see _event_anchor).
AnchoredEvent = tuple[TicketEvent, int]


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
    await insert_new(
        session,
        ChatwootContactLink,
        user_id=user_id,
        inbox_identifier=inbox,
        source_id=source_id,
        pubsub_token=pubsub_token,
        contact_id=contact_id,
    )
    link = await get_contact_link(session, user_id, inbox)
    assert link is not None
    return link


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
) -> tuple[Sequence[Message], Sequence[AnchoredEvent]]:
    """Return messages and events of a ticket past the cursor `after_id` (new or revised)."""
    cursor = func.greatest(Message.id, func.coalesce(Message.revision, 0))
    messages = await session.execute(
        select(Message)
        .where(Message.ticket_id == ticket_id, cursor > after_id)
        .order_by(cursor)
        .limit(limit)
    )
    events = await session.execute(
        select(TicketEvent, _event_anchor())
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.id > after_id)
        .order_by(TicketEvent.id)
        .limit(limit)
    )
    return messages.scalars().all(), [(event, anchor) for event, anchor in events.all()]


async def recent_timeline(
    session: AsyncSession, ticket_id: int, *, limit: int
) -> tuple[Sequence[Message], Sequence[AnchoredEvent]]:
    """Return the newest `limit` messages and events of a ticket, each oldest first."""
    messages = await session.execute(
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    events = await session.execute(
        select(TicketEvent, _event_anchor())
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id.desc())
        .limit(limit)
    )
    anchored = [(event, anchor) for event, anchor in events.all()]
    return list(reversed(messages.scalars().all())), list(reversed(anchored))


def _event_anchor() -> Any:
    """Return, per event, the newest Chatwoot message id its ticket had stored before it (or 0).

    Events carry no Chatwoot id; within one second this places an event after the messages
    that were there when it happened, instead of ahead of every message of that second.
    """
    return (
        select(func.coalesce(func.max(Message.chatwoot_message_id), 0))
        .where(Message.ticket_id == TicketEvent.ticket_id, Message.id < TicketEvent.id)
        .correlate(TicketEvent)
        .scalar_subquery()
    )


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


async def newest_chatwoot_message_id(session: AsyncSession, ticket_id: int) -> int | None:
    """Return the newest Chatwoot message id stored for a ticket (None when none is)."""
    return await session.scalar(
        select(func.max(Message.chatwoot_message_id)).where(Message.ticket_id == ticket_id)
    )


async def echoed_message_ids(session: AsyncSession, chatwoot_message_ids: list[int]) -> set[int]:
    """Return which of these Chatwoot messages are stored under an echo id of ours."""
    if not chatwoot_message_ids:
        return set()
    result = await session.execute(
        select(Message.chatwoot_message_id).where(
            Message.chatwoot_message_id.in_(chatwoot_message_ids), Message.echo_id.is_not(None)
        )
    )
    return {int(value) for value in result.scalars() if value is not None}


async def fill_author(session: AsyncSession, chatwoot_message_id: int, author: str) -> bool:
    """Name the author of a stored message that has none yet; tell whether one was filled."""
    result = await session.execute(
        update(Message)
        .where(Message.chatwoot_message_id == chatwoot_message_id, Message.author == "")
        .values(author=author)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    new_id = await insert_new(
        session,
        TicketEvent,
        ticket_id=ticket_id,
        kind=kind,
        data=data,
        occurred_at=occurred_at,
        dedupe_key=dedupe_key,
    )
    return None if new_id is None else await session.get(TicketEvent, new_id)


async def touch_ticket(session: AsyncSession, ticket_id: int, **values: Any) -> None:
    """Update a ticket's columns and its activity time."""
    await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(updated_at=func.now(), last_activity_at=func.now(), **values)
    )


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
    new_id = await insert_new(
        session,
        OutboxItem,
        user_id=user_id,
        ticket_id=ticket_id,
        target=target,
        kind=kind,
        payload=payload,
        dedupe_key=dedupe_key,
    )
    return new_id is not None


async def record_receipt(
    session: AsyncSession, *, delivery_id: str | None, event: str, outcome: str
) -> None:
    """Record one webhook delivery and its outcome."""
    session.add(WebhookReceipt(delivery_id=delivery_id, event=event[:80], outcome=outcome[:80]))


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    """Queue a NOTIFY inside the caller's transaction: PostgreSQL sends it on commit."""
    await session.execute(select(func.pg_notify(channel, payload)))


async def get_ticket(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """Load a ticket by id (no authorization: for workers, not for requests)."""
    return await session.get(Ticket, ticket_id)


async def message_of(session: AsyncSession, ticket_id: int, message_id: int) -> Message | None:
    """Load one message of a ticket (no authorization: for workers, not for requests)."""
    message = await session.get(Message, message_id)
    return message if message is not None and message.ticket_id == ticket_id else None


# Digests of unfinished creates kept per contact link (the oldest are forgotten beyond it).
PENDING_KEPT = 20
# An unfinished create older than this is forgotten: its request failed for good or was given
# up, and remembering it would stop every later orphan from being adopted.
PENDING_FORGOTTEN_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class EarlierCreate:
    """Ticket creates flagged before this one and never finished: they may have left orphans."""

    digests: frozenset[str]


def _pending(raw: str | None) -> dict[str, float]:
    """Read `digest@epoch` entries, dropping those too old to matter (and malformed ones)."""
    oldest = (datetime.now(UTC) - PENDING_FORGOTTEN_AFTER).timestamp()
    entries: dict[str, float] = {}
    for item in (raw or "").split():
        digest, _, when = item.partition("@")
        try:
            at = float(when)
        except ValueError:
            continue
        if at >= oldest:
            entries[digest] = at
    return entries


def _written(entries: dict[str, float]) -> str | None:
    kept = sorted(entries.items(), key=lambda item: item[1])[-PENDING_KEPT:]
    return " ".join(f"{digest}@{at:.0f}" for digest, at in kept) or None


async def mark_create_pending(
    session: AsyncSession, link_id: int, digest: str
) -> EarlierCreate | None:
    """Flag a ticket create in flight on a contact link; return the unfinished earlier ones."""
    link = await session.get(ChatwootContactLink, link_id, with_for_update=True)
    assert link is not None
    entries = _pending(link.pending_digest)
    earlier = EarlierCreate(frozenset(entries)) if link.pending_since is not None else None
    link.pending_since = datetime.now(UTC)
    entries[digest] = link.pending_since.timestamp()
    link.pending_digest = _written(entries)
    return earlier


async def clear_create_pending(session: AsyncSession, link_id: int, digest: str) -> None:
    """Forget a create once its ticket is stored; the link is clear when none is left."""
    link = await session.get(ChatwootContactLink, link_id, with_for_update=True)
    assert link is not None
    entries = _pending(link.pending_digest)
    entries.pop(digest, None)
    link.pending_digest = _written(entries)
    if not entries:
        link.pending_since = None


async def pubsub_tokens(session: AsyncSession) -> set[str]:
    """Return every contact's cable token (one RoomChannel subscription each)."""
    result = await session.execute(
        select(ChatwootContactLink.pubsub_token).where(
            ChatwootContactLink.pubsub_token.is_not(None)
        )
    )
    return {token for token in result.scalars().all() if token}


async def catch_up_targets(
    session: AsyncSession, *, changed_since: datetime
) -> Sequence[tuple[int, int, int | None, str]]:
    """List (ticket id, conversation id, watermark, contact source id) of tickets to read back.

    Every ticket not resolved, and resolved ones changed since `changed_since` (a reopen).
    """
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.chatwoot_conversation_id,
            Ticket.synced_message_id,
            ChatwootContactLink.source_id,
        )
        .join(ChatwootContactLink, Ticket.contact_link_id == ChatwootContactLink.id)
        .where(or_(Ticket.status != TicketStatus.RESOLVED, Ticket.updated_at > changed_since))
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def set_watermark(session: AsyncSession, ticket_id: int, message_id: int) -> None:
    """Record that every message of the ticket up to `message_id` is held."""
    await session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(synced_message_id=message_id)
    )


async def add_ticket(session: AsyncSession, **values: Any) -> Ticket:
    """Insert a ticket and return it with its id."""
    ticket = Ticket(**values)
    session.add(ticket)
    await session.flush()
    return ticket
