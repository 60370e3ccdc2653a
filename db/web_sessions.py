"""Repository functions for the profile page's list of a user's signed-in browsers.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebSession

# A person has a handful of browsers; a list past this is a script's sessions, not theirs.
LIST_MAX = 50


async def live_user_sessions(
    session: AsyncSession, user_id: int, now: datetime
) -> Sequence[WebSession]:
    """List the user's unexpired, unrevoked sessions, the most recently used first."""
    result = await session.scalars(
        select(WebSession)
        .where(
            WebSession.user_id == user_id,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
        .order_by(WebSession.last_seen_at.desc(), WebSession.created_at.desc())
        .limit(LIST_MAX)
    )
    return result.all()


async def revoke_user_session(
    session: AsyncSession, user_id: int, session_id: str, now: datetime
) -> bool:
    """End one live session of this user; False when it is not theirs or already over."""
    result = await session.execute(
        update(WebSession)
        .where(
            WebSession.id == session_id,
            WebSession.user_id == user_id,
            WebSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
