"""Repository functions for mailed account tokens and verified addresses.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AccountToken, User


async def add_token(
    session: AsyncSession, *, user_id: int, purpose: str, token_hash: str, expires_at: datetime
) -> None:
    """Store the hash of a newly mailed token."""
    session.add(
        AccountToken(user_id=user_id, purpose=purpose, token_hash=token_hash, expires_at=expires_at)
    )
    await session.flush()


async def peek_token(
    session: AsyncSession, *, purpose: str, token_hash: str, now: datetime
) -> int | None:
    """Return the user id of a live token without using it up."""
    user_id: int | None = await session.scalar(
        select(AccountToken.user_id).where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
    )
    return user_id


async def use_token(
    session: AsyncSession, *, purpose: str, token_hash: str, now: datetime
) -> int | None:
    """Use up a live token in one statement (two racing uses: one wins); return its user id."""
    result = await session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == token_hash,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(AccountToken.user_id)
    )
    return result.scalar_one_or_none()


async def retire_tokens(session: AsyncSession, user_id: int, purpose: str, now: datetime) -> None:
    """Use up every other live token of a purpose (a reset makes older reset links dead)."""
    await session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


async def mark_verified(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """Record that the address was proven; False when it already was."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.email_verified_at.is_(None))
        .values(email_verified_at=now, updated_at=func.now())
    )
    return bool(getattr(result, "rowcount", 0))


async def purge_tokens(session: AsyncSession, before: datetime) -> None:
    """Delete tokens that expired before a moment."""
    await session.execute(delete(AccountToken).where(AccountToken.expires_at < before))
