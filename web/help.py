"""Help before a ticket on the web: article suggestions, "it solved it", and the admin stats."""

from __future__ import annotations

import logging

from aiohttp import web

from db.models import User
from tickets import keys
from tickets.help import MAX_QUERY, Surface, clean_form_key, is_admin
from web import sessions
from web.http import BadJson, read_json
from web.render import locale_of

log = logging.getLogger(__name__)

SURFACE: Surface = "web"


def setup_help(app: web.Application) -> None:
    """Register the suggestion and stats routes."""
    app.router.add_get("/api/help/articles", articles)
    app.router.add_post("/api/help/resolved", resolved)
    app.router.add_get("/api/admin/stats", admin_stats)


def _user(request: web.Request) -> User:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)


async def articles(request: web.Request) -> web.Response:
    """Suggest up to three Help Center articles for ``query`` (empty when the feature is off)."""
    user = _user(request)
    query = request.query.get("query", "")
    if len(query) > MAX_QUERY:
        return _error(400, "bad_request", f"query must be at most {MAX_QUERY} characters")
    found = await request.app[keys.HELP].suggest(
        query,
        locale_of(request),
        user_id=user.id,
        surface=SURFACE,
        form_key=clean_form_key(request.query.get("form")),
    )
    body = {
        "articles": [
            {"title": item.title, "snippet": item.snippet, "url": item.url} for item in found
        ]
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def resolved(request: web.Request) -> web.Response:
    """Count that a suggested article solved the problem of the form ``form``; no ticket."""
    user = _user(request)
    try:
        body = await read_json(request)
    except BadJson:
        return _error(400, "bad_json", "expected a JSON object")
    form_key = clean_form_key(body.get("form"))
    if form_key is None:
        return web.json_response({"error": "validation", "fields": {"form": "invalid"}}, status=422)
    counted = await request.app[keys.HELP].resolved(
        user_id=user.id, surface=SURFACE, form_key=form_key
    )
    return web.json_response({"resolved": True, "counted": counted})


async def count_ticket_opened(request: web.Request, user: User, form_key: str | None) -> None:
    """Count a ticket opened from a web form that had been shown suggestions."""
    key = clean_form_key(form_key)
    if key is None or not request.app[keys.HELP].enabled:
        return
    try:
        await request.app[keys.HELP].ticket_opened(user_id=user.id, surface=SURFACE, form_key=key)
    except Exception:  # the ticket is open; a lost count must not turn that into an error page
        log.exception("could not count a ticket opened after suggestions")


async def admin_stats(request: web.Request) -> web.Response:
    """Return the last 30 days' suggestion outcomes and deflection rate (ADMIN_EMAILS only)."""
    user = _user(request)
    if not is_admin(request.app[keys.SETTINGS].ADMIN_EMAILS, user.email):
        raise web.HTTPForbidden()
    stats = await request.app[keys.HELP].stats()
    return web.json_response(
        {"helpCenterEnabled": request.app[keys.HELP].enabled, **stats.to_json()},
        headers={"Cache-Control": "no-store"},
    )
