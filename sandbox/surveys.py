"""Answers from the contact: ``submitted_values`` on bot questions and the CSAT survey."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from sandbox import messages, shapes
from sandbox.desk import Desk
from sandbox.errors import RecordInvalid
from sandbox.keys import DESK
from sandbox.state import Conversation, Message

LOCK_DAYS = 14
LOCKED = "You cannot update the CSAT survey after 14 days"


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def locked(msg: Message, now: float | None = None) -> bool:
    """Tell whether a CSAT survey is too old to answer (more than 14 calendar days)."""
    today = datetime.fromtimestamp(now or time.time(), UTC).date()
    sent = datetime.fromtimestamp(msg.created_at, UTC).date()
    return msg.content_type == "input_csat" and (today - sent).days > LOCK_DAYS


def _rating(answer: dict[str, Any]) -> None:
    rating = answer.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise RecordInvalid("Rating must be an integer from 1 to 5", ["rating"])
    feedback = answer.get("feedback_message")
    if feedback is not None and not isinstance(feedback, str):
        raise RecordInvalid("Feedback message must be a string", ["feedback_message"])


def answer(desk: Desk, msg: Message, raw: Any) -> None:
    """Store a contact's ``submitted_values`` (and, for a survey, the CSAT response record)."""
    values = messages.submitted_values(raw)
    survey = values.get("csat_survey_response") if isinstance(values, dict) else None
    if survey is not None:
        _rating(survey)
    messages.submit(desk, msg, values)
    if survey is not None and msg.content_type == "input_csat":
        record_response(desk, msg, survey)


def record_response(desk: Desk, msg: Message, survey: dict[str, Any]) -> None:
    """Create or update the CSAT response record, as Chatwoot's ``CsatSurveyListener`` does."""
    conv = msg.conversation
    now = time.time()
    existing = msg.csat_survey_response
    msg.csat_survey_response = {
        "id": existing["id"] if existing else desk.state.next_id("csat_response"),
        "account_id": desk.state.config.account_id,
        "conversation_id": conv.display_id,
        "message_id": msg.id,
        "rating": survey["rating"],
        "feedback_message": survey.get("feedback_message"),
        "contact_id": conv.contact.id,
        "assigned_agent_id": conv.assignee.id if conv.assignee else None,
        "created_at": existing["created_at"] if existing else shapes.iso(now),
        "updated_at": shapes.iso(now),
    }


def survey_message(conv: Conversation) -> Message | None:
    """Return the conversation's CSAT survey message, if one was sent."""
    return next((m for m in conv.messages if m.content_type == "input_csat"), None)


def survey_json(desk: Desk, msg: Message) -> dict[str, Any]:
    """Return the public survey object (``public/api/v1/models/_csat_survey``)."""
    return {
        "id": msg.id,
        "csat_survey_response": msg.csat_survey_response,
        "display_type": msg.content_attributes.get("display_type") or "emoji",
        # The inbox's custom survey text; the sandbox has none, so Chatwoot's null.
        "content": None,
        "inbox_avatar_url": "",
        "inbox_name": msg.conversation.inbox.name,
        "locale": "en",
        "conversation_id": msg.conversation.display_id,
        "created_at": shapes.iso(msg.created_at),
    }


def _survey(request: web.Request) -> Message:
    uuid = request.match_info["conversation_uuid"]
    conv = next((c for c in _desk(request).state.conversations.values() if c.uuid == uuid), None)
    msg = survey_message(conv) if conv is not None else None
    if msg is None:
        raise web.HTTPNotFound()
    return msg


async def show_survey(request: web.Request) -> web.Response:
    """Show a conversation's survey (``GET /public/api/v1/csat_survey/{uuid}``)."""
    return web.json_response(survey_json(_desk(request), _survey(request)))


async def update_survey(request: web.Request) -> web.Response:
    """Answer the survey: ``{"message": {"submitted_values": {"csat_survey_response": ...}}}``."""
    msg = _survey(request)
    if locked(msg):
        return web.json_response({"error": LOCKED}, status=422)
    try:
        params = await request.json() if request.can_read_body else {}
    except json.JSONDecodeError:
        raise RecordInvalid("The body must be JSON", ["message"]) from None
    body = params.get("message") if isinstance(params, dict) else None
    if not isinstance(body, dict) or "submitted_values" not in body:
        raise RecordInvalid("message.submitted_values is required", ["submitted_values"])
    answer(_desk(request), msg, body["submitted_values"])
    return web.json_response(survey_json(_desk(request), msg))


def add_routes(app: web.Application) -> None:
    """Register the public CSAT survey routes."""
    path = "/public/api/v1/csat_survey/{conversation_uuid}"
    app.router.add_get(path, show_survey)
    app.router.add_put(path, update_survey)
    app.router.add_patch(path, update_survey)
