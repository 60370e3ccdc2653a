"""The agent-side JSON control API under ``/sandbox/api`` (the record of truth + fault switches)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.control_messages import message_record
from sandbox.desk import Desk
from sandbox.errors import RecordInvalid
from sandbox.faults import Faults
from sandbox.keys import DESK
from sandbox.state import Conversation, SandboxState
from sandbox.surveys import survey_message

PREFIX = "/sandbox/api"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def control_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer control-API errors as JSON."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except RecordInvalid as exc:
        return web.json_response({"message": exc.message, "attributes": exc.attributes}, status=422)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return _error(exc.status, exc.reason)
        raise


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(reason="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return body


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def _conversation(request: web.Request) -> Conversation:
    try:
        display_id = int(request.match_info["conversation_id"])
    except ValueError:
        raise web.HTTPNotFound(reason="no such conversation") from None
    conv = _desk(request).state.conversations.get(display_id)
    if conv is None:
        raise web.HTTPNotFound(reason="no such conversation")
    return conv


def conversation_record(state: SandboxState, conv: Conversation) -> dict[str, Any]:
    """Return a conversation as the control API shows it."""
    survey = survey_message(conv)
    ci = conv.contact_inbox
    return {
        "id": conv.display_id,
        "uuid": conv.uuid,
        "inbox_id": conv.inbox.id,
        "inbox_identifier": conv.inbox.identifier,
        "status": conv.status,
        "assignee": None
        if conv.assignee is None
        else {
            "id": conv.assignee.id,
            "name": conv.assignee.name,
            "available_name": conv.assignee.available_name,
        },
        "custom_attributes": conv.custom_attributes,
        "labels": conv.labels,
        "priority": conv.priority,
        "team": None if conv.team is None else {"id": conv.team.id, "name": conv.team.name},
        "snoozed_until": conv.snoozed_until,
        "contact": {
            "id": ci.contact.id,
            "name": ci.contact.name,
            "email": ci.contact.email,
            "identifier": ci.contact.identifier,
            "source_id": ci.source_id,
            "pubsub_token": ci.pubsub_token,
        },
        "created_at": conv.created_at,
        "messages": [message_record(state, m) for m in conv.messages],
        "csat_survey_response": survey.csat_survey_response if survey else None,
        "contact_typing": conv.contact_typing,
        "contact_typing_log": conv.contact_typing_log,
        "contact_last_seen_at": conv.contact_last_seen_at,
        "contact_seen_calls": conv.contact_seen_calls,
    }


async def list_conversations(request: web.Request) -> web.Response:
    """List every conversation of every inbox with all messages."""
    convs = sorted(_desk(request).state.conversations.values(), key=lambda c: c.display_id)
    return web.json_response([conversation_record(_desk(request).state, c) for c in convs])


async def show_conversation(request: web.Request) -> web.Response:
    """Show one conversation with all messages."""
    return web.json_response(conversation_record(_desk(request).state, _conversation(request)))


async def assign(request: web.Request) -> web.Response:
    """Assign to ``agent`` (a name) or unassign with ``null``."""
    conv = _conversation(request)
    body = await _body(request)
    if "agent" not in body:
        raise web.HTTPBadRequest(reason="agent is required (a name or null)")
    agent = body["agent"]
    by = body.get("by")
    _desk(request).assign(conv, str(agent) if agent else None, str(by) if by else None)
    return web.json_response(conversation_record(_desk(request).state, conv))


async def set_status(request: web.Request) -> web.Response:
    """Set the status (open, resolved, pending, snoozed)."""
    conv = _conversation(request)
    body = await _body(request)
    agent = str(body.get("agent") or "Sandbox Agent")
    _desk(request).set_status(conv, str(body.get("status")), agent)
    return web.json_response(conversation_record(_desk(request).state, conv))


async def typing(request: web.Request) -> web.Response:
    """Show or hide an agent's typing indicator (``private`` = typing a note)."""
    conv = _conversation(request)
    body = await _body(request)
    agent = str(body.get("agent") or "Sandbox Agent")
    status = str(body.get("status", "on"))
    _desk(request).agent_typing(conv, agent, status, bool(body.get("private")))
    return web.json_response({"ok": True})


