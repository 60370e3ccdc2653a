"""The ticket form as a Teams dialog, opened from a message's "…" menu (a message action).

A dialog is submitted by ``Action.Submit`` (Teams sends ``composeExtension/submitAction``), so its
one button carries the form's verb and form id in ``data``, like every Submit fallback does.
"""

from __future__ import annotations

from cards.actions import ActionData, Verb
from cards.elements import Json, card, text
from cards.form import form_fields
from cards.views import FormView
from i18n import t


def message_ticket_card(view: FormView, locale: str | None) -> Json:
    """Build the dialog's form: the shared inputs (prefilled) and one submit button."""
    body: list[Json] = [
        text(t("card.extension.title", locale), size="Large", weight="Bolder"),
        text(t("card.extension.subtitle", locale), isSubtle=True, spacing="None"),
        *form_fields(view, locale),
    ]
    submit: Json = {
        "type": "Action.Submit",
        "title": t("card.action.create", locale),
        "style": "positive",
        "data": ActionData(Verb.CREATE, form_id=view.form_id).to_submit_data(),
    }
    return card(body, [submit], locale)
