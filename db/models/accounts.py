"""Accounts: people, their browser sessions, sign-in failures, mailed links, rate counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_now


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
    # When the current ticket was last chosen: the bot sends free text to it only while fresh.
    current_ticket_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_now()
    updated_at: Mapped[datetime] = created_now()


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
    created_at: Mapped[datetime] = created_now()
    last_seen_at: Mapped[datetime] = created_now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
    created_at: Mapped[datetime] = created_now()


class RateHit(Base):
    """One counted request per key, for sliding-window limits (the one throttle's rows).

    Sign-in guesses, sign-ups, mailed links and profile changes all land here.
    """

    __tablename__ = "rate_hits"
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "hit_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(400), nullable=False)
    hit_at: Mapped[datetime] = created_now()
