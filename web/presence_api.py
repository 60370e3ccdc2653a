"""JSON routes of presence: the employee's typing and read receipts (`/typing`, `/seen`)."""

from __future__ import annotations

from aiohttp import web

from tickets import keys
from tickets.errors import HelpdeskRejected, TicketError, TicketNotFound
from web import sessions
from web.http import MAX_ID, BadJson, path_id, read_json


def setup_presence_api(app: web.Application) -> None:
    """Register the typing and seen routes."""
    app.router.add_post(r"/api/conversations/{id:\d{1,20}}/typing", typing)
    app.router.add_post(r"/api/conversations/{id:\d{1,20}}/seen", seen)


def _error(status: int, error: str, **extra: object) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def _failure(exc: TicketError) -> web.Response:
    if isinstance(exc, TicketNotFound):
        return _error(404, "not_found")
    if isinstance(exc, HelpdeskRejected):
        return _error(502, "helpdesk_rejected", message=exc.message)
    return _error(503, "helpdesk_unavailable")


async def typing(request: web.Request) -> web.Response:
    """Say whether the employee is typing (`{"on": bool}`); Chatwoot hears each change once."""
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    ticket_id = path_id(request)
    try:
        body = await read_json(request)
    except BadJson:
        return _error(400, "bad_json")
    on = body.get("on")
    if not isinstance(on, bool):
        return _error(422, "validation", fields={"on": "must_be_boolean"})
    try:
        told = await request.app[keys.PRESENCE].typing(user.id, ticket_id, on)
    except TicketError as exc:
        return _failure(exc)
    return web.json_response({"on": on, "relayed": told})


async def seen(request: web.Request) -> web.Response:
    """Mark the ticket seen (up to `{"upTo": itemId}` when given); answer the unread counts."""
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    ticket_id = path_id(request)
    up_to: int | None = None
    # `body_exists`, not `can_read_body`: the body deadline middleware has read it already.
    if request.body_exists and request.content_length != 0:
        try:
            body = await read_json(request)
        except BadJson:
            return _error(400, "bad_json")
        raw = body.get("upTo")
        if raw is not None:
            if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= MAX_ID:
                return _error(422, "validation", fields={"upTo": "must_be_item_id"})
            up_to = raw
    presence = request.app[keys.PRESENCE]
    try:
        read = await presence.seen(user.id, ticket_id, up_to)
        ticket = await request.app[keys.SERVICE].get_ticket(user.id, ticket_id)
    except TicketError as exc:
        return _failure(exc)
    total = await presence.unread_total(user.id)
    return web.json_response({"read": read, "unread": ticket.unread, "unreadTotal": total})
