"""The "which ticket is this for?" card: free text in Teams while several tickets are open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cards.actions import ActionData, Verb
from cards.elements import Json, badge, card, execute, one_line, plain, rich, run, text
from cards.ticket import REPLY_MAX
from cards.views import TicketSummary
from i18n import status_label, t

# The newest open tickets offered; older ones are a "my tickets" away.
MAX_CHOICES: Final = 6


def choose_ticket_card(message: str, tickets: Sequence[TicketSummary], locale: str | None) -> Json:
    """Ask which open ticket a typed message is for, keeping the message in an editable box.

    Each ticket's button sends the box as a reply to it (``ticket.reply``); "new ticket" opens
    the form with the message as its description. Raises ``ValueError`` without tickets.
    """
    if not tickets:
        raise ValueError("a choice needs at least one ticket")
    body: list[Json] = [
        text(t("card.choose.title", locale), size="Medium", weight="Bolder"),
        text(t("card.choose.hint", locale), isSubtle=True, spacing="Small"),
        {
            "type": "Input.Text",
            "id": "reply",
            "label": t("card.choose.message", locale),
            "value": plain(message)[:REPLY_MAX],
            "isMultiline": True,
            "isRequired": True,
            "errorMessage": t("card.err.reply.required", locale),
            "maxLength": REPLY_MAX,
        },
        *(_row(ticket, locale) for ticket in tickets[:MAX_CHOICES]),
    ]
    actions = [execute(t("card.choose.new", locale), ActionData(Verb.NEW), style="positive")]
    return card(body, actions, locale)


def _row(ticket: TicketSummary, locale: str | None) -> Json:
    meta = [run(f"#{ticket.id}", isSubtle=True, size="Small")]
    if ticket.unread:
        key = "card.history.unread.one" if ticket.unread == 1 else "card.history.unread.other"
        unread = f" · ● {t(key, locale, count=ticket.unread)}"
        meta.append(run(unread, color="Accent", weight="Bolder", size="Small"))
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
                            rich(one_line(ticket.title, 120), weight="Bolder"),
                            {"type": "RichTextBlock", "spacing": "None", "inlines": meta},
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
                                        t("card.choose.send", locale),
                                        ActionData(Verb.REPLY, ticket_id=ticket.id),
                                        style="positive",
                                    )
                                ],
                            }
                        ],
                    },
                ],
            }
        ],
    }
