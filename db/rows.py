"""What every repository shares: an insert that a concurrent or repeated one makes a no-op."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Base


async def insert_new(session: AsyncSession, model: type[Base], **values: Any) -> int | None:
    """Insert a row unless a unique key already holds one; return the new id, or None."""
    key = inspect(model).primary_key[0]
    result = await session.execute(
        insert(model).values(**values).on_conflict_do_nothing().returning(key)
    )
    new_id: int | None = result.scalar_one_or_none()
    return new_id
