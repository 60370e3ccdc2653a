"""Identity shared by both front doors: one user per person, Entra oid + tenant as the key."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import repo
from db.models import User


async def find_or_create_entra_user(
    session: AsyncSession,
    *,
    oid: str,
    tid: str,
    name: str | None,
    email: str | None,
    locale: str | None = None,
    email_verified: bool = False,
) -> User:
    """Return the user with this Entra identity, creating it on first sight.

    The e-mail is stored only when no other account holds it: accounts are never linked
    silently by e-mail (a password account links Microsoft only when its owner chooses to).
    """
    user = await repo.find_user_by_entra(session, oid, tid)
    if user is not None:
        if name and user.display_name != name:
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(display_name=name, updated_at=func.now())
            )
            user.display_name = name
        return user
    free_email = email if email and await repo.find_user_by_email(session, email) is None else None
    result = await session.execute(
        insert(User)
        .values(
            entra_oid=oid,
            entra_tid=tid,
            display_name=(name or email or "")[:200],
            email=free_email,
            email_verified_by_entra=bool(free_email and email_verified),
            locale=locale,
        )
        .on_conflict_do_nothing()
        .returning(User.id)
    )
    new_id = result.scalar_one_or_none()
    user = await repo.find_user_by_entra(session, oid, tid)
    if user is None:
        # Lost a race on the e-mail index with a concurrent sign-up: store without e-mail.
        await session.execute(
            insert(User)
            .values(entra_oid=oid, entra_tid=tid, display_name=(name or "")[:200], locale=locale)
            .on_conflict_do_nothing()
        )
        user = await repo.find_user_by_entra(session, oid, tid)
    assert user is not None, new_id
    return user
