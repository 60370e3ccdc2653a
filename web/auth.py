"""Accounts: sign-up, sign-in (password, Microsoft), sign-out and the language choice."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

import i18n
from db import accounts, throttle
from db.models import User
from tickets import keys
from tickets.accounts import SIGNUP_WINDOW, SignUp
from tickets.forms import EMAIL_RE
from tickets.users import find_or_create_entra_user
from web import keys as web_keys
from web import sessions
from web.account_mail import link_origin
from web.http import field, redirect, safe_next, site_origin
from web.microsoft import MicrosoftLoginFailed
from web.passwords import PASSWORD_MAX, password_problem
from web.render import locale_of, render

log = logging.getLogger(__name__)

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
ACCOUNT_GUESSES = throttle.Limit(MAX_FAILURES_PER_ACCOUNT, THROTTLE_WINDOW)
ADDRESS_GUESSES = throttle.Limit(MAX_FAILURES_PER_ADDRESS, THROTTLE_WINDOW)
# Failures older than this finished long ago; younger ones may be guesses racing a success.
FAILURES_SETTLED = timedelta(seconds=30)
NAME_MAX = 200


def setup_auth(app: web.Application) -> None:
    """Register the account routes."""
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_submit)
    app.router.add_get("/signup", signup_page)
    app.router.add_post("/signup", signup_submit)
    app.router.add_post("/logout", logout)
    app.router.add_get("/auth/microsoft", microsoft_start)
    app.router.add_get("/auth/microsoft/callback", microsoft_callback)
    app.router.add_post("/auth/microsoft/callback", microsoft_callback)
    app.router.add_post("/profile/microsoft", microsoft_link)
    app.router.add_post("/locale", choose_locale)


# ---- password sign-in ----------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """Show the sign-in form (signed-in visitors go straight to their tickets)."""
    if sessions.current_user(request) is not None:
        return redirect(safe_next(request.query.get("next")))
    sessions.form_csrf(request)
    return _login(request, email="", error=None)


def _login(
    request: web.Request, *, email: str, error: str | None, status: int = 200
) -> web.Response:
    return render(
        request,
        "login.html",
        {
            "email": email,
            "error": error,
            "next": safe_next(request.query.get("next")),
            "nav": "login",
            "reset_done": request.query.get("reset") == "1",
        },
        status=status,
    )


async def login_submit(request: web.Request) -> web.Response:
    """Check e-mail and password with throttling; the same answer for every failure."""
    form = await request.post()
    email = field(form, "email", 400).strip().lower()
    password = field(form, "password", PASSWORD_MAX + 1)
    target = safe_next(field(form, "next", 600))
    account_key, address_key = f"email:{email}", f"ip:{sessions.client_address(request)}"
    db_sessions = request.app[keys.SESSIONMAKER]
    # Counted (and committed) before the password is checked: a guess that is still being
    # hashed already uses up its place, so parallel guesses cannot all read an old count.
    async with db_sessions.begin() as db:
        attempt = await throttle.claim(
            db,
            [(account_key, ACCOUNT_GUESSES), (address_key, ADDRESS_GUESSES)],
            datetime.now(UTC),
        )
    if attempt is None:
        response = _login(request, email=email, error="login.throttled", status=429)
        response.headers["Retry-After"] = str(int(THROTTLE_WINDOW.total_seconds()))
        return response
    user: User | None = None
    if email and password:
        async with db_sessions() as db:
            user = await accounts.user_by_email(db, email)
    passwords = request.app[web_keys.PASSWORDS]
    stored = user.password_hash if user is not None else None
    matches, rehash = await passwords.verify(stored, password or "-")
    if not matches or user is None:
        return _login(request, email=email, error="login.failed", status=401)
    async with db_sessions.begin() as db:
        if rehash:
            await accounts.set_password_hash(db, user.id, await passwords.hash(password))
        # A success is not a failure: forget the account's settled failures (a typo minutes
        # ago) and this attempt, but not guesses that may still be racing this one; while
        # they race, this attempt keeps its place too, or one more guess would be checked.
        await throttle.forget_settled(db, account_key, settled=FAILURES_SETTLED)
        if not await throttle.racing(db, account_key, settled=FAILURES_SETTLED, besides=attempt):
            await throttle.forget(db, attempt)
    await sessions.sign_in(request, user)
    return redirect(target)


async def signup_page(request: web.Request) -> web.Response:
    """Show the sign-up form."""
    if sessions.current_user(request) is not None:
        return redirect("/")
    sessions.form_csrf(request)
    return _signup(request, values={}, errors={})


def _signup(
    request: web.Request, *, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    context = {
        "values": values,
        "errors": errors,
        "nav": "signup",
        "domains": ", ".join(request.app[keys.SETTINGS].SIGNUP_ALLOWED_DOMAINS),
        "throttled": status == 429,
    }
    return render(request, "signup.html", context, status=status)


async def signup_submit(request: web.Request) -> web.Response:
    """Create a password account and mail its link; the answer never says the address exists."""
    form = await request.post()
    name = " ".join(field(form, "name", 1000).split())
    email = field(form, "email", 1000).strip().lower()
    password = field(form, "password", PASSWORD_MAX + 1)
    settings = request.app[keys.SETTINGS]
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "required"
    elif len(name) > NAME_MAX:
        errors["name"] = "too_long"
    if not email:
        errors["email"] = "required"
    elif len(email) > 320 or not EMAIL_RE.match(email):
        errors["email"] = "invalid_email"
    elif not settings.signup_domain_allowed(email):
        errors["email"] = "domain_not_allowed"
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    values = {"name": name[:NAME_MAX], "email": email[:320]}
    if errors:
        return _signup(request, values=values, errors=errors, status=422)
    # Hashed for known addresses too, so both answers take the same time.
    password_hash = await request.app[web_keys.PASSWORDS].hash(password)
    outcome = await request.app[keys.ACCOUNT_MAIL].sign_up(
        email=email,
        name=name,
        password_hash=password_hash,
        locale=locale_of(request),
        client=sessions.client_address(request),
        origin=link_origin(request),
    )
    if outcome is SignUp.THROTTLED:
        response = _signup(request, values=values, errors={}, status=429)
        response.headers["Retry-After"] = str(int(SIGNUP_WINDOW.total_seconds()))
        return response
    session = await sessions.ensure_session(request)
    await sessions.save_data(request, {**session.data, "signup_email": email})
    return redirect("/signup/sent")


async def logout(request: web.Request) -> web.Response:
    """End the session on the server (POST with the CSRF token)."""
    await sessions.sign_out(request)
    return redirect("/login")


# ---- Microsoft -----------------------------------------------------------------------------


def _microsoft(request: web.Request) -> Any:
    login = request.app.get(web_keys.MICROSOFT)
    if login is None:
        raise web.HTTPNotFound()
    return login


async def _begin_flow(request: web.Request, purpose: str, target: str) -> web.Response:
    login = _microsoft(request)
    session = await sessions.ensure_session(request)
    redirect_uri = f"{site_origin(request)}/auth/microsoft/callback"
    try:
        flow = await login.start(redirect_uri)
    except MicrosoftLoginFailed:
        return _login(request, email="", error="login.microsoft_failed", status=503)
    data = dict(session.data)
    data["ms_flow"] = flow
    data["ms_purpose"] = purpose
    data["ms_next"] = target
    if purpose == "link" and session.user is not None:
        data["ms_user"] = session.user.id
    await sessions.save_data(request, data)
    return web.Response(status=302, headers={"Location": str(flow["auth_uri"])})


async def microsoft_start(request: web.Request) -> web.Response:
    """Send the visitor to Microsoft's sign-in page (PKCE, state and nonce kept in the session)."""
    return await _begin_flow(request, "login", safe_next(request.query.get("next")))


