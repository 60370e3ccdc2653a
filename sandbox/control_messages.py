"""Control API for agent messages: post (JSON or multipart with files), edit, delete."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox import messages, shapes
from sandbox.attachments import Upload, uploads_from_form
from sandbox.desk import Desk
from sandbox.keys import DESK
from sandbox.state import MESSAGE_TYPE_NAMES, Agent, Conversation, Message, SandboxState

PREFIX = "/sandbox/api"
_TRUE = {"1", "true", "on", "yes"}


def message_record(state: SandboxState, msg: Message) -> dict[str, Any]:
    """Return a message as the control API shows it (everything, private notes included)."""
    sender = msg.sender
    return {
        "id": msg.id,
        "content": msg.content,
        "message_type": MESSAGE_TYPE_NAMES[msg.message_type],
        "content_type": msg.content_type,
        "content_attributes": msg.content_attributes,
        "private": msg.private,
        "echo_id": msg.echo_id,
        "status": msg.status,
        "created_at": msg.created_at,
        "sender": None
        if sender is None
        else {
            "type": "user" if isinstance(sender, Agent) else "contact",
            "id": sender.id,
            "name": sender.name,
        },
        "attachments": shapes.attachments(state, msg),
    }


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


def _message(request: web.Request) -> Message:
    conv = _conversation(request)
    try:
        message_id = int(request.match_info["message_id"])
    except ValueError:
        raise web.HTTPNotFound(reason="no such message") from None
    for msg in conv.messages:
        if msg.id == message_id:
            return msg
    raise web.HTTPNotFound(reason="no such message")


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(reason="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return body


async def _post_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """Read a JSON body, or a multipart one (``content``, ``private``, files ``attachments``)."""
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await _json(request), []
    form = await request.post()
    body: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    body["private"] = str(body.get("private", "")).lower() in _TRUE
    return body, uploads_from_form(form, "attachments", "attachments[]")


def _spec(body: dict[str, Any], uploads: list[Upload]) -> messages.AgentPost:
    """Turn a control-API body into a message to post, refusing malformed input (400)."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        raise web.HTTPBadRequest(reason="content must be a string or null")
    message_type = body.get("message_type", "outgoing")
    if message_type not in ("outgoing", "template"):
        raise web.HTTPBadRequest(reason="message_type must be outgoing or template")
    content_type = body.get("content_type", "text")
    if not isinstance(content_type, str) or content_type not in messages.CONTENT_TYPES:
        raise web.HTTPBadRequest(reason=f"content_type must be one of {messages.CONTENT_TYPES}")
    attributes = body.get("content_attributes", {})
    if not isinstance(attributes, dict):
        raise web.HTTPBadRequest(reason="content_attributes must be a JSON object")
    private = body.get("private", False)
    if not isinstance(private, bool):
        raise web.HTTPBadRequest(reason="private must be true or false")
    template = message_type == "template"
    if template and private:
        raise web.HTTPBadRequest(reason="a template message cannot be private")
    has_text = bool(content and content.strip())
    if not has_text and not uploads and content_type not in messages.STRUCTURED:
        raise web.HTTPBadRequest(reason="content is required (or attach a file)")
    return messages.AgentPost(
        content=content if has_text or content_type in messages.STRUCTURED else None,
        agent=str(body.get("agent") or "Sandbox Agent"),
        private=private,
        template=template,
        content_type=content_type,
        content_attributes=attributes,
        uploads=uploads,
    )


async def post_message(request: web.Request) -> web.Response:
    """Post an agent reply, private note, file or bot question (see the README)."""
    conv = _conversation(request)
    body, uploads = await _post_body(request)
    msg = messages.post(_desk(request), conv, _spec(body, uploads))
    return web.json_response(message_record(_desk(request).state, msg))


async def edit_message(request: web.Request) -> web.Response:
    """Replace a message's text: ``{"content": "..."}`` (one ``message_updated``)."""
    msg = _message(request)
    body = await _json(request)
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise web.HTTPBadRequest(reason="content is required")
    messages.edit(_desk(request), msg, content)
    return web.json_response(message_record(_desk(request).state, msg))


async def delete_message(request: web.Request) -> web.Response:
    """Delete a message as an agent does in the dashboard."""
    msg = _message(request)
    messages.delete(_desk(request), msg)
    return web.json_response(message_record(_desk(request).state, msg))


def add_routes(app: web.Application) -> None:
    """Register the message routes of the control API."""
    conv = PREFIX + "/conversations/{conversation_id}"
    app.router.add_post(conv + "/messages", post_message)
    app.router.add_patch(conv + "/messages/{message_id}", edit_message)
    app.router.add_delete(conv + "/messages/{message_id}", delete_message)
