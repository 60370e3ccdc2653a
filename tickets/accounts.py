"""Account e-mail use cases: sign-up, address verification, password reset by mailed link.

Answers never tell whether an address has an account: sign-up and "forgot password" end the
same way for known and unknown addresses, and the limits only decide whether a mail goes out.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import account_tokens, accounts, throttle
from db import mail as mail_repo
from db.models import User
from db.throttle import Limit
from tickets.mails import MailKind, MailRenderer

log = logging.getLogger(__name__)

TOKEN_TTL = timedelta(minutes=30)
VERIFY, RESET = "verify", "reset"


SIGNUP_WINDOW = timedelta(hours=1)
MAILS_PER_EMAIL = Limit(3, timedelta(minutes=15))
MAILS_PER_ADDRESS = Limit(10, timedelta(minutes=15))


class SignUp(enum.Enum):
    """How a sign-up request ended (the page is the same for both)."""

    DONE = "done"
    THROTTLED = "throttled"


def hash_token(token: str) -> str:
    """Hash a mailed token for storage and lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccountMail:
    """Create accounts and mail their links; one transaction per call."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        renderer: MailRenderer,
        wake: Callable[[], None],
        default_locale: str,
        signups_per_address: int,
    ) -> None:
        self._sessions = sessions
        self._default_locale = default_locale
        self._signups = Limit(signups_per_address, SIGNUP_WINDOW)
        self._renderer = renderer
        self._wake = wake

    async def sign_up(
        self,
        *,
        email: str,
        name: str,
        password_hash: str,
        locale: str,
        client: str,
        origin: str,
    ) -> SignUp:
        """Create the account and mail its verification link, or mail the owner of the address.

        An address that already has an account gets a "someone tried to sign up" mail with a
        reset link; the caller answers both cases alike.
        """
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            if await throttle.claim(db, [(f"signup:{client}", self._signups)], now) is None:
                return SignUp.THROTTLED
        async with self._sessions.begin() as db:
            user = await accounts.create_password_user(
                db, email=email, name=name, password_hash=password_hash, locale=locale
            )
            if user is not None:
                await self._mail(db, user, VERIFY, MailKind.VERIFY, locale, origin, now)
        if user is None:
            await self._mail_owner(email, client, origin, now)
        self._wake()
        return SignUp.DONE

    async def _mail_owner(self, email: str, client: str, origin: str, now: datetime) -> None:
        async with self._sessions.begin() as db:
            owner = await accounts.user_by_email(db, email)
            if owner is None or not await self._allowed(db, email, client, now):
                return
            # The owner's language, never the one of whoever typed their address.
            locale = owner.locale or self._default_locale
            await self._mail(db, owner, RESET, MailKind.SIGNUP_ATTEMPT, locale, origin, now)

    async def resend_verification(self, user_id: int, *, client: str, origin: str) -> None:
        """Mail a fresh verification link to a signed-in, unverified account (limits apply)."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            user = await db.get(User, user_id)
            if user is None or user.email is None or user.email_verified_at is not None:
                return
            if not await self._allowed(db, user.email, client, now):
                return
            await self._mail(db, user, VERIFY, MailKind.VERIFY, user.locale, origin, now)
        self._wake()

    async def verify(self, token: str) -> User | None:
        """Use a verification link; return the account it confirmed."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            user_id = await account_tokens.use_token(
                db, purpose=VERIFY, token_hash=hash_token(token), now=now
            )
            if user_id is None:
                return None
            await account_tokens.mark_verified(db, user_id, now)
            return await db.get(User, user_id)

    async def request_reset(self, email: str, *, locale: str, client: str, origin: str) -> None:
        """Mail a reset link when the address has an account and the limits allow it."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            allowed = await self._allowed(db, email, client, now)
            user = await accounts.user_by_email(db, email) if allowed else None
            if user is None:
                return
            await self._mail(db, user, RESET, MailKind.RESET, user.locale or locale, origin, now)
        self._wake()

    async def reset_is_live(self, token: str) -> bool:
        """Tell whether a reset link can still be used (the form is worth showing)."""
        async with self._sessions() as db:
            user_id = await account_tokens.peek_token(
                db, purpose=RESET, token_hash=hash_token(token), now=datetime.now(UTC)
            )
        return user_id is not None

    async def reset_password(self, token: str, password_hash: str) -> User | None:
        """Use a reset link: new password, address proven, every session of the account ended."""
        now = datetime.now(UTC)
        async with self._sessions.begin() as db:
            user_id = await account_tokens.use_token(
                db, purpose=RESET, token_hash=hash_token(token), now=now
            )
            if user_id is None:
                return None
            await accounts.set_password_hash(db, user_id, password_hash)
            await account_tokens.mark_verified(db, user_id, now)
            await account_tokens.retire_tokens(db, user_id, RESET, now)
            revoked = await accounts.revoke_user_sessions(db, user_id, now)
            log.info("password reset for user %s; %s session(s) ended", user_id, revoked)
            return await db.get(User, user_id)

    async def _allowed(self, db: AsyncSession, email: str, client: str, now: datetime) -> bool:
        limits = [
            (f"mail:{email.lower()}", MAILS_PER_EMAIL),
            (f"mail-from:{client}", MAILS_PER_ADDRESS),
        ]
        return await throttle.claim(db, limits, now) is not None

    async def _mail(
        self,
        db: AsyncSession,
        user: User,
        purpose: str,
        kind: MailKind,
        locale: str | None,
        origin: str,
        now: datetime,
    ) -> None:
        assert user.email is not None
        token = secrets.token_urlsafe(32)
        expires_at = now + TOKEN_TTL
        await account_tokens.add_token(
            db,
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
        path = "/verify" if purpose == VERIFY else "/password/reset"
        mail = self._renderer.render(
            kind, locale or self._default_locale, link=f"{origin}{path}?token={token}"
        )
        await mail_repo.enqueue(
            db,
            to_address=user.email,
            subject=mail.subject,
            text_body=mail.text,
            html_body=mail.html,
            expires_at=expires_at,
        )
