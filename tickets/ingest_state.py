"""Apply a conversation's state changes (status, assignee, attributes) to its locked ticket.

Also what every ingest step reports (`IngestOutcome`) and the queueing of Teams deliveries
that both the message and the state paths use.
"""

from __future__ import annotations

import enum

from sqlalchemy.ext.asyncio import AsyncSession

from chatwoot.events import AssigneeChanged, ConversationUpdated, EventSource, StatusChanged
from db import repo
from db.models import Ticket, TicketStatus
from tickets.deliveries import CardUpdate, Delivery, StatusLine, queue
from tickets.hub import TicketChanged, notify_changed

# Attribute changes worth a timeline line (others, such as timestamps, are noise).
NOTABLE_UPDATES = frozenset({"priority", "labels", "label_list", "team_id", "custom_attributes"})

StateChange = StatusChanged | AssigneeChanged | ConversationUpdated


class IngestOutcome(enum.StrEnum):
    """What ingest did with one event."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    PRIVATE = "dropped_private"
    ACTIVITY = "dropped_activity"
    ECHO = "dropped_echo"
    PARKED = "parked"
    STALE = "dropped_stale"
    IGNORED = "ignored"


def notable_changes(event: ConversationUpdated) -> list[str]:
    """Return the event's changed attributes worth a timeline line, sorted."""
    return sorted(NOTABLE_UPDATES.intersection(event.changed))


async def apply_change(session: AsyncSession, ticket: Ticket, event: StateChange) -> IngestOutcome:
    """Apply one state change to the ticket, locked in `session`."""
    if isinstance(event, StatusChanged):
        return await _status(session, ticket, event)
    if isinstance(event, AssigneeChanged):
        return await _assignee(session, ticket, event)
    return await _updated(session, ticket, event)


async def to_teams(session: AsyncSession, ticket: Ticket, delivery: Delivery, *, key: str) -> None:
    """Queue a delivery for each Teams chat of the requester, keyed on (source id, chat)."""
    await queue(
        session, user_id=ticket.requester_id, ticket_id=ticket.id, delivery=delivery, key=key
    )


def _status_kind(old: TicketStatus, new: TicketStatus) -> str:
    if new is TicketStatus.RESOLVED:
        return "resolved"
    if new is TicketStatus.OPEN:
        return "reopened" if old in (TicketStatus.RESOLVED, TicketStatus.SNOOZED) else "opened"
    return str(new)


async def _status(session: AsyncSession, ticket: Ticket, event: StatusChanged) -> IngestOutcome:
    new = TicketStatus(str(event.status))
    # A catch-up read is dated by our clock: never compare it with Chatwoot's times.
    chatwoot_time = event.source is not EventSource.CATCHUP
    seen = ticket.status_changed_at
    if chatwoot_time and seen is not None and event.occurred_at < seen:
        return IngestOutcome.STALE
    if ticket.status is new:
        # Seeing the state at this time makes any older change to it stale.
        if chatwoot_time and (seen is None or event.occurred_at > seen):
            ticket.status_changed_at = event.occurred_at
        return IngestOutcome.DUPLICATE
    kind = _status_kind(ticket.status, new)
    row = await repo.add_event(
        session,
        ticket_id=ticket.id,
        kind=kind,
        data={"status": str(new), "previous": str(ticket.status)},
        occurred_at=event.occurred_at,
        dedupe_key=event.dedupe_key,
    )
    if row is None:
        return IngestOutcome.DUPLICATE
    await repo.touch_ticket(
        session,
        ticket.id,
        status=new,
        status_changed_at=event.occurred_at if chatwoot_time else seen,
    )
    await to_teams(session, ticket, CardUpdate(ticket_id=ticket.id), key=f"card:{row.id}")
    if kind in ("resolved", "reopened"):
        await to_teams(
            session,
            ticket,
            StatusLine(ticket_id=ticket.id, title=ticket.title, event=kind, status=str(new)),
            key=f"line:{row.id}",
        )
    await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
    return IngestOutcome.STORED


async def _assignee(session: AsyncSession, ticket: Ticket, event: AssigneeChanged) -> IngestOutcome:
    # As for the status: a catch-up read is dated by our clock, a snapshot by Chatwoot's.
    chatwoot_time = event.source is not EventSource.CATCHUP
    seen = ticket.assignee_changed_at
    if chatwoot_time and seen is not None and event.occurred_at < seen:
        return IngestOutcome.STALE
    if chatwoot_time and (seen is None or event.occurred_at > seen):
        ticket.assignee_changed_at = event.occurred_at
    if ticket.assignee_name == event.assignee_name:
        return IngestOutcome.DUPLICATE
    kind = "assigned" if event.assignee_name else "unassigned"
    row = await repo.add_event(
        session,
        ticket_id=ticket.id,
        kind=kind,
        data={"assignee": event.assignee_name, "previous": ticket.assignee_name},
        occurred_at=event.occurred_at,
        dedupe_key=event.dedupe_key,
    )
    if row is None:
        return IngestOutcome.DUPLICATE
    await repo.touch_ticket(session, ticket.id, assignee_name=event.assignee_name)
    await to_teams(session, ticket, CardUpdate(ticket_id=ticket.id), key=f"card:{row.id}")
    await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
    return IngestOutcome.STORED


async def _updated(
    session: AsyncSession, ticket: Ticket, event: ConversationUpdated
) -> IngestOutcome:
    row = await repo.add_event(
        session,
        ticket_id=ticket.id,
        kind="updated",
        data={"changed": notable_changes(event)},
        occurred_at=event.occurred_at,
        dedupe_key=event.dedupe_key,
    )
    if row is None:
        return IngestOutcome.DUPLICATE
    await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
    return IngestOutcome.STORED
