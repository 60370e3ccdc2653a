"""Tickets: Chatwoot contacts and conversations, the timeline, parked events, receipts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.accounts import User
from db.models.base import TIMELINE, Base, created_now, enum_type


class Direction(enum.StrEnum):
    """Who wrote a timeline message."""

    REQUESTER = "requester"
    AGENT = "agent"
    SYSTEM = "system"


class Origin(enum.StrEnum):
    """Where a message entered the system."""

    WEB = "web"
    TEAMS = "teams"
    CHATWOOT = "chatwoot"


class TicketStatus(enum.StrEnum):
    """Chatwoot conversation statuses."""

    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"


class ChatwootContactLink(Base):
    """The one Chatwoot contact (ContactInbox) of a user in an inbox."""

    __tablename__ = "chatwoot_contact_link"
    __table_args__ = (
        UniqueConstraint("user_id", "inbox_identifier", name="uq_contact_user_inbox"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    inbox_identifier: Mapped[str] = mapped_column(String(100), nullable=False)
    source_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    pubsub_token: Mapped[str | None] = mapped_column(String(100))
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set while a conversation create is in flight: if it fails after reaching Chatwoot, the
    # next attempt adopts the orphan conversation instead of opening a second one.
    pending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Which requests those creates were for (`digest@epoch` of their custom attributes, space
    # separated, forgotten after hours): an empty orphan (its first message never went)
    # carries the title and sector of the request that made it, so only a retry of that
    # request may adopt it.
    pending_digest: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_now()


class Ticket(Base):
    """A helpdesk ticket: one Chatwoot conversation."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_requester_activity", "requester_id", "last_activity_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    contact_link_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("chatwoot_contact_link.id", ondelete="SET NULL")
    )
    beneficiary_name: Mapped[str | None] = mapped_column(String(200))
    beneficiary_email: Mapped[str | None] = mapped_column(String(320))
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    complexity: Mapped[str] = mapped_column(String(60), nullable=False)
    sector: Mapped[str] = mapped_column(String(60), nullable=False)
    chatwoot_conversation_id: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    status: Mapped[TicketStatus] = mapped_column(
        enum_type(TicketStatus, "ticket_status"), nullable=False, server_default="open"
    )
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[Origin] = mapped_column(enum_type(Origin, "origin"), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    teams_card_activity_id: Mapped[str | None] = mapped_column(String(200))
    teams_card_conversation_id: Mapped[str | None] = mapped_column(String(400))
    # The reply (our message id) the newest card shows alone; None when it is the full card.
    teams_card_message_id: Mapped[int | None] = mapped_column(Integer)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Chatwoot's time of the newest assignee snapshot applied (an older one arriving late loses).
    assignee_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Chatwoot message id up to which a Client API read proved we hold every message; the
    # next catch-up reads from here (not from the newest id we hold, which may sit past a gap).
    synced_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Timeline id up to which the requester has seen the ticket: agent messages above are unread.
    requester_seen_id: Mapped[int | None] = mapped_column(BigInteger)
    # The agent Chatwoot last said is typing here (None once they stopped), and since when.
    agent_typing: Mapped[str | None] = mapped_column(String(200))
    agent_typing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_now()
    updated_at: Mapped[datetime] = created_now()
    last_activity_at: Mapped[datetime] = created_now()

    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="raise")


class Message(Base):
    """One chat message of a ticket (employee or agent)."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger, TIMELINE, primary_key=True, server_default=TIMELINE.next_value()
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    chatwoot_message_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    echo_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, "direction"), nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    content: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    origin: Mapped[Origin] = mapped_column(enum_type(Origin, "origin"), nullable=False)
    # Chatwoot's kind of message ("text", "input_select", "input_csat"...) and its attributes
    # (the options of a question, a card's items): without them a question loses its choices.
    content_type: Mapped[str] = mapped_column(String(40), nullable=False, server_default="text")
    content_attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    # An agent deleted it in Chatwoot: its text and files are gone for good, whatever arrives.
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    # Chatwoot's own time of the version stored (its clock, compared only with itself), so an
    # older copy of an update never overwrites a newer one.
    chatwoot_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Drawn from the timeline sequence whenever an edit or delete changes what is shown, so a
    # reader resuming "after cursor N" gets the changed message again (see `revise`).
    revision: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_now()

    @property
    def cursor(self) -> int:
        """Return the timeline position a reader has seen this version at."""
        return max(self.id, self.revision or 0)


# What an employee sees of a message: a change to any of these is a new revision.
_SHOWN = ("content", "deleted", "attachments", "content_attributes")


@event.listens_for(Message, "before_update")
def revise(_mapper: Any, connection: Connection, message: Message) -> None:
    """Give a message whose shown fields change a new revision from the timeline sequence."""
    state = inspect(message)
    if any(state.attrs[name].history.has_changes() for name in _SHOWN):
        # A value, not a SQL expression: the attribute stays loaded after the flush, so async
        # code reading it later never triggers a lazy load.
        message.revision = connection.scalar(select(TIMELINE.next_value()))


class TicketEvent(Base):
    """A timeline line: assigned, resolved, reopened, and so on."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger, TIMELINE, primary_key=True, server_default=TIMELINE.next_value()
    )
    ticket_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_now()


class ParkedEvent(Base):
    """A Chatwoot event for a conversation we do not know yet, kept until its ticket commits.

    Chatwoot can assign an agent (or an agent can answer) inside the create, before our ticket
    row exists; those events wait here briefly and are applied once the ticket is stored.
    """

    __tablename__ = "parked_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    parked_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )


class SendClaim(Base):
    """A send to Chatwoot in flight, or one whose answer was lost, under one key.

    One process at a time holds a key (`held_until` is its lease, renewed while it works), so a
    retry in another process waits instead of sending twice. A row left after the holder failed
    or died says "this may have reached Chatwoot": the next attempt looks there first.
    """

    __tablename__ = "send_claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(40), nullable=False)
    held_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The newest Chatwoot message id stored for the ticket when the first attempt began: a lost
    # message, if Chatwoot has it, is newer (ids only grow; no clock is compared).
    after_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_now()


class HelpdeskBinding(Base):
    """Which Chatwoot and inbox this database belongs to (one row), so a switch is refused."""

    __tablename__ = "helpdesk_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_url: Mapped[str] = mapped_column(String(400), nullable=False)
    inbox_identifier: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = created_now()


class WebhookReceipt(Base):
    """One webhook delivery we received, and what became of it."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[str | None] = mapped_column(String(200), index=True)
    event: Mapped[str] = mapped_column(String(80), nullable=False)
    received_at: Mapped[datetime] = created_now()
    outcome: Mapped[str] = mapped_column(String(80), nullable=False)
