"""One idempotent ingest for every Chatwoot event, whatever carried it (webhook, cable, catch-up).

Each event is applied in one transaction: timeline rows, the ticket's new state, outbox rows for
the requester's Teams chats (the typed contract of `tickets.deliveries`), and a NOTIFY that
PostgreSQL sends on commit. Dedupe keys and unique constraints make a replay a no-op.

A new message, the bulk of the traffic, is one statement (`db.ingest.store_message`), with the
webhook's receipt in it; the rarer events (edits, status, assignee, attributes) go through the
ORM. When the ticket is not visible yet, the event takes the conversation's advisory lock and
looks again before it is parked (`db.parked`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.codec import event_from_json, event_to_json
from chatwoot.events import (
    AssigneeChanged,
    ChatwootEvent,
    ConversationUpdated,
    MessageEvent,
    StatusChanged,
    TypingChanged,
)
from chatwoot.fields import MessageType
from db import ingest as store
from db import parked, repo
from db.ingest import NewMessage, QueuedDelivery, Receipt
from db.models import Direction, Message, Origin, Ticket
from tickets.attachments import stored_of
from tickets.deliveries import (
    AgentMessage,
    CardUpdate,
    MessageUpdate,
    agent_message_row,
)
from tickets.hub import CHANNEL as CHANGED_CHANNEL
from tickets.hub import TicketChanged, notify_changed
from tickets.ingest_state import IngestOutcome, apply_change, notable_changes, to_teams
from tickets.presence import apply_typing
from tickets.views import options_of

log = logging.getLogger(__name__)


class Ingestor:
    """Apply Chatwoot events to our database exactly once."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], pool: asyncpg.Pool) -> None:
        self._sessions = sessions
        # The hot path's own connections: plain asyncpg, no ORM (db.ingest).
        self._pool = pool
        # What became of every event this process saw (tests prove replays reached us).
        self.counts: dict[IngestOutcome, int] = dict.fromkeys(IngestOutcome, 0)

    async def ingest(self, event: ChatwootEvent) -> IngestOutcome:
        """Apply one event; return what happened to it."""
        outcome, _ = await self._apply(event, None)
        self.counts[outcome] += 1
        return outcome

    async def ingest_delivery(
        self, events: Sequence[ChatwootEvent], receipt: Receipt
    ) -> list[IngestOutcome]:
        """Apply a webhook's events and record its receipt; return what happened to each.

        A delivery of one event records the receipt in that event's transaction when it can.
        """
        outcomes: list[IngestOutcome] = []
        recorded = False
        for event in events:
            outcome, recorded = await self._apply(event, receipt if len(events) == 1 else None)
            self.counts[outcome] += 1
            outcomes.append(outcome)
        if not recorded:
            async with self._pool.acquire() as connection:
                await store.record_receipt(
                    connection,
                    delivery_id=receipt.delivery_id,
                    event=receipt.event,
                    outcome=",".join(map(str, outcomes)) or "ignored",
                )
        return outcomes

    async def _apply(
        self, event: ChatwootEvent, receipt: Receipt | None
    ) -> tuple[IngestOutcome, bool]:
        """Apply one event; also tell whether `receipt` was recorded with it."""
        if isinstance(event, MessageEvent):
            if event.private:
                return IngestOutcome.PRIVATE, False
            if event.message_type is MessageType.ACTIVITY:
                return IngestOutcome.ACTIVITY, False
            if event.kind == "created":
                return await self._new_message(event, receipt)
            return await self._message(event), False
        return await self._conversation_event(event), False

    async def _conversation_event(self, event: ChatwootEvent) -> IngestOutcome:
        if isinstance(event, TypingChanged):
            return await self._typing(event)
        if isinstance(event, ConversationUpdated) and not notable_changes(event):
            return IngestOutcome.IGNORED
        if isinstance(event, (StatusChanged, AssigneeChanged, ConversationUpdated)):
            async with self._sessions.begin() as session:
                ticket = await self._ticket(session, event)
                if ticket is None:
                    return IngestOutcome.PARKED
                return await apply_change(session, ticket, event)
        # ConversationCreated: the ticket comes from our own create, not from this event.
        return IngestOutcome.IGNORED

    async def _ticket(self, session: AsyncSession, event: ChatwootEvent) -> Ticket | None:
        """Lock and return the event's ticket; with none yet, park the event and return None.

        Chatwoot assigns (and agents may answer) inside the create, before our ticket row
        commits. The conversation's advisory lock is the one the ticket insert takes, so the
        event either sees the committed ticket or is parked before that insert commits.
        """
        await parked.lock_conversation(session, event.conversation_id)
        # Every timeline writer locks the ticket row first, so timeline ids (the readers'
        # resume cursor) are handed out in commit order within a ticket.
        ticket = await repo.ticket_by_conversation(session, event.conversation_id, lock=True)
        if ticket is None:
            await parked.park(session, event.conversation_id, event_to_json(event))
        return ticket

    async def replay_parked(self, conversation_id: int) -> int:
        """Apply the events parked for a conversation whose ticket now exists; return how many."""
        async with self._sessions() as session:
            rows = await parked.parked_for(session, conversation_id)
        for _row_id, data in rows:
            try:
                event = event_from_json(data)
            except (ValueError, TypeError) as exc:
                log.warning("dropping a parked event that no longer reads: %s", exc)
                continue
            await self.ingest(event)
        async with self._sessions.begin() as session:
            await parked.forget(session, [row_id for row_id, _ in rows])
        return len(rows)

    async def replay_all_parked(self) -> int:
        """Replay what waits for tickets that exist (a process died before replaying it)."""
        async with self._sessions() as session:
            conversations = await parked.claimable(session)
        return sum([await self.replay_parked(cid) for cid in conversations])

    async def _new_message(
        self, event: MessageEvent, receipt: Receipt | None
    ) -> tuple[IngestOutcome, bool]:
        """Store a new message in one statement; without a visible ticket, the locked path."""
        incoming = event.message_type is MessageType.INCOMING
        content = "" if event.deleted else (event.content or "")
        attributes = {k: v for k, v in event.content_attributes.items() if k != "deleted"}
        delivery = None
        if not incoming:
            options = options_of(event.content_type, attributes)
            kind, payload = agent_message_row(
                author=event.author_name or "",
                content="\n".join([content, *(f"• {title}" for title in options)]),
                created_at=event.created_at,
            )
            delivery = QueuedDelivery(kind, payload, key=f"msg:{event.message_id}")
        message = NewMessage(
            conversation_id=event.conversation_id,
            chatwoot_message_id=event.message_id,
            echo_id=event.echo_id if incoming else None,
            direction=Direction.REQUESTER if incoming else Direction.AGENT,
            author=event.author_name or "",
            content=content,
            attachments=[] if event.deleted else [stored_of(a) for a in event.attachments],
            created_at=event.created_at,
            content_type=event.content_type,
            content_attributes=attributes,
            deleted=event.deleted,
            chatwoot_updated_at=event.updated_at,
        )
        # A message already held is the requester's own (sent by us: an echo) or a replay.
        known = IngestOutcome.ECHO if incoming else IngestOutcome.DUPLICATE
        async with self._pool.acquire() as connection:
            stored = await store.store_message(
                connection,
                message,
                delivery=delivery,
                receipt=receipt,
                known_outcome=str(known),
                changed_channel=CHANGED_CHANNEL,
            )
        if stored.ticket_id is None:
            # Not committed before the statement began: look again under the advisory lock.
            return await self._message(event), False
        outcome = IngestOutcome.STORED if stored.message_id is not None else known
        if outcome is IngestOutcome.DUPLICATE and event.author_name:
            await self._name_author(event, stored.ticket_id, stored.requester_id)
        return outcome, stored.receipt_recorded

    async def _name_author(
        self, event: MessageEvent, ticket_id: int, requester_id: int | None
    ) -> None:
        """Name a stored template's author from a later copy (its cable copy had none)."""
        async with self._sessions.begin() as session:
            if await repo.fill_author(session, event.message_id, event.author_name or ""):
                await notify_changed(session, TicketChanged(ticket_id, requester_id or 0))

    async def _message(self, event: MessageEvent) -> IngestOutcome:
        async with self._sessions.begin() as session:
            ticket = await self._ticket(session, event)
            if ticket is None:
                return IngestOutcome.PARKED
            if event.kind == "updated":
                updated = await self._message_updated(session, ticket, event)
                if updated is not None:
                    return updated
                # Jobs run unordered: an edit or delete can overtake the create. It carries the
                # whole message, so store it now; the late create is then a duplicate.
            incoming = event.message_type is MessageType.INCOMING
            if incoming and await repo.message_known(session, event.message_id, event.echo_id):
                return IngestOutcome.ECHO
            stored = await repo.add_message(
                session,
                ticket_id=ticket.id,
                chatwoot_message_id=event.message_id,
                echo_id=event.echo_id if incoming else None,
                direction=Direction.REQUESTER if incoming else Direction.AGENT,
                author=event.author_name or "",
                content="" if event.deleted else (event.content or ""),
                attachments=[] if event.deleted else [stored_of(a) for a in event.attachments],
                origin=Origin.CHATWOOT,
                created_at=event.created_at,
                content_type=event.content_type,
                content_attributes={
                    k: v for k, v in event.content_attributes.items() if k != "deleted"
                },
                deleted=event.deleted,
                chatwoot_updated_at=event.updated_at,
            )
            if stored is None:
                # A template's cable copy has no author; its webhook copy names the inbox.
                if event.author_name and await repo.fill_author(
                    session, event.message_id, event.author_name
                ):
                    await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
                return IngestOutcome.DUPLICATE
            # An agent's reply ends their "typing" (the dashboard's typing_off may come later).
            cleared: dict[str, Any] = {} if incoming else {"agent_typing": None}
            await repo.touch_ticket(session, ticket.id, **cleared)
            if not incoming:
                await to_teams(
                    session,
                    ticket,
                    AgentMessage(
                        ticket_id=ticket.id,
                        title=ticket.title,
                        author=stored.author,
                        content=_with_options(stored),
                        message_id=stored.id,
                        created_at=event.created_at,
                    ),
                    key=f"msg:{event.message_id}",
                )
            await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
            return IngestOutcome.STORED

    async def _message_updated(
        self, session: AsyncSession, ticket: Ticket, event: MessageEvent
    ) -> IngestOutcome | None:
        known = await repo.message_known(session, event.message_id, None)
        if known is None:
            return None
        if known.deleted or _older(event, known):
            # A delete is final, and an older copy (a replay, a late job) never wins.
            return IngestOutcome.STALE
        if event.updated_at is not None:
            known.chatwoot_updated_at = event.updated_at
        content = "" if event.deleted else (event.content or "")
        attributes = {k: v for k, v in event.content_attributes.items() if k != "deleted"}
        if (
            known.content == content
            and known.deleted == event.deleted
            and known.content_attributes == attributes
        ):
            return IngestOutcome.DUPLICATE
        known.content = content
        known.content_attributes = attributes
        if event.deleted:
            # Chatwoot destroyed the files with the message: never offer them again.
            known.deleted = True
            known.attachments = []
        if known.direction is Direction.AGENT:
            # The reply's own card and the ticket card show the new text (or the marker).
            version = event.dedupe_key.rsplit(":", 1)[-1]
            await to_teams(
                session,
                ticket,
                MessageUpdate(ticket_id=ticket.id, message_id=known.id),
                key=f"edit:{event.message_id}:{version}",
            )
            await to_teams(
                session,
                ticket,
                CardUpdate(ticket_id=ticket.id),
                key=f"card:edit:{event.message_id}:{version}",
            )
        await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
        return IngestOutcome.STORED

    async def _typing(self, event: TypingChanged) -> IngestOutcome:
        async with self._sessions.begin() as session:
            changed = await apply_typing(session, event)
        if changed is None:
            return IngestOutcome.IGNORED
        return IngestOutcome.STORED if changed else IngestOutcome.DUPLICATE


def _with_options(message: Message) -> str:
    """Return a reply's text for Teams, a question's options listed under it."""
    options = options_of(message.content_type, message.content_attributes)
    return "\n".join([message.content, *(f"• {title}" for title in options)])


def _older(event: MessageEvent, known: Message) -> bool:
    """Tell whether an update is older than the stored version (both Chatwoot's clock)."""
    stored = known.chatwoot_updated_at
    return event.updated_at is not None and stored is not None and event.updated_at < stored
