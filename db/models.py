"""SQLAlchemy 2 models for the whole domain."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store a StrEnum as a native PostgreSQL enum of its values."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class Base(DeclarativeBase):
    """Declarative base with constraint names alembic can diff."""

    metadata = MetaData(naming_convention=NAMING)


# Messages and timeline events draw ids from one sequence, so "everything after id N" is a
# single ordered cursor across both tables (the web socket resumes from it).
TIMELINE = Sequence("timeline_seq", metadata=Base.metadata)


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


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


class ReferenceState(enum.StrEnum):
    """Whether the bot may still write to a Teams conversation."""

    ACTIVE = "active"
    BLOCKED = "blocked"
    UNINSTALLED = "uninstalled"
    GONE = "gone"


class OutboxState(enum.StrEnum):
    """Life of one Teams delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class User(Base):
    """One person, whether they come from the web or from Teams."""

    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        UniqueConstraint("entra_oid", "entra_tid", name="uq_users_entra"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    entra_oid: Mapped[str | None] = mapped_column(String(64))
    entra_tid: Mapped[str | None] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    locale: Mapped[str | None] = mapped_column(String(10))
    # True only when the address came from a verified Entra claim (xms_edov or
    # email_verified), never from a sign-up form or an unverified token claim.
    email_verified_by_entra: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default=false()
    )
    # Set once the owner of the address followed a link mailed to it (verify or reset).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once the person typed their own name on the profile page: from then on the identity
    # provider's name (Microsoft sign-in, Teams) no longer replaces it.
    name_chosen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_ticket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class WebSession(Base):
    """A server-side browser session; the cookie holds only its random id."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(128), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
    created_at: Mapped[datetime] = _now()


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
        _enum(TicketStatus, "ticket_status"), nullable=False, server_default="open"
    )
    assignee_name: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "origin"), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    teams_card_activity_id: Mapped[str | None] = mapped_column(String(200))
    teams_card_conversation_id: Mapped[str | None] = mapped_column(String(400))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Chatwoot message id up to which a Client API read proved we hold every message; the
    # next catch-up reads from here (not from the newest id we hold, which may sit past a gap).
    synced_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    last_activity_at: Mapped[datetime] = _now()

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
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"), nullable=False)
    author: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    content: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default="[]"
    )
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "origin"), nullable=False)
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
    created_at: Mapped[datetime] = _now()

    @property
    def cursor(self) -> int:
        """Return the timeline position a reader has seen this version at."""
        return max(self.id, self.revision or 0)


# What an employee sees of a message: a change to any of these is a new revision.
_SHOWN = ("content", "deleted", "attachments", "content_attributes")


@event.listens_for(Message, "before_update")
def revise(_mapper: Any, _connection: Any, message: Message) -> None:
    """Give a message whose shown fields change a new revision from the timeline sequence."""
    state = inspect(message)
    if any(state.attrs[name].history.has_changes() for name in _SHOWN):
        message.revision = TIMELINE.next_value()


class HelpdeskBinding(Base):
    """Which Chatwoot and inbox this database belongs to (one row), so a switch is refused."""

    __tablename__ = "helpdesk_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_url: Mapped[str] = mapped_column(String(400), nullable=False)
    inbox_identifier: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = _now()


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
    created_at: Mapped[datetime] = _now()


class TeamsConversationRef(Base):
    """Where and how the bot can reach a user in Teams."""

    __tablename__ = "teams_conversation_refs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    tenant_id: Mapped[str] = mapped_column(String(64), nullable=False, server_default="")
    conversation_id: Mapped[str] = mapped_column(String(400), nullable=False, unique=True)
    service_url: Mapped[str] = mapped_column(String(400), nullable=False)
    reference: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    state: Mapped[ReferenceState] = mapped_column(
        _enum(ReferenceState, "reference_state"), nullable=False, server_default="active"
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class OutboxItem(Base):
    """One pending Teams delivery, keyed so a replay never sends it twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        # The oldest pending row of a conversation is the only one that may be in flight.
        Index(
            "ix_outbox_target_pending", "target", "id", postgresql_where=text("state = 'pending'")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tickets.id", ondelete="CASCADE")
    )
    target: Mapped[str] = mapped_column(String(400), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(500), nullable=False, unique=True)
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"), nullable=False, server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = _now()
    last_error: Mapped[str | None] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A claim is a lease: a crashed worker's rows become claimable again when it runs out.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(100))


class Throttle(Base):
    """A shared 'do not send before' time, per tenant or conversation, after a 429."""

    __tablename__ = "teams_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    throttled_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # 429s in a row without Retry-After: the exponent of the next backoff.
    strikes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class TeamsSend(Base):
    """One request made to Teams, per tenant and per conversation, for the sliding-window limits."""

    __tablename__ = "teams_sends"
    __table_args__ = (Index("ix_teams_sends_key_at", "key", "sent_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WebhookReceipt(Base):
    """One webhook delivery we received, and what became of it."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[str | None] = mapped_column(String(200), index=True)
    event: Mapped[str] = mapped_column(String(80), nullable=False)
    received_at: Mapped[datetime] = _now()
    outcome: Mapped[str] = mapped_column(String(80), nullable=False)


class HelpOutcomeKind(enum.StrEnum):
    """What happened to a form after Help Center articles were suggested for it."""

    SHOWN = "shown"
    RESOLVED = "resolved"
    OPENED = "opened"


class HelpOutcome(Base):
    """One outcome of one suggestion round (a form), counted once however often it repeats."""

    __tablename__ = "help_outcomes"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "surface", "form_key", "outcome", name="uq_help_outcomes_form_outcome"
        ),
        Index("ix_help_outcomes_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    surface: Mapped[str] = mapped_column(String(10), nullable=False)
    form_key: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = _now()


class AccountToken(Base):
    """A single-use link mailed to an account (verify the address, reset the password)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    # Only the SHA-256 of the token is kept: a copy of the database opens no account.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class MailState(enum.StrEnum):
    """Where an outgoing e-mail stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


class MailItem(Base):
    """One outgoing e-mail, kept until the SMTP server took it (the durable mail outbox)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    # Bodies carry live links: they are wiped once sent or expired.
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = _now()
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RateHit(Base):
    """One counted request per key, for sliding-window limits (the one throttle's rows).

    Sign-in guesses, sign-ups, mailed links and profile changes all land here.
    """

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "hit_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False)
    hit_at: Mapped[datetime] = _now()
