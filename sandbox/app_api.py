"""A minimal Application API: conversation details, labels, priority (`api_access_token`)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

from sandbox import changes, shapes
from sandbox.admin import DEFAULT_AGENT
from sandbox.desk import Desk
from sandbox.keys import DESK
from sandbox.state import Conversation

PREFIX = "/api/v1/accounts/{account_id}/conversations/{conversation_id}"


def _http(status: int, body: str) -> web.HTTPException:
    exc = web.HTTPException(text=body, content_type="application/json")
    exc.set_status(status)
    return exc


def _conversation(request: web.Request) -> tuple[Desk, Conversation]:
    desk: Desk = request.app[DESK]
    expected = desk.state.config.api_access_token
    given = request.headers.get("api_access_token", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _http(401, json.dumps({"error": "Invalid Access Token"}))
    if request.match_info["account_id"] != str(desk.state.config.account_id):
        raise _http(401, json.dumps({"error": "You are not authorized to access this account"}))
    try:
        conv = desk.state.conversations.get(int(request.match_info["conversation_id"]))
    except ValueError:
        conv = None
    if conv is None:
        raise _http(404, json.dumps({"error": "Resource could not be found"}))
    return desk, conv


async def _params(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise _http(400, json.dumps({"error": "body must be JSON"})) from None
    return body if isinstance(body, dict) else {}


async def conversation(request: web.Request) -> web.Response:
    """``GET`` the conversation as agents see it: ``meta.assignee`` included."""
    desk, conv = _conversation(request)
    return web.Response(
        body=shapes.rails_json(shapes.conversation_push(desk.state, conv)),
        content_type="application/json",
    )


async def labels(request: web.Request) -> web.Response:
    """``GET`` the labels, or ``POST`` ``{"labels": [...]}`` to replace the whole list."""
    desk, conv = _conversation(request)
    if request.method == "POST":
        body = await _params(request)
        try:
            changes.set_labels(desk, conv, body.get("labels", []), DEFAULT_AGENT)
        except changes.ChangeInvalid as exc:
            raise _http(422, json.dumps({"message": str(exc), "attributes": ["labels"]})) from None
    return web.json_response({"payload": conv.labels})


async def toggle_priority(request: web.Request) -> web.Response:
    """Set the priority from ``{"priority": …}`` (blank clears it); an empty 200."""
    desk, conv = _conversation(request)
    body = await _params(request)
    try:
        changes.set_priority(desk, conv, body.get("priority"), DEFAULT_AGENT)
    except changes.ChangeInvalid as exc:
        raise _http(422, json.dumps({"message": str(exc), "attributes": ["priority"]})) from None
    return web.Response(status=200)


def add_routes(app: web.Application) -> None:
    """Register the Application API routes."""
    app.router.add_get(PREFIX, conversation)
    app.router.add_get(PREFIX + "/labels", labels)
    app.router.add_post(PREFIX + "/labels", labels)
    app.router.add_post(PREFIX + "/toggle_priority", toggle_priority)
