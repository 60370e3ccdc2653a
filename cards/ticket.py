"""The ticket card (status, details, latest messages, reply box) and the agent-reply card."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Final

from cards.actions import ActionData, Verb
from cards.elements import Json, badge, card, clip, execute, one_line, rich, run, text
from cards.text import choice_label
from cards.views import TicketView
from i18n import format_datetime, status_label, t

LAST_MESSAGES: Final = 5
# Per-message UTF-8 budgets that keep the worst case (5 huge messages) under MAX_CARD_BYTES.
MESSAGE_BYTES: Final = 1_500
REPLY_MESSAGE_BYTES: Final = 12_000
REPLY_MAX: Final = 5_000


def ticket_card(view: TicketView, locale: str | None, tz: tzinfo = UTC) -> Json:
    """Build the card of one ticket; dates shown in ``tz`` (UTC unless the user's zone is known)."""
    body: list[Json] = [_header(view, locale), _details(view, locale, tz)]
    body.append(
        text(t("card.ticket.messages", locale), weight="Bolder", spacing="Large", separator=True)
    )
    messages = list(view.messages)
    shown = messages[-LAST_MESSAGES:]
    if len(messages) > len(shown):
        body.append(
            text(
                t("card.ticket.messages.latest", locale, shown=len(shown), total=len(messages)),
                isSubtle=True,
                size="Small",
                spacing="None",
            )
        )
    if not shown:
        body.append(text(t("card.ticket.no_messages", locale), isSubtle=True, spacing="Small"))
    body += [
        _message(
            message.direction,
            message.author,
            t("card.message.deleted", locale) if message.deleted else message.content,
            format_datetime(message.created_at, locale, tz),
            locale,
            MESSAGE_BYTES,
        )
        for message in shown
    ]
    resolved = view.status == "resolved"
    if resolved:
        body.append(
            {
                "type": "Container",
                "style": "good",
                "spacing": "Medium",
                "items": [text(t("card.ticket.resolved.hint", locale), size="Small")],
            }
        )
    body.append(_reply_input(locale))
    actions: list[Json] = [
        execute(
            t("card.action.send", locale),
            ActionData(Verb.REPLY, ticket_id=view.id),
            style="positive",
        ),
    ]
    if resolved:
        actions.append(
            execute(
                t("card.action.reopen", locale),
                ActionData(Verb.REOPEN, ticket_id=view.id),
                inputs=False,
            )
        )
    actions.append(
        execute(
            t("card.action.refresh", locale),
            ActionData(Verb.REFRESH, ticket_id=view.id),
            inputs=False,
        )
    )
    return card(body, actions, locale)


def agent_reply_card(
    ticket_id: int,
    ticket_title: str,
    agent_name: str,
    content: str,
    locale: str | None,
    *,
    sent_at: datetime | None = None,
    tz: tzinfo = UTC,
) -> Json:
    """Build the card announcing an agent's reply, with a box to answer it straight away."""
    when = format_datetime(sent_at, locale, tz) if sent_at else None
    body: list[Json] = [
        text(t("card.reply.title", locale, id=ticket_id), size="Small", isSubtle=True),
        rich(one_line(ticket_title, 120), spacing="None", size="Medium", weight="Bolder"),
        _message("agent", agent_name, content, when, locale, REPLY_MESSAGE_BYTES),
        _reply_input(locale),
    ]
    actions = [
        execute(
            t("card.action.send", locale),
            ActionData(Verb.REPLY, ticket_id=ticket_id),
            style="positive",
        ),
        execute(
            t("card.action.view", locale), ActionData(Verb.OPEN, ticket_id=ticket_id), inputs=False
        ),
    ]
    return card(body, actions, locale)


def _header(view: TicketView, locale: str | None) -> Json:
    return {
        "type": "ColumnSet",
        "columns": [
            {
                "type": "Column",
                "width": "stretch",
                "items": [
                    text(t("card.ticket.number", locale, id=view.id), size="Small", isSubtle=True),
                    rich(one_line(view.title, 120), spacing="None", size="Large", weight="Bolder"),
                ],
            },
            badge(view.status, status_label(view.status, locale)),
        ],
    }


def _details(view: TicketView, locale: str | None, tz: tzinfo) -> Json:
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
    if view.sector:
        rows.append(
            (
                t("ticket.sector", locale),
                run(one_line(choice_label(view.labels, "sector", view.sector, locale), 80)),
            )
        )
    if view.complexity:
        rows.append(
            (
                t("ticket.complexity", locale),
                run(one_line(choice_label(view.labels, "complexity", view.complexity, locale), 80)),
            )
        )
    rows.append(
        (t("card.ticket.created", locale), run(format_datetime(view.created_at, locale, tz)))
    )
    rows.append(
        (t("card.ticket.updated", locale), run(format_datetime(view.updated_at, locale, tz)))
    )
    # Label/value columns instead of a FactSet: Teams renders markdown in fact values, and these
    # values (assignee, names) come from people.
    return {
        "type": "Container",
        "spacing": "Medium",
        "items": [
            {
                "type": "ColumnSet",
                "spacing": "Small",
                "columns": [
                    {
                        "type": "Column",
                        "width": "110px",
                        "items": [
                            {
                                "type": "RichTextBlock",
                                "inlines": [run(label, isSubtle=True, size="Small")],
                            }
                        ],
                    },
                    {
                        "type": "Column",
                        "width": "stretch",
                        "items": [
                            {"type": "RichTextBlock", "inlines": [{**value, "size": "Small"}]}
                        ],
                    },
                ],
            }
            for label, value in rows
        ],
    }


def _message(
    direction: str, author: str, content: str, when: str | None, locale: str | None, budget: int
) -> Json:
    content, cut = clip(content.strip(), budget)
    if direction == "system":
        return {
            "type": "Container",
            "spacing": "Small",
            "items": [
                {
                    "type": "RichTextBlock",
                    "horizontalAlignment": "Center",
                    "inlines": [
                        run(one_line(content, 300), italic=True, isSubtle=True, size="Small"),
                        *([run(f"  {when}", isSubtle=True, size="Small")] if when else []),
                    ],
                }
            ],
        }
    agent = direction == "agent"
    heading: list[Json] = [
        {
            "type": "Column",
            "width": "stretch",
            "items": [
                rich(
                    one_line(author, 80),
                    weight="Bolder",
                    size="Small",
                    color="Accent" if agent else "Default",
                )
            ],
        }
    ]
    if when:
        heading.append(
            {
                "type": "Column",
                "width": "auto",
                "items": [text(when, isSubtle=True, size="Small", wrap=False)],
            }
        )
    items: list[Json] = [
        {"type": "ColumnSet", "columns": heading},
        rich(content, spacing="Small"),
    ]
    if cut:
        items.append(text(t("card.message.truncated", locale), isSubtle=True, size="Small"))
    return {
        "type": "Container",
        # Like Teams chat bubbles: the employee's own words tinted, the agent's in grey.
        "style": "emphasis" if agent else "accent",
        "spacing": "Small",
        "items": items,
    }


def _reply_input(locale: str | None) -> Json:
    return {
        "type": "Input.Text",
        "id": "reply",
        "label": t("card.ticket.reply.label", locale),
        "placeholder": t("card.ticket.reply.placeholder", locale),
        "isMultiline": True,
        "isRequired": True,
        "errorMessage": t("card.err.reply.required", locale),
        "maxLength": REPLY_MAX,
        "spacing": "Large",
    }
