"""Repository functions for accounts: users (their one home) and browser sessions.

Every function takes the session and never commits: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket, User, WebSession
from db.rows import insert_new


async def create_password_user(
    session: AsyncSession, *, email: str, name: str, password_hash: str, locale: str | None
) -> User | None:
    """Insert a password account; None when the e-mail is already taken."""
    result = await session.execute(
        insert(User)
        .values(email=email, display_name=name, password_hash=password_hash, locale=locale)
        .on_conflict_do_nothing()
        .returning(User.id)
    )
    user_id = result.scalar_one_or_none()
    if user_id is None:
        return None
    return await session.get(User, user_id)


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Load a user by id."""
    return await session.get(User, user_id)


async def user_by_entra(session: AsyncSession, oid: str, tid: str) -> User | None:
    """Find the user with this Entra object id in this tenant."""
    result = await session.execute(select(User).where(User.entra_oid == oid, User.entra_tid == tid))
    return result.scalar_one_or_none()


async def insert_entra_user(
    session: AsyncSession,
    *,
    oid: str,
    tid: str,
    name: str,
    email: str | None,
    locale: str | None,
    email_verified: bool = False,
) -> None:
    """Insert a user known by its Entra identity; nothing when a unique key is already held."""
    await insert_new(
        session,
        User,
        entra_oid=oid,
        entra_tid=tid,
        display_name=name,
        email=email,
        email_verified_by_entra=email_verified,
        locale=locale,
    )


async def rename_user(session: AsyncSession, user_id: int, name: str) -> None:
    """Store the display name the identity provider now reports."""
    await session.execute(
        update(User).where(User.id == user_id).values(display_name=name, updated_at=func.now())
    )


async def set_current_ticket(session: AsyncSession, user_id: int, ticket_id: int) -> None:
    """Remember the user's current ticket (bot free text goes there), if the user owns it."""
    owned = select(Ticket.id).where(Ticket.id == ticket_id, Ticket.requester_id == user_id)
    await session.execute(
        update(User)
        .where(User.id == user_id, owned.exists())
        .values(current_ticket_id=ticket_id, current_ticket_at=func.now(), updated_at=func.now())
    )


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    """Find a user by e-mail, case-insensitively."""
    result = await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    return result.scalar_one_or_none()


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    """Store a new hash (after a re-hash with current parameters)."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash, updated_at=func.now())
    )


async def set_locale(session: AsyncSession, user_id: int, locale: str | None) -> None:
    """Store the user's language (a web choice, or what Teams reports; the outbox writes in it)."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.locale.is_distinct_from(locale))
        .values(locale=locale, updated_at=func.now())
    )


async def link_entra(session: AsyncSession, user_id: int, *, oid: str, tid: str) -> bool:
    """Attach an Entra identity to the user; False when another user already holds it."""
    holder = await session.execute(
        select(User.id).where(User.entra_oid == oid, User.entra_tid == tid)
    )
    holder_id = holder.scalar_one_or_none()
    if holder_id is not None:
        return holder_id == user_id
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(entra_oid=oid, entra_tid=tid, updated_at=func.now())
    )
    return True


async def choose_name(session: AsyncSession, user_id: int, name: str) -> None:
    """Store the name the person typed; the identity provider's no longer replaces it."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(display_name=name, name_chosen_at=func.now(), updated_at=func.now())
    )


async def unlink_entra(session: AsyncSession, user_id: int) -> bool:
    """Detach the Entra identity; False when there is none or it is the only way to sign in."""
    result = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.entra_oid.is_not(None),
            User.password_hash.is_not(None),
            User.email.is_not(None),
        )
        .values(entra_oid=None, entra_tid=None, updated_at=func.now())
    )
    return bool(getattr(result, "rowcount", 0))


# ---- browser sessions ---------------------------------------------------------------------


async def create_session(
    session: AsyncSession,
    *,
    session_id: str,
    csrf_token: str,
    user_id: int | None,
    expires_at: datetime,
    data: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> WebSession:
    """Insert a browser session row."""
    row = WebSession(
        id=session_id,
        csrf_token=csrf_token,
        user_id=user_id,
        expires_at=expires_at,
        data=data or {},
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
    )
    session.add(row)
    await session.flush()
    return row


async def live_session(
    session: AsyncSession, session_id: str, now: datetime
) -> tuple[WebSession, User | None] | None:
    """Load an unexpired, unrevoked session and its user."""
    result = await session.execute(
        select(WebSession, User)
        .outerjoin(User, User.id == WebSession.user_id)
        .where(
            WebSession.id == session_id,
            WebSession.revoked_at.is_(None),
            WebSession.expires_at > now,
        )
    )
    row = result.first()
    if row is None:
        return None
    return row[0], row[1]


async def touch_session(
    session: AsyncSession, session_id: str, *, now: datetime, expires_at: datetime
) -> None:
    """Slide the session's expiry forward."""
    await session.execute(
        update(WebSession)
        .where(WebSession.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
    )


async def set_session_data(session: AsyncSession, session_id: str, data: dict[str, Any]) -> None:
    """Replace the session's data (Microsoft flow state, anonymous locale)."""
    await session.execute(update(WebSession).where(WebSession.id == session_id).values(data=data))


async def revoke_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    """End one session on the server."""
    await session.execute(
        update(WebSession).where(WebSession.id == session_id).values(revoked_at=now)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: int, now: datetime) -> int:
    """End every session of a user (sign out everywhere); return how many."""
    result = await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(session: AsyncSession, now: datetime, keep: timedelta) -> None:
    """Delete sessions that no longer matter."""
    await session.execute(delete(WebSession).where(WebSession.expires_at < now - keep))
