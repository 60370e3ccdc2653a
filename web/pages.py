"""Server-rendered pages: ticket list, new-ticket form, ticket conversation, static pages."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

import i18n
from db.models import Origin, User
from tickets import keys, reads
from tickets.errors import (
    FormInvalid,
    HelpdeskRejected,
    HelpdeskUnavailable,
    TicketError,
    TicketNotFound,
)
from tickets.forms import FIELDS
from tickets.uploads import MAX_FILES, UploadRefused, spooled
from web import sessions
from web.errors import REMOTE_IMAGES
from web.help import count_ticket_opened
from web.http import field, path_id, redirect
from web.render import json_script, locale_of, render
from web.uploads import policy_of, read_message_form, upload_limits

PAGE_SIZE = 20
FILTERS = ("all", "open", "resolved")
# The fields of a timeline item that answers.js needs to give a survey or question its control.
CONTROL_KEYS = frozenset({"id", "deleted", "question", "survey"})


def setup_pages(app: web.Application) -> None:
    """Register the page routes."""
    app.router.add_get("/", ticket_list)
    app.router.add_get("/tickets/new", new_ticket_page)
    app.router.add_post("/tickets/new", new_ticket_submit)
    app.router.add_get(r"/tickets/{id:\d{1,20}}", ticket_page)
    app.router.add_post(r"/tickets/{id:\d{1,20}}", ticket_reply)
    app.router.add_get("/privacy", privacy)
    app.router.add_get("/terms", terms)


def _signed_in(request: web.Request) -> User:
    user = sessions.current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


async def ticket_list(request: web.Request) -> web.Response:
    """List the user's tickets with status, assignee and last activity, filtered."""
    user = _signed_in(request)
    status = request.query.get("status", "all")
    if status not in FILTERS:
        status = "all"
    try:
        page = max(1, min(int(request.query.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    tickets, total = await request.app[keys.SERVICE].list_tickets(
        user.id, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    unread_total = await request.app[keys.PRESENCE].unread_total(user.id)
    locale = locale_of(request)
    settings = request.app[keys.SETTINGS]
    return render(
        request,
        "list.html",
        {
            "unread_total": unread_total,
            "client": json_script(
                {
                    "status": status,
                    "page": page,
                    "unreadTotal": unread_total,
                    "sectors": dict(settings.TICKET_SECTORS.options(locale)),
                    "strings": i18n.client_catalog(locale),
                }
            ),
            "tickets": tickets,
            "total": total,
            "status": status,
            "filters": FILTERS,
            "page": page,
            "pages": pages,
            "nav": "tickets",
        },
    )


def _form(
    request: web.Request,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    banner: str | None = None,
    status: int = 200,
) -> web.Response:
    settings = request.app[keys.SETTINGS]
    return render(
        request,
        "new.html",
        {
            "values": values,
            "errors": errors,
            "banner": banner,
            "complexities": settings.TICKET_COMPLEXITIES,
            "sectors": settings.TICKET_SECTORS,
            "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
            "help_enabled": request.app[keys.HELP].enabled,
            "upload_files": MAX_FILES,
            "upload_size": f"{settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB",
            "nav": "new",
        },
        status=status,
    )


async def new_ticket_page(request: web.Request) -> web.Response:
    """Show the empty ticket form."""
    _signed_in(request)
    return _form(request, values={}, errors={})


@sessions.streamed_form
async def new_ticket_submit(request: web.Request) -> web.Response:
    """Validate and open the ticket; on any problem show the form again with what was typed.

    The form is multipart when it carries files: they are spooled as they arrive and go with
    the first message.
    """
    user = _signed_in(request)
    refused: UploadRefused | None = None
    with spooled(policy_of(request)) as spool:
        typed: dict[str, str] = {}  # filled as the parts arrive: kept even on a refusal
        form: Mapping[str, Any] = typed
        try:
            if request.content_type == "multipart/form-data":
                await read_message_form(request, spool, html_form=True, fields=typed)
            else:
                form = await request.post()
        except UploadRefused as exc:
            refused = exc
        raw = {name: field(form, name) for name in FIELDS}
        key = field(form, "idempotency_key", 64) or None
        values = {**raw, "idempotency_key": key or ""}
        if refused is not None:
            text = f"ticket.upload.{refused.reason}"
            banner = i18n.t(text, locale_of(request), **_limit(refused))
            return _form(request, values=values, errors={}, banner=banner, status=refused.status)
        try:
            ticket = await request.app[keys.SERVICE].open_ticket(
                user.id,
                raw,
                origin=Origin.WEB,
                idempotency_key=f"web:{user.id}:{key}" if key else None,
                files=spool.files,
            )
        except FormInvalid as exc:
            return _form(request, values=values, errors=exc.errors, status=422)
        except (HelpdeskUnavailable, HelpdeskRejected) as exc:
            status, banner = _helpdesk_banner(exc, locale_of(request))
            return _form(request, values=values, errors={}, banner=banner, status=status)
    await count_ticket_opened(request, user, key)
    return redirect(f"/tickets/{ticket.id}")


def _limit(exc: UploadRefused) -> dict[str, str]:
    """Return the values a refusal's sentence names: the file and the limit, sized for people."""
    limit = f"{int(exc.limit) // (1024 * 1024)} MB" if exc.reason == "too_large" else str(exc.limit)
    return {"name": exc.name, "limit": limit}


def _helpdesk_banner(exc: TicketError, locale: str) -> tuple[int, str]:
    """Say why the helpdesk failed: the pages' one error-to-text mapping (status, banner)."""
    if isinstance(exc, HelpdeskRejected):
        return 502, i18n.t("err.helpdesk_rejected", locale, reason=exc.message)
    return 503, i18n.t("err.helpdesk_unavailable", locale)


async def ticket_page(request: web.Request) -> web.Response:
    """Show the ticket's conversation; the page script keeps it live over /ws."""
    user = _signed_in(request)
    ticket_id = path_id(request)
    service = request.app[keys.SERVICE]
    try:
        ticket = await service.get_ticket(user.id, ticket_id)
        items = await service.timeline(user.id, ticket_id)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    locale = locale_of(request)
    # The page resumes over /ws from the newest cursor it shows, and shows Chatwoot's order.
    last_id = max((item.cursor for item in items), default=0)
    # An agent bot's cards (now or arriving live) may carry https pictures.
    request[REMOTE_IMAGES] = True
    return render(
        request,
        "ticket.html",
        {
            "ticket": ticket,
            "items": reads.display_order(items),
            "last_id": last_id,
            "error": request.query.get("error"),
            "client": json_script(
                {
                    "ticketId": ticket.id,
                    "lastId": last_id,
                    "locale": locale,
                    "status": ticket.status,
                    "strings": i18n.client_catalog(locale),
                    # Surveys and bot questions: answers.js gives them their controls. Only
                    # what it reads: the text is on the page already, once.
                    "controls": [
                        {key: value for key, value in i.to_json().items() if key in CONTROL_KEYS}
                        for i in items
                        if i.question or i.survey
                    ],
                    "uploads": upload_limits(request),
                }
            ),
            "nav": "tickets",
        },
    )


async def ticket_reply(request: web.Request) -> web.Response:
    """Post a message from the composer when scripts are off (the script uses the API)."""
    user = _signed_in(request)
    ticket_id = path_id(request)
    form = await request.post()
    service = request.app[keys.SERVICE]
    try:
        content = field(form, "content", 20000)
        await service.post_message(user.id, ticket_id, content, origin=Origin.WEB)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except FormInvalid as exc:
        return redirect(f"/tickets/{ticket_id}?error={next(iter(exc.errors.values()))}")
    except (HelpdeskUnavailable, HelpdeskRejected):
        return redirect(f"/tickets/{ticket_id}?error=helpdesk_unavailable")
    return redirect(f"/tickets/{ticket_id}#composer")


async def privacy(request: web.Request) -> web.Response:
    """Show the privacy statement (the Teams manifest links here)."""
    return render(request, "static_page.html", {"key": "privacy"})


async def terms(request: web.Request) -> web.Response:
    """Show the terms of use (the Teams manifest links here)."""
    return render(request, "static_page.html", {"key": "terms"})
