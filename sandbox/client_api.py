"""The public Client API under ``/public/api/v1/inboxes/{inbox_identifier}``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox import shapes, surveys
from sandbox.attachments import Upload, uploads_from_form
from sandbox.desk import Desk
from sandbox.errors import RecordInvalid
from sandbox.inbox import InboxSettings
from sandbox.keys import DESK
from sandbox.state import ContactInbox, Conversation, Inbox

PREFIX = "/public/api/v1/inboxes"
PAGE_SIZE = 20
AFTER_PAGE_SIZE = 100
BETWEEN_PAGE_SIZE = 1000

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def not_found() -> web.Response:
    """Return Rails' production 404 body."""
    return web.json_response({"status": 404, "error": "Not Found"}, status=404)


class _NotFound(Exception):
    pass


@web.middleware
async def client_api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the ``delay_ms``/``http_status`` faults and Rails' error bodies to the Client API."""
    if not request.path.startswith("/public/"):
        return await handler(request)
    faults = request.app[DESK].state.faults
    if faults.delay_ms:
        await asyncio.sleep(faults.delay_ms / 1000)
    if faults.http_status is not None:
        status = faults.http_status
        if faults.count is not None:
            faults.count -= 1
            if faults.count <= 0:
                faults.http_status, faults.count = None, None
        if status == 429:
            # Rack::Attack's throttled response: plain text, no Retry-After header.
            return web.Response(status=429, text="Retry later\n", content_type="text/plain")
        reason = _REASONS.get(status, "Error")
        return web.json_response({"status": status, "error": reason}, status=status)
    try:
        response = await handler(request)
        if faults.delay_after_ms:
            await asyncio.sleep(faults.delay_after_ms / 1000)
        return response
    except (_NotFound, web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return not_found()
    except RecordInvalid as exc:
        return web.json_response({"message": exc.message, "attributes": exc.attributes}, status=422)


async def read_params(request: web.Request, uploads: list[Upload] | None = None) -> dict[str, Any]:
    """Read a JSON, form or multipart body (and the query) into one dict, as Rails params.

    With ``uploads``, the file parts named ``attachments[]`` are collected into it.
    """
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise web.HTTPBadRequest(text="invalid JSON") from exc
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    if uploads is not None:
        uploads.extend(uploads_from_form(form, "attachments[]"))
    for key, value in form.items():
        if not isinstance(value, str):
            continue
        # Rails nests "custom_attributes[ticket_ref]" into {"custom_attributes": {...}}.
        if key.endswith("]") and "[" in key:
            outer, inner = key[:-1].split("[", 1)
            nested = params.setdefault(outer, {})
            if isinstance(nested, dict):
                nested[inner] = value
        else:
            params[key] = value
    return params


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def _inbox(request: web.Request) -> Inbox:
    inbox = _desk(request).state.inbox_by_identifier(request.match_info["inbox_identifier"])
    if inbox is None:
        raise _NotFound
    return inbox


def _contact_inbox(request: web.Request) -> ContactInbox:
    ci = _desk(request).state.contact_inbox(_inbox(request), request.match_info["source_id"])
    if ci is None:
        raise _NotFound
    return ci


def _visible(request: web.Request, ci: ContactInbox) -> list[Conversation]:
    convs = _desk(request).state.conversations.values()
    if ci.hmac_verified:
        return [c for c in convs if c.contact is ci.contact]
    return [c for c in convs if c.contact_inbox is ci]


def _conversation(request: web.Request) -> Conversation:
    ci = _contact_inbox(request)
    try:
        display_id = int(request.match_info["conversation_id"])
    except ValueError:
        raise _NotFound from None
    for conv in _visible(request, ci):
        if conv.display_id == display_id:
            return conv
    raise _NotFound


async def show_inbox(request: web.Request) -> web.Response:
    """Show the inbox."""
    inbox = _inbox(request)
    state = _desk(request).state
    # The second inbox keeps Chatwoot's defaults; only our own inbox is configurable.
    settings = state.settings if inbox is state.inbox else InboxSettings()
    return web.json_response(
        {
            "identifier": inbox.identifier,
            "identity_validation_enabled": False,
            "name": inbox.name,
            "timezone": settings.timezone,
            "working_hours": settings.working_hours,
            "working_hours_enabled": settings.working_hours_enabled,
            "csat_survey_enabled": settings.csat_survey_enabled,
            "greeting_enabled": settings.greeting_enabled,
        }
    )


async def create_contact(request: web.Request) -> web.Response:
    """Create a contact (idempotent on an existing ``source_id``)."""
    inbox = _inbox(request)
    ci = _desk(request).create_contact(inbox, await read_params(request))
    return web.json_response(shapes.contact_short(ci))


async def show_contact(request: web.Request) -> web.Response:
    """Show a contact by ``source_id``."""
    return web.json_response(shapes.contact_short(_contact_inbox(request)))


async def update_contact(request: web.Request) -> web.Response:
    """Update a contact; answer with the full contact record."""
    ci = _contact_inbox(request)
    contact = _desk(request).update_contact(ci, await read_params(request))
    return web.json_response(shapes.contact_record(_desk(request).state, contact))


async def create_conversation(request: web.Request) -> web.Response:
    """Create a conversation (only ``custom_attributes`` is taken)."""
    ci = _contact_inbox(request)
    params = await read_params(request)
    desk = _desk(request)
    conv = desk.create_conversation(ci, params.get("custom_attributes"))
    if conv.assignee is not None and desk.state.settings.enable_auto_assignment:
        # Chatwoot's jobs often beat the HTTP answer; the sandbox makes that certain.
        await desk.deliver_now(conv)
    return web.json_response(shapes.public_conversation(desk.state, conv))


async def list_conversations(request: web.Request) -> web.Response:
    """List every conversation of the contact session, each with all its chat messages."""
    ci = _contact_inbox(request)
    state = _desk(request).state
    return web.json_response([shapes.public_conversation(state, c) for c in _visible(request, ci)])


async def show_conversation(request: web.Request) -> web.Response:
    """Show one conversation."""
    conv = _conversation(request)
    return web.json_response(shapes.public_conversation(_desk(request).state, conv))


async def toggle_status(request: web.Request) -> web.Response:
    """Resolve the conversation (the only thing this route does)."""
    conv = _conversation(request)
    _desk(request).resolve_by_contact(conv)
    return web.json_response(shapes.public_conversation(_desk(request).state, conv))


async def toggle_typing(request: web.Request) -> web.Response:
    """Relay the contact's typing status; empty 200."""
    conv = _conversation(request)
    params = await read_params(request)
    _desk(request).contact_typing(conv, str(params.get("typing_status", "")))
    return web.Response(status=200)


async def update_last_seen(request: web.Request) -> web.Response:
    """Record that the contact has seen the conversation; empty 200."""
    conv = _conversation(request)
    _desk(request).contact_seen(conv)
    return web.Response(status=200)


def _ruby_int(value: str) -> int:
    """Read a number as Ruby's ``to_i`` does (leading digits, else 0)."""
    digits = ""
    for char in value.strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else 0


async def list_messages(request: web.Request) -> web.Response:
    """Page chat messages as Chatwoot's finder does, always oldest first.

    Latest 20; ``before``: the 20 before it; ``after``: up to 100 after it; both: up to 1000
    between them.
    """
    conv = _conversation(request)
    messages = sorted(conv.chat_messages(), key=lambda m: (m.created_at, m.id))
    after, before = request.query.get("after"), request.query.get("before")
    if after:
        after_id = _ruby_int(after)
        messages = [m for m in messages if m.id > after_id]
        if before:
            before_id = _ruby_int(before)
            page = [m for m in messages if m.id < before_id][:BETWEEN_PAGE_SIZE]
        else:
            page = messages[:AFTER_PAGE_SIZE]
    else:
        if before:
            before_id = _ruby_int(before)
            messages = [m for m in messages if m.id < before_id]
        page = messages[-PAGE_SIZE:]
    state = _desk(request).state
    return web.json_response([shapes.public_message(state, m) for m in page])


async def create_message(request: web.Request) -> web.Response:
    """Post a message as the contact (multipart: up to 15 ``attachments[]`` files)."""
    conv = _conversation(request)
    uploads: list[Upload] = []
    params = await read_params(request, uploads)
    content = params.get("content")
    echo_id = params.get("echo_id")
    msg = _desk(request).contact_message(
        conv,
        None if content is None else str(content),
        None if echo_id is None else str(echo_id),
        uploads,
    )
    return web.json_response(shapes.public_message(_desk(request).state, msg))


async def update_message(request: web.Request) -> web.Response:
    """Answer a bot question or the CSAT survey: ``submitted_values`` on any message."""
    conv = _conversation(request)
    try:
        message_id = int(request.match_info["message_id"])
    except ValueError:
        raise _NotFound from None
    msg = next((m for m in conv.messages if m.id == message_id), None)
    if msg is None:
        raise _NotFound
    if surveys.locked(msg):
        return web.json_response({"error": surveys.LOCKED}, status=422)
    params = await read_params(request)
    if "submitted_values" in params:
        surveys.answer(_desk(request), msg, params["submitted_values"])
    return web.json_response(shapes.public_message(_desk(request).state, msg))


def add_routes(app: web.Application) -> None:
    """Register the Client API routes."""
    base = PREFIX + "/{inbox_identifier}"
    contact = base + "/contacts/{source_id}"
    conv = contact + "/conversations/{conversation_id}"
    app.router.add_get(base, show_inbox)
    app.router.add_post(base + "/contacts", create_contact)
    app.router.add_get(contact, show_contact)
    app.router.add_patch(contact, update_contact)
    app.router.add_put(contact, update_contact)
    app.router.add_post(contact + "/conversations", create_conversation)
    app.router.add_get(contact + "/conversations", list_conversations)
    app.router.add_get(conv, show_conversation)
    app.router.add_post(conv + "/toggle_status", toggle_status)
    app.router.add_post(conv + "/toggle_typing", toggle_typing)
    app.router.add_post(conv + "/update_last_seen", update_last_seen)
    app.router.add_get(conv + "/messages", list_messages)
    app.router.add_post(conv + "/messages", create_message)
    app.router.add_patch(conv + "/messages/{message_id}", update_message)
    app.router.add_put(conv + "/messages/{message_id}", update_message)