async def microsoft_link(request: web.Request) -> web.Response:
    """Start linking a Microsoft account to the signed-in password account."""
    if sessions.current_user(request) is None:
        raise web.HTTPUnauthorized()
    return await _begin_flow(request, "link", "/profile")


RELAYED_FIELDS = ("code", "state", "error", "error_description", "session_state", "client_info")


async def microsoft_callback(request: web.Request) -> web.Response:
    """Finish the flow: redeem the code, then sign in or link by the Entra oid + tid."""
    login = _microsoft(request)
    if request.method == "POST":
        form = await request.post()
        answer = {name: field(form, name, 8000) for name in RELAYED_FIELDS if name in form}
        relayed = field(form, "relay", 10) == "1"
    else:
        answer = {name: request.query[name] for name in RELAYED_FIELDS if name in request.query}
        relayed = False
    session = sessions.current(request)
    flow = session.data.get("ms_flow") if session is not None else None
    if request.method == "POST" and session is None and not relayed:
        # The provider's cross-site POST carries no SameSite=Lax cookie: hand the answer to
        # a page of ours that posts it again, same-site, with the session cookie.
        return render(request, "relay.html", {"fields": answer})
    if session is None or not isinstance(flow, dict):
        return _login(request, email="", error="login.microsoft_failed", status=400)
    data = dict(session.data)
    purpose = data.pop("ms_purpose", "login")
    target = safe_next(data.pop("ms_next", "/"))
    link_user = data.pop("ms_user", None)
    data.pop("ms_flow", None)
    # The flow is single-use: drop it before redeeming, so a replayed callback finds nothing.
    await sessions.save_data(request, data)
    try:
        identity = await login.finish(flow, answer)
    except MicrosoftLoginFailed:
        return _login(request, email="", error="login.microsoft_failed", status=400)
    db_sessions = request.app[keys.SESSIONMAKER]
    if purpose == "link":
        user = session.user
        if user is None or user.id != link_user:
            raise web.HTTPForbidden()
        if user.entra_oid and (user.entra_oid, user.entra_tid) != (identity.oid, identity.tid):
            return redirect("/profile?microsoft=other")
        async with db_sessions.begin() as db:
            linked = await accounts.link_entra(db, user.id, oid=identity.oid, tid=identity.tid)
        return redirect("/profile?microsoft=" + ("done" if linked else "taken"))
    async with db_sessions.begin() as db:
        user = await find_or_create_entra_user(
            db,
            oid=identity.oid,
            tid=identity.tid,
            name=identity.name,
            email=identity.email,
            email_verified=identity.email is not None,
        )
    await sessions.sign_in(request, user)
    return redirect(target)


# ---- language -----------------------------------------------------------------------------


async def choose_locale(request: web.Request) -> web.Response:
    """Switch the page language (the user's setting, or the anonymous session's)."""
    form = await request.post()
    locale = i18n.normalize_locale(field(form, "locale", 20)) or locale_of(request)
    user = sessions.current_user(request)
    if user is not None:
        async with request.app[keys.SESSIONMAKER].begin() as db:
            await accounts.set_locale(db, user.id, locale)
    else:
        session = await sessions.ensure_session(request)
        await sessions.save_data(request, {**session.data, "locale": locale})
    return redirect(safe_next(field(form, "next", 600)))
