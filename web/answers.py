"""JSON routes for the employee's answers: the survey, bot questions and "resolved, thanks"."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from db.models import User
from tickets import keys
from tickets.answers import AlreadyAnswered, NoSurvey, NotAQuestion, SurveyClosed
from tickets.errors import HelpdeskRejected, TicketError, TicketNotFound
from tickets.questions import AnswerInvalid
from web import sessions
from web.http import MAX_ID, BadJson, path_id, read_json, redirect

_CONFLICTS: dict[type[TicketError], str] = {
    NoSurvey: "no_survey",
    SurveyClosed: "survey_closed",
    AlreadyAnswered: "already_answered",
}


def setup_answers(app: web.Application) -> None:
    """Register the answer routes."""
    base = r"/api/conversations/{id:\d{1,20}}"
    app.router.add_post(base + "/csat", rate)
    app.router.add_post(base + r"/messages/{message_id:\d{1,20}}/submit", submit)
    app.router.add_post(base + "/resolve", resolve)
    app.router.add_post(r"/tickets/{id:\d{1,20}}/resolve", resolve_page)


def _user(request: web.Request) -> User:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def _message_id(request: web.Request) -> int:
    value = int(request.match_info["message_id"])
    if value < 1 or value > MAX_ID:
        raise web.HTTPNotFound()
    return value


def _error(status: int, error: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, **extra}, status=status)


def _failure(exc: TicketError | AnswerInvalid) -> web.Response:
    """Answer a refusal with its precise status (nothing was sent to Chatwoot)."""
    if isinstance(exc, AnswerInvalid):
        return _error(422, "validation", fields={exc.field: exc.code})
    if isinstance(exc, TicketNotFound):
        return _error(404, "not_found")
    conflict = _CONFLICTS.get(type(exc))
    if conflict is not None:
        return _error(409, conflict)
    if isinstance(exc, NotAQuestion):
        return _error(422, "not_a_question")
    if isinstance(exc, HelpdeskRejected):
        return _error(502, "helpdesk_rejected", message=exc.message)
    return _error(503, "helpdesk_unavailable")


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        return await read_json(request)
    except BadJson:
        return _error(400, "bad_json")


async def rate(request: web.Request) -> web.Response:
    """Answer the survey: 201 for the first answer, 200 when it changes it."""
    user = _user(request)
    ticket_id = path_id(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        rated = await request.app[keys.ANSWERS].rate(
            user.id, ticket_id, body.get("rating"), body.get("feedback")
        )
    except (TicketError, AnswerInvalid) as exc:
        return _failure(exc)
    return web.json_response({"survey": rated.survey.to_json()}, status=201 if rated.first else 200)


async def submit(request: web.Request) -> web.Response:
    """Answer a bot question once: 200 with the message as it now reads."""
    user = _user(request)
    ticket_id = path_id(request)
    message_id = _message_id(request)
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    values = body.get("values")
    if not isinstance(values, list):
        return _error(422, "validation", fields={"values": "required"})
    try:
        item, _question = await request.app[keys.ANSWERS].submit(
            user.id, ticket_id, message_id, values
        )
    except (TicketError, AnswerInvalid) as exc:
        return _failure(exc)
    return web.json_response(item.to_json())


async def resolve(request: web.Request) -> web.Response:
    """Resolve the ticket ("Problema resolvido"): 200 with the ticket."""
    user = _user(request)
    try:
        ticket = await request.app[keys.ANSWERS].resolve(user.id, path_id(request))
    except TicketError as exc:
        return _failure(exc)
    return web.json_response(ticket.to_json())


async def resolve_page(request: web.Request) -> web.Response:
    """Resolve from the page's form when scripts are off; back to the ticket either way."""
    user = _user(request)
    ticket_id = path_id(request)
    try:
        await request.app[keys.ANSWERS].resolve(user.id, ticket_id)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except TicketError:
        return redirect(f"/tickets/{ticket_id}?error=resolve_failed")
    return redirect(f"/tickets/{ticket_id}")
