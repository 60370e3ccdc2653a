"""Teams: where the bot reaches a user, the outbox of deliveries, and the send limits."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_now, enum_type


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
        enum_type(ReferenceState, "reference_state"), nullable=False, server_default="active"
    )
    created_at: Mapped[datetime] = created_now()
    updated_at: Mapped[datetime] = created_now()


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
        enum_type(OutboxState, "outbox_state"), nullable=False, server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = created_now()
    last_error: Mapped[str | None] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_now()
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


class OutboxWorker(Base):
    """An outbox worker's heartbeat: while it is recent, other workers leave its leases alone.

    A connection's presence cannot say it: PostgreSQL terminating a live worker's backends (a
    restart, a failover, an administrator) would void its leases while its sends are in flight.
    """

    __tablename__ = "outbox_workers"

    worker: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class TeamsSend(Base):
    """One request made to Teams, per tenant and per conversation, for the sliding-window limits.

    ``sent_at`` is when its slot was reserved, ``done_at`` when Teams' answer (or the failure)
    came back: in between, the request may reach Teams at any moment, so it counts until one
    window after ``done_at``. A request never answered (its process died) counts for a while.
    """

    __tablename__ = "teams_sends"
    __table_args__ = (Index("ix_teams_sends_key_at", "key", "sent_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
