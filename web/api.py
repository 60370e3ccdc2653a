"""JSON API of the web area: session auth, `X-CSRF-Token` on writes, precise status codes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from db.models import Origin, User
from tickets import keys
from tickets.errors import FormInvalid, HelpdeskRejected, TicketError, TicketNotFound
from tickets.uploads import UploadRefused, spooled
from web import sessions
from web.http import BadJson, path_id, read_json
from web.uploads import policy_of, read_message_form

# JSON names of the ticket form -> the form's field names.
JSON_FIELDS = {
    "title": "title",
    "description": "description",
    "complexity": "complexity",
    "sector": "sector",
    "forOther": "for_other",
    "beneficiaryName": "beneficiary_name",
    "beneficiaryEmail": "beneficiary_email",
}
FIELD_NAMES = {form: api for api, form in JSON_FIELDS.items()}


def setup_api(app: web.Application) -> None:
    """Register the API routes."""
    app.router.add_get("/api/session", session_info)
    app.router.add_get("/api/conversations", list_conversations)
    app.router.add_post("/api/conversations", create_conversation)
    app.router.add_get(r"/api/conversations/{id:\d{1,20}}", get_conversation)
    app.router.add_get(r"/api/conversations/{id:\d{1,20}}/messages", list_messages)
    app.router.add_post(r"/api/conversations/{id:\d{1,20}}/messages", create_message)


def _error(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def _failure(exc: TicketError) -> web.Response:
    """Answer a service error: the JSON API's one error-to-response mapping."""
    if isinstance(exc, UploadRefused):
        return _refused(exc)
    if isinstance(exc, FormInvalid):
        fields = {FIELD_NAMES.get(name, name): code for name, code in exc.errors.items()}
        return _error(422, "validation", fields=fields)
    if isinstance(exc, TicketNotFound):
        return _error(404, "not_found")
    if isinstance(exc, HelpdeskRejected):
        return _error(502, "helpdesk_rejected", message=exc.message)
    return _error(503, "helpdesk_unavailable")


def _user(request: web.Request) -> User:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def user_json(user: User) -> dict[str, Any]:
    """Describe the signed-in user."""
    return {
        "id": user.id,
        "name": user.display_name,
        "email": user.email,
        "locale": user.locale,
        "microsoftLinked": bool(user.entra_oid),
    }


async def session_info(request: web.Request) -> web.Response:
    """Return the user (or null) and the CSRF token for scripted clients."""
    session = sessions.current(request)
    user = session.user if session is not None else None
    return web.json_response(
        {"user": user_json(user) if user else None, "csrf_token": sessions.form_csrf(request)},
        headers={"Cache-Control": "no-store"},
    )


async def list_conversations(request: web.Request) -> web.Response:
    """List the user's tickets (`status`, `limit`, `offset` query parameters)."""
    user = _user(request)
    try:
        limit = int(request.query.get("limit", "20"))
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        return _error(400, "bad_request", message="limit and offset must be integers")
    status = request.query.get("status", "all")
    if status not in ("all", "open", "resolved"):
        return _error(400, "bad_request", message="status must be open, resolved or all")
    tickets, total = await request.app[keys.SERVICE].list_tickets(
        user.id, status=status, limit=limit, offset=offset
    )
    return web.json_response(
        {"conversations": [ticket.to_json() for ticket in tickets], "total": total}
    )


async def create_conversation(request: web.Request) -> web.Response:
    """Open a ticket; 201 with it, 422 with field errors, 503 when the helpdesk is down."""
    user = _user(request)
    try:
        body = await read_json(request)
    except BadJson:
        return _error(400, "bad_json")
    raw = {form: body.get(api) for api, form in JSON_FIELDS.items()}
    if isinstance(raw["for_other"], bool):
        raw["for_other"] = "on" if raw["for_other"] else ""
    key = request.headers.get("Idempotency-Key", "")[:100] or None
    try:
        ticket = await request.app[keys.SERVICE].open_ticket(
            user.id,
            raw,
            origin=Origin.WEB,
            idempotency_key=f"api:{user.id}:{key}" if key else None,
        )
    except TicketNotFound:
        # The key names a ticket this user does not own.
        return _error(409, "idempotency_key_conflict")
    except TicketError as exc:
        return _failure(exc)
    return web.json_response(ticket.to_json(), status=201)


async def get_conversation(request: web.Request) -> web.Response:
    """Return one of the user's tickets (404 for anyone else's)."""
    user = _user(request)
    try:
        ticket = await request.app[keys.SERVICE].get_ticket(user.id, path_id(request))
    except TicketNotFound:
        return _error(404, "not_found")
    return web.json_response(ticket.to_json())


async def list_messages(request: web.Request) -> web.Response:
    """Return the ticket's timeline (`after` = the last id the client has)."""
    user = _user(request)
    try:
        after = max(0, int(request.query.get("after", "0")))
    except ValueError:
        return _error(400, "bad_request", message="after must be an integer")
    try:
        items = await request.app[keys.SERVICE].timeline(
            user.id, path_id(request), after_id=min(after, 2**63 - 1)
        )
    except TicketNotFound:
        return _error(404, "not_found")
    return web.json_response({"messages": [item.to_json() for item in items]})


async def create_message(request: web.Request) -> web.Response:
    """Post the employee's message (JSON, or multipart with files); 201 with the stored message."""
    user = _user(request)
    ticket_id = path_id(request)
    key = request.headers.get("Idempotency-Key", "")[:100] or None
    if request.content_type == "multipart/form-data":
        return await _create_with_files(request, user, ticket_id, key)
    try:
        body = await read_json(request)
    except BadJson:
        return _error(400, "bad_json")
    content = body.get("content")
    if not isinstance(content, str):
        return _error(422, "validation", fields={"content": "required"})
    try:
        item = await request.app[keys.SERVICE].post_message(
            user.id, ticket_id, content, origin=Origin.WEB, idempotency_key=key
        )
    except TicketError as exc:
        return _failure(exc)
    return web.json_response(item.to_json(), status=201)


async def _create_with_files(
    request: web.Request, user: User, ticket_id: int, key: str | None
) -> web.Response:
    """Spool the files to disk as they arrive, then send text and files as one message."""
    with spooled(policy_of(request)) as spool:
        try:
            fields = await read_message_form(request, spool)
        except (ValueError, AssertionError):
            return _error(400, "bad_multipart")
        except UploadRefused as exc:
            return _failure(exc)
        try:
            item = await request.app[keys.SERVICE].post_message(
                user.id,
                ticket_id,
                fields.get("content", ""),
                origin=Origin.WEB,
                files=spool.files,
                idempotency_key=key,
            )
        except TicketError as exc:
            return _failure(exc)
    return web.json_response(item.to_json(), status=201)


def _refused(exc: UploadRefused) -> web.Response:
    """Answer a refused file: 413 too big, 422 too many, wrong type or nameless; the limit named."""
    messages = {
        "too_large": f"each file may have at most {exc.limit} bytes",
        "too_many": f"at most {exc.limit} files per message",
        "type_refused": f"this type of file is not accepted (allowed: {exc.limit})",
        "no_name": "every file needs a name",
    }
    return _error(
        exc.status,
        "attachment_refused",
        reason=exc.reason,
        limit=exc.limit,
        name=exc.name,
        message=messages[exc.reason],
    )
