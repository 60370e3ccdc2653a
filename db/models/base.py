"""What every table shares: the declarative base, naming, enum storage, the timeline sequence."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, MetaData, Sequence, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_type(cls: type[enum.Enum], name: str) -> Enum:
    """Store a StrEnum as a native PostgreSQL enum of its values."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class Base(DeclarativeBase):
    """Declarative base with constraint names alembic can diff."""

    metadata = MetaData(naming_convention=NAMING)


# Messages and timeline events draw ids from one sequence, so "everything after id N" is a
# single ordered cursor across both tables (the web socket resumes from it).
TIMELINE = Sequence("timeline_seq", metadata=Base.metadata)


def created_now() -> Mapped[datetime]:
    """Return a timestamp column that defaults to the database's now()."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
