"""Server-side browser sessions: cookie handling, sign-in rotation and the CSRF check.

The cookie holds a random token; the database keys the session by the token's SHA-256, so a
leaked table does not hand out live cookies. A visitor gets a session row only when something
must be kept for them (signing in, the Microsoft flow, a language choice); the forms an
anonymous visitor sees carry a CSRF token derived from a random cookie and SECRET_KEY instead,
so cookie-less traffic writes nothing. Signing in rotates the session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from db import accounts, throttle
from db.models import User
from tickets import keys

log = logging.getLogger(__name__)

USER_IDLE = timedelta(days=7)
USER_MAX = timedelta(days=30)
ANON_IDLE = timedelta(hours=12)
# Writing last_seen on every request would turn each page view into a write; a few minutes
# of slack on a seven-day idle window changes nothing.
TOUCH_EVERY = timedelta(minutes=5)
PURGE_AFTER = timedelta(days=1)
# Sign-ins used to be the only purge: a site nobody signs in to kept every anonymous row.
PURGE_EVERY = 3600.0

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes of other front doors that authenticate themselves and carry no browser session.
FOREIGN_PREFIXES = ("/api/messages", "/api/chatwoot/", "/healthz", "/readyz", "/static/")
# The identity provider posts here cross-site; msal's state check against the flow kept in
# the session is what protects it (a forged post cannot know the state).
CSRF_EXEMPT = frozenset({"/auth/microsoft/callback"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_STREAMED = "csrf_in_stream"


@dataclass
class BrowserSession:
    """The session of the current request (and what to tell the browser about it)."""

    key: str
    csrf_token: str
    user: User | None
    data: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    cookie_token: str | None = None  # set when the browser must receive a new cookie
    cleared: bool = False

    @property
    def user_id(self) -> int | None:
        """Return the signed-in user's id, if any."""
        return self.user.id if self.user is not None else None


SESSION = web.RequestKey("browser_session", BrowserSession)
# An anonymous visitor's form token, and the cookie value to send when it is new.
ANON_CSRF = web.RequestKey("anon_csrf", str)
ANON_COOKIE = web.RequestKey("anon_csrf_cookie", str)


def cookie_name(request: web.Request) -> str:
    """Name the cookie; `__Host-` pins it to this host and path when it is Secure."""
    return "__Host-tft_session" if request.app[keys.SETTINGS].cookie_secure else "tft_session"


def anon_cookie_name(request: web.Request) -> str:
    """Name the anonymous CSRF cookie (`__Host-` pinned, like the session's, when Secure)."""
    return "__Host-tft_csrf" if request.app[keys.SETTINGS].cookie_secure else "tft_csrf"


