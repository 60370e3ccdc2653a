"""Turn the service's plain data into the view data the card builders read."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import cards
from cards import (
    CardFile,
    CardMessage,
    ChoiceLabels,
    FormView,
    HistoryView,
    ReplyView,
    Span,
    TicketSummary,
    TicketView,
)
from i18n import t
from tickets.attachments import FileLinks, file_of
from tickets.errors import FormInvalid, HelpdeskRejected, TicketError, TicketNotFound
from tickets.markdown import spans
from tickets.settings import Settings
from tickets.uploads import UploadRefused
from tickets.views import TicketInfo, TimelineItem

PAGE_SIZE = 10


def new_form_id() -> str:
    """Return a fresh form id (echoed back on submit; the idempotency key derives from it)."""
    return uuid.uuid4().hex


def choice_labels(settings: Settings) -> ChoiceLabels:
    """Return the configured labels of the form's choices, for the cards."""
    return {
        "complexity": settings.TICKET_COMPLEXITIES.by_value(),
        "sector": settings.TICKET_SECTORS.by_value(),
    }


def form_view(
    settings: Settings,
    form_id: str,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> FormView:
    """Build the ticket form's view with the configured choices."""
    return FormView(
        complexities=tuple(settings.TICKET_COMPLEXITIES),
        sectors=tuple(settings.TICKET_SECTORS),
        form_id=form_id,
        values=dict(values or {}),
        errors=dict(errors or {}),
        notice=notice,
        labels=choice_labels(settings),
    )


def ticket_view(
    info: TicketInfo,
    timeline: Sequence[TimelineItem],
    labels: ChoiceLabels | None = None,
    links: FileLinks | None = None,
) -> TicketView:
    """Build the ticket card's view: details plus the messages (events are left out)."""
    messages = [card_message(item, links) for item in timeline if item.kind == "message"]
    return TicketView(
        id=info.id,
        title=info.title,
        status=info.status,
        assignee=info.assignee,
        sector=info.sector,
        complexity=info.complexity,
        created_at=info.created_at,
        updated_at=info.updated_at,
        messages=messages,
        beneficiary_name=info.beneficiary_name,
        labels=labels or {},
    )


def ticket_card(
    info: TicketInfo,
    timeline: Sequence[TimelineItem],
    locale: str,
    labels: ChoiceLabels | None = None,
    links: FileLinks | None = None,
) -> dict[str, Any]:
    """Build a ticket's card: one path for the card shown on click and the one updated in place."""
    return cards.ticket_card(ticket_view(info, timeline, labels, links), locale)


def summary_card(info: TicketInfo, locale: str) -> dict[str, Any]:
    """Build the summary an older card of the ticket collapses to."""
    return cards.ticket_summary_card(ticket_view(info, ()), locale)


def refused_text(refused: UploadRefused, locale: str) -> str:
    """Say which limit a file broke, in a short reply."""
    limit = refused.limit
    if refused.reason == "too_large":
        limit = f"{int(refused.limit) // (1024 * 1024)} MB"
    return t(f"ticket.upload.{refused.reason}", locale, name=refused.name, limit=limit)


def file_links(settings: Settings) -> FileLinks:
    """Return the signer of the cards' file links (one place for the outbox and the actions)."""
    return FileLinks(settings.base_url, settings.SECRET_KEY.get_secret_value())


def card_files(item: TimelineItem, links: FileLinks | None) -> tuple[CardFile, ...]:
    """Give a message's files signed links (Teams fetches card images without our cookie)."""
    if links is None or item.deleted:
        return ()
    shown = []
    for stored in item.attachments:
        found = file_of(stored)
        if found is None:
            continue
        picture = found.file_type == "image" or found.content_type.startswith("image/")
        image = (
            links.url(item.ticket_id, found.id, thumb=bool(found.thumb_url)) if picture else None
        )
        shown.append(CardFile(found.name, links.url(item.ticket_id, found.id), image))
    return tuple(shown)


def card_message(item: TimelineItem, links: FileLinks | None = None) -> CardMessage:
    """Build one message of a card from a timeline item (files linked, agent Markdown parsed)."""
    question = item.question
    styled = item.direction == "agent" and not item.deleted
    return CardMessage(
        item.direction,
        item.author,
        item.content,
        item.created_at,
        item.deleted,
        survey=item.survey is not None,
        rating=item.survey.rating if item.survey else None,
        answer=question.answer_text() if question and question.answered else None,
        files=card_files(item, links),
        spans=card_spans(item.spans) if styled else (),
    )


def agent_message(
    author: str, content: str, created_at: datetime | None, files: Sequence[CardFile] = ()
) -> CardMessage:
    """Build an agent's reply for its card from what ingest queued."""
    return CardMessage(
        "agent", author, content, created_at, files=tuple(files), spans=card_spans(spans(content))
    )


def card_spans(parsed: Sequence[Mapping[str, Any]]) -> tuple[Span, ...]:
    """Turn the Markdown parser's spans into the cards' spans."""
    return tuple(
        Span(
            str(span.get("text") or ""),
            bold=bool(span.get("bold")),
            italic=bool(span.get("italic")),
            code=bool(span.get("code")),
            href=str(span["href"]) if span.get("href") else None,
        )
        for span in parsed
    )


def reply_card(ticket_id: int, title: str, message: CardMessage, locale: str) -> dict[str, Any]:
    """Build an agent reply's own card: one path for the card sent and the one edited in place."""
    return cards.agent_reply_card(ReplyView(ticket_id, title, message), locale)


def pages_for(total: int) -> int:
    """Return how many history pages ``total`` tickets fill (at least one)."""
    return max(1, math.ceil(total / PAGE_SIZE))


def history_view(tickets: Sequence[TicketInfo], total: int, page: int) -> HistoryView:
    """Build one history page."""
    rows = [
        TicketSummary(t.id, t.title, t.status, t.assignee, t.last_activity_at, t.unread)
        for t in tickets
    ]
    return HistoryView(tickets=rows, page=page, pages=pages_for(total))


def failure_text(error: TicketError, locale: str) -> str:
    """Say what went wrong in the user's language: the bot's one error-to-text mapping."""
    if isinstance(error, HelpdeskRejected):
        return t("bot.rejected", locale, reason=error.message[:200])
    if isinstance(error, FormInvalid):
        # Only a reply's `content` reaches here: the ticket form shows its own field errors.
        empty = error.errors.get("content") == "required"
        return t("bot.empty_reply" if empty else "bot.too_long", locale)
    if isinstance(error, TicketNotFound):
        return t("bot.not_found", locale)
    return t("bot.unavailable", locale)
