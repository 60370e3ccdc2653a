"""The profile page: name, password, language, signed-in browsers and the Microsoft link.

Every form here is a POST with the session's CSRF token (the session middleware refuses the
rest) and is counted by the one throttle: password changes per account like sign-ins, the
other changes per account against scripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSCloseCode, web

import i18n
from db import account_tokens, accounts, throttle, web_sessions
from db.models import User, WebSession
from tickets import keys
from tickets.accounts import RESET
from web import keys as web_keys
from web import sessions
from web.auth import ACCOUNT_GUESSES, FAILURES_SETTLED
from web.devices import describe_agent
from web.http import field, redirect
from web.passwords import PASSWORD_MAX, password_problem
from web.render import render

log = logging.getLogger(__name__)

NAME_MAX = 200
# Wrong current passwords per account: the same budget as sign-in guesses.
PASSWORD_TRIES = ACCOUNT_GUESSES
# Every other profile change per account: generous for a person, a wall for a script.
CHANGES = throttle.Limit(30, timedelta(minutes=15))
SOCKET_CLOSE_WAIT = 2.0
SAVED = frozenset({"name", "password", "everywhere", "session", "unlinked", "locale"})
MICROSOFT_NOTICES = frozenset({"done", "taken", "other"})


def setup_profile(app: web.Application) -> None:
    """Register the profile routes."""
    app.router.add_get("/profile", profile_page)
    app.router.add_post("/profile", choose_language)
    app.router.add_post("/profile/name", change_name)
    app.router.add_post("/profile/password", change_password)
    app.router.add_post("/profile/sessions/end-all", sign_out_everywhere)
    app.router.add_post("/profile/sessions/{sid}/end", end_session)
    app.router.add_post("/profile/microsoft/unlink", unlink_microsoft)


def public_id(session_key: str) -> str:
    """Name a session on the page without showing its database key."""
    return hashlib.sha256(b"profile-list:" + session_key.encode()).hexdigest()[:24]


def _signed_in(request: web.Request) -> User:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


async def _claim(request: web.Request, key: str, limit: throttle.Limit) -> list[int] | None:
    async with request.app[keys.SESSIONMAKER].begin() as db:
        return await throttle.claim(db, [(key, limit)], datetime.now(UTC))


async def _count_change(request: web.Request, user: User) -> None:
    """Count a profile change; past the budget the visitor gets the 429 page."""
    if await _claim(request, f"profile:{user.id}", CHANGES) is None:
        retry = str(int(CHANGES.window.total_seconds()))
        raise web.HTTPTooManyRequests(headers={"Retry-After": retry})


async def profile_page(request: web.Request) -> web.Response:
    """Show the account, its signed-in browsers, the language and the Microsoft link."""
    _signed_in(request)
    saved = request.query.get("saved")
    return await _profile(request, notice=saved if saved in SAVED else None)


async def _profile(
    request: web.Request,
    *,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    user = _signed_in(request)
    current = sessions.current(request)
    async with request.app[keys.SESSIONMAKER]() as db:
        rows = await web_sessions.live_user_sessions(db, user.id, datetime.now(UTC))
    microsoft = request.query.get("microsoft")
    context: dict[str, Any] = {
        "notice": notice,
        "microsoft_notice": microsoft if microsoft in MICROSOFT_NOTICES else None,
        "verify_sent": request.query.get("verify") == "sent",
        "values": values or {"name": user.display_name},
        "errors": errors or {},
        # This browser first, then the others by their last use.
        "browsers": sorted(
            (_browser(row, current.key if current else None) for row in rows),
            key=lambda browser: not browser["current"],
        ),
        "can_unlink": bool(user.entra_oid and user.password_hash and user.email),
        "nav": "profile",
    }
    return render(request, "profile.html", context, status=status)


def _browser(row: WebSession, current_key: str | None) -> dict[str, Any]:
    return {
        "id": public_id(row.id),
        "device": describe_agent(row.user_agent),
        "agent": row.user_agent or "",
        "created": row.created_at,
        "last_seen": row.last_seen_at,
        "current": row.id == current_key,
    }


async def choose_language(request: web.Request) -> web.Response:
    """Store the language choice."""
    user = _signed_in(request)
    await _count_change(request, user)
    form = await request.post()
    locale = i18n.normalize_locale(field(form, "locale", 20))
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.set_locale(db, user.id, locale)
    return redirect("/profile?saved=locale")


async def change_name(request: web.Request) -> web.Response:
    """Store the name the person typed (kept over the identity provider's from now on)."""
    user = _signed_in(request)
    await _count_change(request, user)
    form = await request.post()
    name = " ".join(field(form, "name", 1000).split())
    problem = "required" if not name else "too_long" if len(name) > NAME_MAX else None
    if problem:
        return await _profile(
            request, values={"name": name[:NAME_MAX]}, errors={"name": problem}, status=422
        )
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.choose_name(db, user.id, name)
    user.display_name = name
    # Agents see the contact's name in Chatwoot: tell it too (best effort, logged on failure).
    await request.app[keys.SERVICE].refresh_contact(user.id)
    return redirect("/profile?saved=name")


async def change_password(request: web.Request) -> web.Response:
    """Check the current password (throttled like sign-ins), store the new one, re-issue."""
    user = _signed_in(request)
    form = await request.post()
    current = field(form, "current_password", PASSWORD_MAX + 1)
    new = field(form, "new_password", PASSWORD_MAX + 1)
    if user.password_hash is None:
        return await _profile(request, errors={"current_password": "none"}, status=409)
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "required"  # noqa: S105 (an error code, not a password)
    if problem := password_problem(new):
        errors["new_password"] = problem
    if errors:
        return await _profile(request, errors=errors, status=422)
    key = f"password:{user.id}"
    attempt = await _claim(request, key, PASSWORD_TRIES)
    if attempt is None:
        response = await _profile(request, errors={"current_password": "throttled"}, status=429)
        response.headers["Retry-After"] = str(int(PASSWORD_TRIES.window.total_seconds()))
        return response
    passwords = request.app[web_keys.PASSWORDS]
    matches, _rehash = await passwords.verify(user.password_hash, current)
    if not matches:
        return await _profile(request, errors={"current_password": "wrong"}, status=422)
    new_hash = await passwords.hash(new)
    now = datetime.now(UTC)
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.set_password_hash(db, user.id, new_hash)
        # A reset link mailed before the change must not undo it.
        await account_tokens.retire_tokens(db, user.id, RESET, now)
        # As for sign-ins: a success keeps its place while wrong guesses race it.
        if not await throttle.racing(db, key, settled=FAILURES_SETTLED, besides=attempt):
            await throttle.forget(db, attempt)
    # Whoever knew the old password may hold a session: end them all, keep this browser.
    await _reissue(request, user)
    return redirect("/profile?saved=password")


async def sign_out_everywhere(request: web.Request) -> web.Response:
    """End every session of the account; this browser gets a fresh one."""
    user = _signed_in(request)
    await _count_change(request, user)
    await _reissue(request, user)
    return redirect("/profile?saved=everywhere")


async def _reissue(request: web.Request, user: User) -> None:
    async with request.app[keys.SESSIONMAKER].begin() as db:
        ended = await accounts.revoke_user_sessions(db, user.id, datetime.now(UTC))
    log.info("user %s: %s session(s) ended", user.id, ended)
    await sessions.sign_in(request, user)
    await _close_sockets(request, user.id)


async def _close_sockets(request: web.Request, user_id: int) -> None:
    """Drop the user's live sockets: pages reconnect, and an ended session's gets a 403."""
    mine = list(request.app.get(web_keys.USER_SOCKETS, {}).get(user_id, ()))
    closing = [
        socket.close(code=WSCloseCode.GOING_AWAY, message=b"sessions changed") for socket in mine
    ]
    # A page that does not answer the close frame must not hold this answer up.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SOCKET_CLOSE_WAIT):
            await asyncio.gather(*closing, return_exceptions=True)


async def end_session(request: web.Request) -> web.Response:
    """End one of the account's sessions, named by its id on the page; 404 for any other."""
    user = _signed_in(request)
    await _count_change(request, user)
    wanted = request.match_info["sid"]
    now = datetime.now(UTC)
    async with request.app[keys.SESSIONMAKER].begin() as db:
        rows = await web_sessions.live_user_sessions(db, user.id, now)
        key = next((row.id for row in rows if public_id(row.id) == wanted), None)
        if key is None or not await web_sessions.revoke_user_session(db, user.id, key, now):
            raise web.HTTPNotFound()
    current = sessions.current(request)
    if current is not None and current.key == key:
        await sessions.sign_out(request)
        return redirect("/login")
    await _close_sockets(request, user.id)
    return redirect("/profile?saved=session")


async def unlink_microsoft(request: web.Request) -> web.Response:
    """Detach the Microsoft account, unless it is the only way this person signs in."""
    if request.app.get(web_keys.MICROSOFT) is None:
        raise web.HTTPNotFound()
    user = _signed_in(request)
    await _count_change(request, user)
    async with request.app[keys.SESSIONMAKER].begin() as db:
        unlinked = await accounts.unlink_entra(db, user.id)
    if not unlinked:
        return await _profile(request, errors={"microsoft": "last_way"}, status=409)
    user.entra_oid = user.entra_tid = None
    return redirect("/profile?saved=unlinked")
