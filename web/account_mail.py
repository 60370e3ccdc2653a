"""Pages of the mailed account links: verify the address, forgot and reset the password."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

from tickets import keys
from tickets.forms import EMAIL_RE
from web import keys as web_keys
from web import sessions
from web.http import field, redirect, site_origin
from web.passwords import PASSWORD_MAX, password_problem
from web.render import locale_of, render

TOKEN_MAX = 100


def setup_account_mail(app: web.Application) -> None:
    """Register the routes of the mailed links."""
    app.router.add_get("/signup/sent", signup_sent)
    app.router.add_get("/verify", verify)
    app.router.add_post("/verify/resend", verify_resend)
    app.router.add_get("/password/forgot", forgot_page)
    app.router.add_post("/password/forgot", forgot_submit)
    app.router.add_get("/password/reset", reset_page)
    app.router.add_post("/password/reset", reset_submit)


def link_origin(request: web.Request) -> str:
    """Return the origin mailed links point at.

    PUBLIC_URL when set; without it only a loopback Host is believed, so a forged Host header
    can never send someone a reset link to another site.
    """
    settings = request.app[keys.SETTINGS]
    if settings.PUBLIC_URL:
        return site_origin(request)
    host = urlsplit(f"//{request.host}").hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return site_origin(request) if loopback else settings.base_url


async def signup_sent(request: web.Request) -> web.Response:
    """Tell the visitor to look for our mail (the same page whether the address was known)."""
    session = sessions.current(request)
    email = str(session.data.get("signup_email", "")) if session is not None else ""
    return render(request, "account_mail.html", {"view": "signup_sent", "email": email})


async def verify(request: web.Request) -> web.Response:
    """Confirm the address a verification link was mailed to."""
    token = request.query.get("token", "")[:TOKEN_MAX]
    user = await request.app[keys.ACCOUNT_MAIL].verify(token) if token else None
    if user is None:
        return render(request, "account_mail.html", {"view": "verify_invalid"}, status=400)
    if user.email_verified_at is not None:
        await request.app[keys.SERVICE].refresh_contact(user.id)
    return render(request, "account_mail.html", {"view": "verified", "email": user.email or ""})


async def verify_resend(request: web.Request) -> web.Response:
    """Mail a fresh verification link to the signed-in account."""
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    await request.app[keys.ACCOUNT_MAIL].resend_verification(
        user.id, client=sessions.client_address(request), origin=link_origin(request)
    )
    return redirect("/profile?verify=sent")


async def forgot_page(request: web.Request) -> web.Response:
    """Show the form that asks for a reset link."""
    sessions.form_csrf(request)
    return _forgot(request, email="", error=None, sent=False)


def _forgot(
    request: web.Request, *, email: str, error: str | None, sent: bool, status: int = 200
) -> web.Response:
    context = {"view": "forgot", "email": email, "error": error, "sent": sent}
    return render(request, "account_mail.html", context, status=status)


async def forgot_submit(request: web.Request) -> web.Response:
    """Mail a reset link; the same answer whether the address is known, throttled or not."""
    form = await request.post()
    email = field(form, "email", 400).strip().lower()
    if not email:
        return _forgot(request, email="", error="err.email.required", sent=False, status=422)
    if len(email) > 320 or not EMAIL_RE.match(email):
        return _forgot(
            request, email=email, error="err.email.invalid_email", sent=False, status=422
        )
    await request.app[keys.ACCOUNT_MAIL].request_reset(
        email,
        locale=locale_of(request),
        client=sessions.client_address(request),
        origin=link_origin(request),
    )
    return _forgot(request, email=email, error=None, sent=True)


def _token(request: web.Request, form_token: str = "") -> str:
    return (request.query.get("token", "") or form_token)[:TOKEN_MAX]


async def reset_page(request: web.Request) -> web.Response:
    """Show the new-password form for a live reset link."""
    sessions.form_csrf(request)
    token = _token(request)
    if not token or not await request.app[keys.ACCOUNT_MAIL].reset_is_live(token):
        return render(request, "account_mail.html", {"view": "reset_invalid"}, status=400)
    return _reset(request, token=token, error=None)


def _reset(
    request: web.Request, *, token: str, error: str | None, status: int = 200
) -> web.Response:
    context = {"view": "reset", "token": token, "error": error}
    return render(request, "account_mail.html", context, status=status)


async def reset_submit(request: web.Request) -> web.Response:
    """Set the new password, end every session of the account, then go to sign-in."""
    form = await request.post()
    token = _token(request, field(form, "token", TOKEN_MAX))
    password = field(form, "password", PASSWORD_MAX + 1)
    problem = password_problem(password)
    if problem:
        return _reset(request, token=token, error=f"err.password.{problem}", status=422)
    password_hash = await request.app[web_keys.PASSWORDS].hash(password)
    user = await request.app[keys.ACCOUNT_MAIL].reset_password(token, password_hash)
    if user is None:
        return render(request, "account_mail.html", {"view": "reset_invalid"}, status=400)
    await request.app[keys.SERVICE].refresh_contact(user.id)
    # This browser's own session ended with the others; drop its cookie too.
    await sessions.sign_out(request)
    return redirect("/login?reset=1")
