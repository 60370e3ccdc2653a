"""The error card shown by the bot's error boundary."""

from __future__ import annotations

from cards.actions import ActionData, Verb
from cards.elements import Json, card, execute, one_line, text
from i18n import t


def error_card(message: str, error_id: str, locale: str | None) -> Json:
    """Build the card for a failed action: a friendly sentence and the error id to quote."""
    body = [
        {
            "type": "Container",
            "style": "attention",
            "bleed": True,
            "items": [text("⚠️ " + t("error.title", locale), size="Medium", weight="Bolder")],
        },
        text(message, spacing="Medium"),
        text(
            t("card.error.id", locale, error_id=one_line(error_id, 64)),
            fontType="Monospace",
            size="Small",
            isSubtle=True,
        ),
        text(t("card.error.hint", locale), size="Small", isSubtle=True, spacing="None"),
    ]
    actions = [execute(t("card.action.list", locale), ActionData(Verb.LIST, page=1), inputs=False)]
    return card(body, actions, locale)
