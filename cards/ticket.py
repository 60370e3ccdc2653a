"""The ticket card and the agent-reply card, each assembled from a list of parts.

A part is a pure function ``(view, ctx) -> list of elements``; a card is its parts in order.
To show something new on a card, write one more part and add it to the card's tuple (or, for
something inside every message, to ``MESSAGE_PARTS``); the data it needs goes on the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Final

from cards import markdown
from cards.actions import ActionData, Verb
from cards.elements import Json, badge, card, clip, execute, one_line, rich, run, text
from cards.text import choice_label
from cards.views import CardMessage, ReplyView, TicketView
from i18n import format_datetime, status_label, t

LAST_MESSAGES: Final = 5
# Per-message UTF-8 budgets that keep the worst case (5 huge messages) under MAX_CARD_BYTES.
MESSAGE_BYTES: Final = 1_500
REPLY_MESSAGE_BYTES: Final = 12_000
REPLY_MAX: Final = 5_000


@dataclass(frozen=True, slots=True)
class Ctx:
    """What every part needs besides its view: the language, the time zone, a text budget."""

    locale: str | None
    tz: tzinfo = UTC
    budget: int = MESSAGE_BYTES


TicketPart = Callable[[TicketView, Ctx], list[Json]]
ReplyPart = Callable[[ReplyView, Ctx], list[Json]]
MessagePart = Callable[[CardMessage, Ctx], list[Json]]


def ticket_card(view: TicketView, locale: str | None, tz: tzinfo = UTC) -> Json:
    """Build the card of one ticket; dates shown in ``tz`` (UTC unless the user's zone is known)."""
    ctx = Ctx(locale, tz)
    body = [element for part in TICKET_PARTS for element in part(view, ctx)]
    return card(body, ticket_actions(view, ctx), locale)


def agent_reply_card(view: ReplyView, locale: str | None, tz: tzinfo = UTC) -> Json:
    """Build the card announcing an agent's reply, with a box to answer it straight away."""
    ctx = Ctx(locale, tz, REPLY_MESSAGE_BYTES)
    body = [element for part in REPLY_PARTS for element in part(view, ctx)]
    return card(body, reply_actions(view, ctx), locale)


# ---- ticket card parts ----------------------------------------------------------------------


def header(view: TicketView, ctx: Ctx) -> list[Json]:
    """Show number and title, with the status pill on the right."""
    column = {
        "type": "Column",
        "width": "stretch",
        "items": [
            text(t("card.ticket.number", ctx.locale, id=view.id), size="Small", isSubtle=True),
            rich(one_line(view.title, 120), spacing="None", size="Large", weight="Bolder"),
        ],
    }
    status = badge(view.status, status_label(view.status, ctx.locale))
    return [{"type": "ColumnSet", "columns": [column, status]}]


def details(view: TicketView, ctx: Ctx) -> list[Json]:
    """Show assignee, beneficiary, sector, complexity and dates as label/value rows."""
    locale = ctx.locale
    rows: list[tuple[str, Json]] = [
        (
            t("ticket.assignee", locale),
            run(one_line(view.assignee, 80))
            if view.assignee
            else run(t("card.ticket.unassigned", locale), italic=True, isSubtle=True),
        ),
    ]
    if view.beneficiary_name:
        rows.append(
            (t("card.ticket.beneficiary", locale), run(one_line(view.beneficiary_name, 120)))
        )
    for field, value in (("sector", view.sector), ("complexity", view.complexity)):
        if value:
            label = choice_label(view.labels, field, value, locale)
            rows.append((t(f"ticket.{field}", locale), run(one_line(label, 80))))
    rows.append(
        (t("card.ticket.created", locale), run(format_datetime(view.created_at, locale, ctx.tz)))
    )
    rows.append(
        (t("card.ticket.updated", locale), run(format_datetime(view.updated_at, locale, ctx.tz)))
    )
    # Label/value columns instead of a FactSet: Teams renders markdown in fact values, and these
    # values (assignee, names) come from people.
    return [{"type": "Container", "spacing": "Medium", "items": [_row(*row) for row in rows]}]


def messages(view: TicketView, ctx: Ctx) -> list[Json]:
    """List the latest messages, oldest first, under a heading that says how many are left out."""
    locale = ctx.locale
    body = [
        text(t("card.ticket.messages", locale), weight="Bolder", spacing="Large", separator=True)
    ]
    every = list(view.messages)
    shown = every[-LAST_MESSAGES:]
    if len(every) > len(shown):
        latest = t("card.ticket.messages.latest", locale, shown=len(shown), total=len(every))
        body.append(text(latest, isSubtle=True, size="Small", spacing="None"))
    if not shown:
        body.append(text(t("card.ticket.no_messages", locale), isSubtle=True, spacing="Small"))
    body += [element for message in shown for element in message_block(message, ctx)]
    return body


def resolved_hint(view: TicketView, ctx: Ctx) -> list[Json]:
    """Say, on a resolved ticket, how to reopen it."""
    if view.status != "resolved":
        return []
    hint = text(t("card.ticket.resolved.hint", ctx.locale), size="Small")
    return [{"type": "Container", "style": "good", "spacing": "Medium", "items": [hint]}]


def reply_box(_view: TicketView | ReplyView, ctx: Ctx) -> list[Json]:
    """Offer the text box the employee answers in (sent by the card's Send button)."""
    return [
        {
            "type": "Input.Text",
            "id": "reply",
            "label": t("card.ticket.reply.label", ctx.locale),
            "placeholder": t("card.ticket.reply.placeholder", ctx.locale),
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": t("card.err.reply.required", ctx.locale),
            "maxLength": REPLY_MAX,
            "spacing": "Large",
        }
    ]


TICKET_PARTS: Final[tuple[TicketPart, ...]] = (
    header,
    details,
    messages,
    resolved_hint,
    reply_box,
)


def ticket_actions(view: TicketView, ctx: Ctx) -> list[Json]:
    """Offer Send, Reopen (resolved) or "Problema resolvido" (not yet), and Refresh."""
    locale = ctx.locale
    actions = [
        execute(
            t("card.action.send", locale),
            ActionData(Verb.REPLY, ticket_id=view.id),
            style="positive",
        )
    ]
    if view.status == "resolved":
        reopen = ActionData(Verb.REOPEN, ticket_id=view.id)
        actions.append(execute(t("card.action.reopen", locale), reopen, inputs=False))
    else:
        # "Resolved, thanks": the employee closes the ticket (Chatwoot's toggle_status).
        resolve = ActionData(Verb.RESOLVE, ticket_id=view.id)
        actions.append(execute(t("card.resolve", locale), resolve, inputs=False))
    refresh = ActionData(Verb.REFRESH, ticket_id=view.id)
    actions.append(execute(t("card.action.refresh", locale), refresh, inputs=False))
    return actions


# ---- summary card (an older card of the ticket, collapsed) ---------------------------------


def ticket_summary_card(view: TicketView, locale: str | None, tz: tzinfo = UTC) -> Json:
    """Build the summary an older card of a ticket collapses to once a newer one carries on."""
    ctx = Ctx(locale, tz)
    body = [element for part in SUMMARY_PARTS for element in part(view, ctx)]
    return card(body, summary_actions(view, ctx), locale)


def continued_below(_view: TicketView, ctx: Ctx) -> list[Json]:
    """Say that the ticket's conversation goes on in the newest card, further down."""
    return [text(t("card.summary.below", ctx.locale), isSubtle=True, size="Small")]


SUMMARY_PARTS: Final[tuple[TicketPart, ...]] = (header, continued_below)


def summary_actions(view: TicketView, ctx: Ctx) -> list[Json]:
    """Offer View, which shows the whole ticket here again."""
    view_ticket = ActionData(Verb.OPEN, ticket_id=view.id)
    return [execute(t("card.action.view", ctx.locale), view_ticket, inputs=False)]


# ---- agent-reply card parts -----------------------------------------------------------------


def reply_header(view: ReplyView, ctx: Ctx) -> list[Json]:
    """Say which ticket the reply is on."""
    return [
        text(t("card.reply.title", ctx.locale, id=view.ticket_id), size="Small", isSubtle=True),
        rich(one_line(view.title, 120), spacing="None", size="Medium", weight="Bolder"),
    ]


def reply_message(view: ReplyView, ctx: Ctx) -> list[Json]:
    """Show the reply itself, with the larger budget of a card that shows one message."""
    return message_block(view.message, ctx)


REPLY_PARTS: Final[tuple[ReplyPart, ...]] = (reply_header, reply_message, reply_box)


def reply_actions(view: ReplyView, ctx: Ctx) -> list[Json]:
    """Offer Send, and View for the whole ticket."""
    return [
        execute(
            t("card.action.send", ctx.locale),
            ActionData(Verb.REPLY, ticket_id=view.ticket_id),
            style="positive",
        ),
        execute(
            t("card.action.view", ctx.locale),
            ActionData(Verb.OPEN, ticket_id=view.ticket_id),
            inputs=False,
        ),
    ]


# ---- one message ----------------------------------------------------------------------------


def message_block(message: CardMessage, ctx: Ctx) -> list[Json]:
    """Show one message: a centred line for system events, else a tinted bubble of its parts."""
    if message.direction == "system":
        return [_system_line(message, ctx)]
    items = [element for part in MESSAGE_PARTS for element in part(message, ctx)]
    return [
        {
            "type": "Container",
            # Like Teams chat bubbles: the employee's own words tinted, the agent's in grey.
            "style": "emphasis" if message.direction == "agent" else "accent",
            "spacing": "Small",
            "items": items,
        }
    ]


def message_heading(message: CardMessage, ctx: Ctx) -> list[Json]:
    """Show the author (agents in the accent colour) and, on the right, when."""
    # A message with no sender (e.g. a template an inbox sent before its name was known) is
    # the support team's, as on the web page.
    name = message.author or (t("ticket.agent", ctx.locale) if message.direction == "agent" else "")
    author = rich(
        one_line(name, 80),
        weight="Bolder",
        size="Small",
        color="Accent" if message.direction == "agent" else "Default",
    )
    columns: list[Json] = [{"type": "Column", "width": "stretch", "items": [author]}]
    if message.created_at is not None:
        when = format_datetime(message.created_at, ctx.locale, ctx.tz)
        columns.append(
            {
                "type": "Column",
                "width": "auto",
                "items": [text(when, isSubtle=True, size="Small", wrap=False)],
            }
        )
    return [{"type": "ColumnSet", "columns": columns}]


def message_text(message: CardMessage, ctx: Ctx) -> list[Json]:
    """Show the words (or the deleted marker), cut to the card's budget with a note when cut.

    An agent's Markdown is shown styled (``cards.markdown``); everything else as plain text, and
    the survey in our own words (its Chatwoot text differs by channel).
    """
    if message.files and not message.deleted and not message.content.strip():
        return []  # a files-only message: its files are the message
    if message.spans and not message.deleted and not message.survey:
        inlines, cut = markdown.runs(message.spans, ctx.budget)
        body: list[Json] = [{"type": "RichTextBlock", "inlines": inlines, "spacing": "Small"}]
    else:
        content, cut = clip(_words(message, ctx).strip(), ctx.budget)
        body = [rich(content, spacing="Small")]
    if cut:
        body.append(text(t("card.message.truncated", ctx.locale), isSubtle=True, size="Small"))
    return body


def message_answer(message: CardMessage, ctx: Ctx) -> list[Json]:
    """Show a question's chosen answer or the survey's rating, once given."""
    if message.deleted:
        return []
    if message.rating is not None:
        line = t("ticket.survey.score", ctx.locale, rating=message.rating)
    elif message.answer is not None:
        line = t("ticket.question.answer", ctx.locale, answer=one_line(message.answer, 200))
    else:
        return []
    return [rich(line, spacing="Small", weight="Bolder", color="Good")]


# Pictures a card shows at most per message; the others are links like any file.
MAX_IMAGES: Final = 3


def message_files(message: CardMessage, ctx: Ctx) -> list[Json]:
    """Show pictures (each opens full size) and the other files as links named by the file."""
    if message.deleted:
        return []
    shown: list[Json] = []
    links: list[Json] = []
    for file in message.files:
        label = t("card.file.open", ctx.locale, name=one_line(file.name, 80))
        if file.image_url is not None and len(shown) < MAX_IMAGES:
            shown.append(
                {
                    "type": "Image",
                    "url": file.image_url,
                    "altText": label,
                    "size": "Large",
                    "spacing": "Small",
                    "selectAction": {"type": "Action.OpenUrl", "url": file.url, "title": label},
                }
            )
        else:
            # A button, not a Markdown link: a file's name is never parsed as formatting.
            links.append({"type": "Action.OpenUrl", "title": label, "url": file.url})
    if links:
        shown.append({"type": "ActionSet", "spacing": "Small", "actions": links})
    return shown


MESSAGE_PARTS: Final[tuple[MessagePart, ...]] = (
    message_heading,
    message_text,
    message_files,
    message_answer,
)


def _words(message: CardMessage, ctx: Ctx) -> str:
    if message.deleted:
        return t("card.message.deleted", ctx.locale)
    return t("ticket.survey.prompt", ctx.locale) if message.survey else message.content


def _system_line(message: CardMessage, ctx: Ctx) -> Json:
    content, _ = clip(_words(message, ctx).strip(), ctx.budget)
    inlines = [run(one_line(content, 300), italic=True, isSubtle=True, size="Small")]
    if message.created_at is not None:
        when = format_datetime(message.created_at, ctx.locale, ctx.tz)
        inlines.append(run(f"  {when}", isSubtle=True, size="Small"))
    block = {"type": "RichTextBlock", "horizontalAlignment": "Center", "inlines": inlines}
    return {"type": "Container", "spacing": "Small", "items": [block]}


def _row(label: str, value: Json) -> Json:
    return {
        "type": "ColumnSet",
        "spacing": "Small",
        "columns": [
            {
                "type": "Column",
                "width": "110px",
                "items": [
                    {"type": "RichTextBlock", "inlines": [run(label, isSubtle=True, size="Small")]}
                ],
            },
            {
                "type": "Column",
                "width": "stretch",
                "items": [{"type": "RichTextBlock", "inlines": [{**value, "size": "Small"}]}],
            },
        ],
    }
