"""Help Center: what became of the articles suggested for a form."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_now


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
    created_at: Mapped[datetime] = created_now()
