"""The paged "my tickets" card."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Final

from cards.actions import ActionData, Verb
from cards.elements import Json, badge, card, execute, one_line, run, text
from cards.views import HistoryView, TicketSummary
from i18n import format_datetime, status_label, t

# Each row costs ~1.3 KB (title, badge, Open button + fallback): 15 worst-case rows stay far
# below MAX_CARD_BYTES. The bot should page by 10.
MAX_ROWS: Final = 15


def history_card(view: HistoryView, locale: str | None, tz: tzinfo = UTC) -> Json:
    """Build one page of the user's tickets, with prev/next buttons; dates shown in ``tz``.

    Raises ``ValueError`` for more than ``MAX_ROWS`` rows or a page outside ``1..pages``.
    """
    pages = max(view.pages, 1)
    if len(view.tickets) > MAX_ROWS:
        raise ValueError(f"a history page holds at most {MAX_ROWS} tickets")
    if not 1 <= view.page <= pages:
        raise ValueError("page must be between 1 and pages")
    header: list[Json] = [
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "stretch",
                    "items": [text(t("card.history.title", locale), size="Large", weight="Bolder")],
                },
                {
                    "type": "Column",
                    "width": "auto",
                    "verticalContentAlignment": "Center",
                    "items": [
                        text(
                            t("card.history.page", locale, page=view.page, pages=pages),
                            isSubtle=True,
                            size="Small",
                        )
                    ],
                },
            ],
        }
    ]
    if not view.tickets:
        body = [
            *header,
            {
                "type": "Container",
                "style": "emphasis",
                "spacing": "Medium",
                "items": [
                    text(
                        t("card.history.empty", locale),
                        weight="Bolder",
                        horizontalAlignment="Center",
                    ),
                    text(
                        t("card.history.empty.hint", locale),
                        isSubtle=True,
                        size="Small",
                        horizontalAlignment="Center",
                        spacing="Small",
                    ),
                ],
            },
        ]
    else:
        body = [*header, *(_row(ticket, locale, tz) for ticket in view.tickets)]
    actions: list[Json] = []
    if view.page > 1:
        actions.append(
            execute(
                t("card.action.prev", locale),
                ActionData(Verb.LIST, page=view.page - 1),
                inputs=False,
            )
        )
    if view.page < pages:
        actions.append(
            execute(
                t("card.action.next", locale),
                ActionData(Verb.LIST, page=view.page + 1),
                inputs=False,
            )
        )
    actions.append(
        execute(t("card.action.new", locale), ActionData(Verb.NEW), style="positive", inputs=False)
    )
    return card(body, actions, locale)


def _row(ticket: TicketSummary, locale: str | None, tz: tzinfo) -> Json:
    assignee = (
        run(one_line(ticket.assignee, 80))
        if ticket.assignee
        else run(t("card.ticket.unassigned", locale), italic=True)
    )
    meta = {
        "type": "RichTextBlock",
        "spacing": "None",
        "inlines": [
            run(f"#{ticket.id} · ", isSubtle=True, size="Small"),
            {**assignee, "isSubtle": True, "size": "Small"},
            run(
                " · "
                + t(
                    "card.history.updated",
                    locale,
                    date=format_datetime(ticket.updated_at, locale, tz),
                ),
                isSubtle=True,
                size="Small",
            ),
        ],
    }
    return {
        "type": "Container",
        "separator": True,
        "spacing": "Medium",
        "items": [
            {
                "type": "ColumnSet",
                "columns": [
                    {
                        "type": "Column",
                        "width": "stretch",
                        "verticalContentAlignment": "Center",
                        "items": [
                            {
                                "type": "RichTextBlock",
                                "inlines": [
                                    run(one_line(ticket.title, 120), weight="Bolder"),
                                    *_unread(ticket.unread, locale),
                                ],
                            },
                            meta,
                        ],
                    },
                    badge(ticket.status, status_label(ticket.status, locale)),
                    {
                        "type": "Column",
                        "width": "auto",
                        "verticalContentAlignment": "Center",
                        "items": [
                            {
                                "type": "ActionSet",
                                "actions": [
                                    execute(
                                        t("card.action.open", locale),
                                        ActionData(Verb.OPEN, ticket_id=ticket.id),
                                        inputs=False,
                                    )
                                ],
                            }
                        ],
                    },
                ],
            }
        ],
    }


def _unread(count: int, locale: str | None) -> list[Json]:
    """Return the "2 new" mark after a title, or nothing when all was seen."""
    if count <= 0:
        return []
    key = "card.history.unread.one" if count == 1 else "card.history.unread.other"
    return [
        run(f"  ● {t(key, locale, count=count)}", color="Accent", weight="Bolder", size="Small")
    ]