async def seen(request: web.Request) -> web.Response:
    """Record that an agent looked at the conversation."""
    conv = _conversation(request)
    _desk(request).agent_seen(conv)
    return web.json_response(conversation_record(_desk(request).state, conv))


async def foreign_conversation(request: web.Request) -> web.Response:
    """Open a conversation (with one contact message) in the second inbox."""
    desk = _desk(request)
    body = await _body(request)
    inbox = desk.state.foreign_inbox
    ci = desk.create_contact(inbox, {"name": body.get("name") or "Outsider"})
    conv = desk.create_conversation(ci, body.get("custom_attributes"))
    content = body.get("content", "A message in another inbox")
    desk.contact_message(conv, str(content), None)
    return web.json_response(conversation_record(_desk(request).state, conv))


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise web.HTTPBadRequest(reason=f"{name} must be an integer >= {minimum}")
    return value


async def faults(request: web.Request) -> web.Response:
    """Replace the fault switches (``{}`` or ``{"reset": true}`` clears them)."""
    desk = _desk(request)
    if request.method == "GET":
        return web.json_response(desk.state.faults.as_dict())
    body = await _body(request)
    new = Faults()
    cut = 0
    if not body.get("reset"):
        if body.get("http_status") is not None:
            new.http_status = _int(body["http_status"], "http_status", 100)
            if body.get("count") is not None:
                new.count = _int(body["count"], "count", 1)
        if body.get("delay_ms") is not None:
            new.delay_ms = _int(body["delay_ms"], "delay_ms")
        if body.get("delay_after_ms") is not None:
            new.delay_after_ms = _int(body["delay_after_ms"], "delay_after_ms")
        drop = body.get("webhook_drop", False)
        new.webhook_drop = drop if isinstance(drop, bool) else _int(drop, "webhook_drop")
        duplicate = body.get("webhook_duplicate")
        if duplicate is not None and duplicate is not False:
            new.webhook_duplicate = (
                2 if duplicate is True else _int(duplicate, "webhook_duplicate", 1)
            )
        new.webhook_reorder = bool(body.get("webhook_reorder"))
    desk.state.faults = new
    if body.get("cable_cut"):
        cut = await desk.cable.cut()
    return web.json_response({**new.as_dict(), "cable_cut": cut})


async def webhook(request: web.Request) -> web.Response:
    """Show or (re)configure the webhook target: ``{"url", "secret"}`` (url null = off).

    The answer never holds a secret: the URL's query (the receiver's token) is masked and the
    signing secret is only said to be set or not.
    """
    state = _desk(request).state
    if request.method == "POST":
        body = await _body(request)
        url, secret = body.get("url"), body.get("secret")
        state.webhook_url = str(url) if url else None
        state.webhook_secret = str(secret) if secret else None
    url = state.webhook_url
    shown = (
        None if url is None else urlsplit(url)._replace(query="[redacted]" if "?" in url else "")
    )
    return web.json_response(
        {"url": None if shown is None else shown.geturl(), "secret_set": bool(state.webhook_secret)}
    )


async def deliveries(request: web.Request) -> web.Response:
    """List recent webhook delivery attempts (event, delivery id, outcome)."""
    return web.json_response(_desk(request).state.deliveries)


async def reset(request: web.Request) -> web.Response:
    """Wipe every record and clear the faults (the webhook target is kept)."""
    _desk(request).state.wipe()
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    """Register the control API routes."""
    conv = PREFIX + "/conversations/{conversation_id}"
    app.router.add_get(PREFIX + "/conversations", list_conversations)
    app.router.add_get(conv, show_conversation)
    app.router.add_post(conv + "/assign", assign)
    app.router.add_post(conv + "/status", set_status)
    app.router.add_post(conv + "/typing", typing)
    app.router.add_post(conv + "/seen", seen)
    app.router.add_post(PREFIX + "/foreign_conversations", foreign_conversation)
    app.router.add_get(PREFIX + "/faults", faults)
    app.router.add_post(PREFIX + "/faults", faults)
    app.router.add_get(PREFIX + "/webhook", webhook)
    app.router.add_post(PREFIX + "/webhook", webhook)
    app.router.add_get(PREFIX + "/webhook/deliveries", deliveries)
    app.router.add_post(PREFIX + "/reset", reset)


# Public names for the other route modules.
read_body = _body
request_conversation = _conversation
