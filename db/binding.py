"""The home of `helpdesk_binding`: which Chatwoot and inbox this database belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HelpdeskBinding


async def bind(session: AsyncSession, base_url: str, inbox: str) -> tuple[str, str]:
    """Store the pair on first use; return the stored pair (which may differ from this one)."""
    await session.execute(
        insert(HelpdeskBinding)
        .values(id=1, base_url=base_url, inbox_identifier=inbox)
        .on_conflict_do_nothing()
    )
    row = (
        await session.execute(select(HelpdeskBinding).where(HelpdeskBinding.id == 1))
    ).scalar_one()
    return row.base_url, row.inbox_identifier
