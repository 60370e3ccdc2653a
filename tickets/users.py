"""Identity shared by both front doors: one user per person, Entra oid + tenant as the key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db import accounts
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
    user = await accounts.user_by_entra(session, oid, tid)
    if user is not None:
        if name and user.display_name != name and user.name_chosen_at is None:
            await accounts.rename_user(session, user.id, name)
            user.display_name = name
        return user
    free_email = email if email and await accounts.user_by_email(session, email) is None else None
    await accounts.insert_entra_user(
        session,
        oid=oid,
        tid=tid,
        name=(name or email or "")[:200],
        email=free_email,
        email_verified=bool(free_email and email_verified),
        locale=locale,
    )
    user = await accounts.user_by_entra(session, oid, tid)
    if user is None:
        # Lost a race on the e-mail index with a concurrent sign-up: store without e-mail.
        await accounts.insert_entra_user(
            session, oid=oid, tid=tid, name=(name or "")[:200], email=None, locale=locale
        )
        user = await accounts.user_by_entra(session, oid, tid)
    assert user is not None
    return user