def _anon_token(request: web.Request, nonce: str) -> str:
    key = request.app[keys.SETTINGS].SECRET_KEY.get_secret_value().encode()
    return hmac.new(key, b"anon-csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def _anon_nonce(request: web.Request) -> str | None:
    nonce: str | None = request.cookies.get(anon_cookie_name(request))
    return nonce if nonce and len(nonce) <= 100 else None


def form_csrf(request: web.Request) -> str:
    """Return the CSRF token for the page's forms, without creating a session row."""
    session = current(request)
    if session is not None:
        return session.csrf_token
    cached: str | None = request.get(ANON_CSRF)
    if cached is not None:
        return cached
    nonce = _anon_nonce(request)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        request[ANON_COOKIE] = nonce
    token = _anon_token(request, nonce)
    request[ANON_CSRF] = token
    return token


def _anon_matches(request: web.Request, given: str | None) -> bool:
    nonce = _anon_nonce(request)
    if nonce is None or not given:
        return False
    return hmac.compare_digest(given.encode(), _anon_token(request, nonce).encode())


def hash_token(token: str) -> str:
    """Derive the database key of a cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


def current(request: web.Request) -> BrowserSession | None:
    """Return the request's session, if it has one."""
    return request.get(SESSION)


def current_user(request: web.Request) -> User | None:
    """Return the signed-in user, if any."""
    session = current(request)
    return session.user if session is not None else None


def is_foreign(path: str) -> bool:
    """Tell whether a path belongs to a front door that does not use browser sessions."""
    return path.startswith(FOREIGN_PREFIXES)


def _client_ip(request: web.Request) -> str:
    return client_address(request)


def client_address(request: web.Request) -> str:
    """Return the client's address: the socket's, or the one our own proxies recorded.

    Behind `TRUSTED_PROXY_HOPS` proxies the client is that many entries from the right of
    X-Forwarded-For (entries further left are whatever the client claimed).
    """
    hops = request.app[keys.SETTINGS].TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.remote or "unknown"


async def ensure_session(request: web.Request) -> BrowserSession:
    """Return the request's session, starting an anonymous one when there is none."""
    existing = current(request)
    if existing is not None:
        return existing
    return await _start(request, user=None, data={})


async def sign_in(request: web.Request, user: User) -> BrowserSession:
    """Rotate to a fresh session for `user` (no fixation), ending the anonymous one."""
    old = current(request)
    now = datetime.now(UTC)
    keep: dict[str, Any] = {}
    if old is not None:
        async with request.app[keys.SESSIONMAKER].begin() as db:
            await accounts.revoke_session(db, old.key, now)
            await accounts.purge_expired(db, now, PURGE_AFTER)
            await throttle.purge(db, now - PURGE_AFTER)
    return await _start(request, user=user, data=keep)


async def sign_out(request: web.Request) -> None:
    """End the current session on the server and clear the cookie."""
    session = current(request)
    if session is None:
        return
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.revoke_session(db, session.key, datetime.now(UTC))
    session.cleared = True
    session.user = None


async def save_data(request: web.Request, data: dict[str, Any]) -> None:
    """Replace the session's data."""
    session = await ensure_session(request)
    session.data = data
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.set_session_data(db, session.key, data)


async def _start(
    request: web.Request, *, user: User | None, data: dict[str, Any]
) -> BrowserSession:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session = BrowserSession(
        key=hash_token(token),
        csrf_token=secrets.token_urlsafe(32),
        user=user,
        data=data,
        created_at=now,
        cookie_token=token,
    )
    async with request.app[keys.SESSIONMAKER].begin() as db:
        await accounts.create_session(
            db,
            session_id=session.key,
            csrf_token=session.csrf_token,
            user_id=user.id if user is not None else None,
            expires_at=now + (USER_IDLE if user is not None else ANON_IDLE),
            data=data,
            ip=_client_ip(request),
            user_agent=request.headers.get("User-Agent"),
        )
    request[SESSION] = session
    return session


async def _load(request: web.Request) -> BrowserSession | None:
    token = request.cookies.get(cookie_name(request))
    if not token or len(token) > 200:
        return None
    key = hash_token(token)
    now = datetime.now(UTC)
    async with request.app[keys.SESSIONMAKER].begin() as db:
        found = await accounts.live_session(db, key, now)
        if found is None:
            return None
        row, user = found
        if row.user_id is not None and now - row.created_at > USER_MAX:
            await accounts.revoke_session(db, key, now)
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            idle = USER_IDLE if row.user_id is not None else ANON_IDLE
            await accounts.touch_session(db, key, now=now, expires_at=now + idle)
    return BrowserSession(
        key=key,
        csrf_token=row.csrf_token,
        user=user,
        data=dict(row.data or {}),
        created_at=row.created_at,
    )


async def purge_forever(app: web.Application, every: float = PURGE_EVERY) -> None:
    """Delete expired sessions and old counted requests now, then every `every` seconds."""
    while True:
        try:
            now = datetime.now(UTC)
            async with app[keys.SESSIONMAKER].begin() as db:
                await accounts.purge_expired(db, now, PURGE_AFTER)
                await throttle.purge(db, now - PURGE_AFTER)
        except Exception:  # the database may be restarting; try again next round
            log.exception("session purge failed")
        await asyncio.sleep(every)


def csrf_matches(session: BrowserSession | None, given: str | None) -> bool:
    """Compare a submitted CSRF token with the session's, in constant time."""
    if session is None or not given:
        return False
    return hmac.compare_digest(given.encode(), session.csrf_token.encode())


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the browser session and refuse state changes without the session's CSRF token."""
    if is_foreign(request.path):
        return await handler(request)
    session = await _load(request)
    if session is not None:
        request[SESSION] = session
    if request.method in UNSAFE_METHODS and request.path not in CSRF_EXEMPT:
        await _check_csrf(request, session)
    return await handler(request)


async def _check_csrf(request: web.Request, session: BrowserSession | None) -> None:
    if request.path.startswith("/api/"):
        if session is None or session.user is None:
            raise web.HTTPUnauthorized()
        if not csrf_matches(session, request.headers.get(CSRF_HEADER)):
            raise web.HTTPForbidden(reason="CSRF token missing or wrong")
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type == "multipart/form-data" and _streamed(request):
        return  # the handler checks the form's token before it keeps any file (check_form)
    if given is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    # The form may have been rendered before this visitor had a session: either token is theirs.
    if not csrf_matches(session, given) and not _anon_matches(request, given):
        raise web.HTTPForbidden(reason="CSRF token missing or wrong")


def streamed_form(handler: Handler) -> Handler:
    """Mark a page handler that reads its multipart form as a stream and calls check_form.

    Files can be larger than any body kept in memory, so the middleware does not parse the
    form for the token; the handler reads the token field (first in the form) itself.
    """
    setattr(handler, _STREAMED, True)
    return handler


def _streamed(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, _STREAMED, False))


def check_form(request: web.Request, given: str | None) -> None:
    """Refuse a streamed form whose CSRF token is not this visitor's (403)."""
    if not csrf_matches(current(request), given) and not _anon_matches(request, given):
        raise web.HTTPForbidden(reason="CSRF token missing or wrong")


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Send the session cookie when it was created, rotated or ended during the request."""
    nonce = request.get(ANON_COOKIE)
    if nonce is not None:
        response.headers.add("Set-Cookie", _cookie(request, anon_cookie_name(request), nonce))
    session = current(request)
    if session is None:
        return
    name = cookie_name(request)
    # aiohttp has already serialized response.cookies when this signal runs: add the header.
    if session.cleared:
        response.headers.add("Set-Cookie", _cookie(request, name, "", max_age=0))
    elif session.cookie_token is not None:
        max_age = int(USER_MAX.total_seconds()) if session.user is not None else None
        response.headers.add("Set-Cookie", _cookie(request, name, session.cookie_token, max_age))
        session.cookie_token = None


def _cookie(request: web.Request, name: str, value: str, max_age: int | None = None) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    if max_age is not None:
        morsel["max-age"] = str(max_age)
        if max_age == 0:
            morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if request.app[keys.SETTINGS].cookie_secure:
        morsel["secure"] = True
    return morsel.OutputString()
