"""The new-ticket form card: inputs with client-side checks, server errors and kept values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from cards.actions import ActionData, Verb
from cards.elements import Json, card, execute, text
from cards.text import choice_label, field_error
from cards.views import FormView
from i18n import t

TITLE_MAX: Final = 120
DESCRIPTION_MAX: Final = 5000
NAME_MAX: Final = 120
EMAIL_MAX: Final = 254
# Client-side hints only; the service re-validates everything (REFERENCE §5.5).
TITLE_REGEX: Final = r"^[\s\S]{3,120}$"
EMAIL_REGEX: Final = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"
BENEFICIARY_ID: Final = "beneficiary"


def ticket_form_card(view: FormView, locale: str | None) -> Json:
    """Build the new-ticket form; raises ``ValueError`` if a choice list is empty."""
    body: list[Json] = [
        text(t("form.title", locale), size="Large", weight="Bolder"),
        text(t("form.subtitle", locale), isSubtle=True, spacing="None"),
        *form_fields(view, locale),
    ]
    actions = [
        execute(
            t("card.action.create", locale),
            ActionData(Verb.CREATE, form_id=view.form_id),
            style="positive",
        ),
        execute(t("card.action.list", locale), ActionData(Verb.LIST, page=1), inputs=False),
    ]
    return card(body, actions, locale)


def form_fields(view: FormView, locale: str | None) -> list[Json]:
    """Build the form's notices and inputs (every form card shares them, whatever its buttons)."""
    if not view.complexities or not view.sectors:
        raise ValueError("the ticket form needs at least one complexity and one sector")
    body: list[Json] = []
    if view.notice:
        body.append(_banner(view.notice, "warning"))
    if view.errors:
        body.append(_banner(t("card.form.fix_errors", locale), "attention"))
    body += _field(
        {
            "type": "Input.Text",
            "id": "title",
            "label": t("form.title.label", locale),
            "placeholder": t("card.form.title.placeholder", locale),
            "isRequired": True,
            "errorMessage": t("card.err.title.length", locale),
            "regex": TITLE_REGEX,
            "maxLength": TITLE_MAX,
        },
        view,
        locale,
    )
    # Optional, as on the web page: the service accepts a ticket without a description.
    body += _field(
        {
            "type": "Input.Text",
            "id": "description",
            "label": f"{t('form.description.label', locale)} ({t('form.optional', locale)})",
            "placeholder": t("form.description.placeholder", locale),
            "isMultiline": True,
            "maxLength": DESCRIPTION_MAX,
        },
        view,
        locale,
    )
    # One under the other: side by side, Teams cuts the placeholders ("Choose the complexit").
    body += _field(_choice("complexity", view.complexities, view, locale), view, locale)
    body += _field(_choice("sector", view.sectors, view, locale), view, locale)
    body.append(_for_other(view, locale))
    return body


def _for_other(view: FormView, locale: str | None) -> Json:
    """Build the "for someone else" block: its fields stay folded until the person opens them."""
    values, errors = view.values, view.errors
    for_other = values.get("for_other", "false") in ("true", "on")
    opened = for_other or any(key.startswith("beneficiary_") for key in errors)
    return {
        "type": "Container",
        "style": "emphasis",
        "spacing": "Large",
        "items": [
            text(t("card.form.for_other.heading", locale), weight="Bolder"),
            text(
                t("card.form.for_other.hint", locale), size="Small", isSubtle=True, spacing="None"
            ),
            {
                "type": "ActionSet",
                "spacing": "Small",
                "actions": [
                    {
                        "type": "Action.ToggleVisibility",
                        "title": t("card.form.for_other.show", locale),
                        "targetElements": [BENEFICIARY_ID],
                    }
                ],
            },
            {
                "type": "Container",
                "id": BENEFICIARY_ID,
                "isVisible": opened,
                "items": [
                    {
                        "type": "Input.Toggle",
                        "id": "for_other",
                        "title": t("form.for_other.label", locale),
                        "value": "true" if for_other else "false",
                        "valueOn": "true",
                        "valueOff": "false",
                        "wrap": True,
                    },
                    *_field(
                        {
                            "type": "Input.Text",
                            "id": "beneficiary_name",
                            "label": t("form.beneficiary_name.label", locale),
                            "maxLength": NAME_MAX,
                        },
                        view,
                        locale,
                    ),
                    *_field(
                        {
                            "type": "Input.Text",
                            "id": "beneficiary_email",
                            "label": t("form.beneficiary_email.label", locale),
                            "placeholder": t("card.form.beneficiary_email.placeholder", locale),
                            "style": "Email",
                            "regex": EMAIL_REGEX,
                            "errorMessage": t("card.err.beneficiary_email.invalid_email", locale),
                            "maxLength": EMAIL_MAX,
                        },
                        view,
                        locale,
                    ),
                ],
            },
        ],
    }


def _banner(message: str, style: str) -> Json:
    return {
        "type": "Container",
        "style": style,
        "spacing": "Medium",
        "items": [text(message, weight="Bolder", size="Small")],
    }


def _field(element: dict[str, Any], view: FormView, locale: str | None) -> list[Json]:
    """Return the input with its kept value, followed by its server error line if any."""
    input_id = element["id"]
    value = view.values.get(input_id)
    # A kept choice that is no longer on the list would be an invisible selection; drop it.
    choices = [choice["value"] for choice in element.get("choices", ())]
    if value and (not choices or value in choices):
        element["value"] = value
    elements: list[Json] = [element]
    code = view.errors.get(input_id)
    if code:
        elements.append(
            text(
                "⚠ " + field_error(input_id, code, locale),
                color="Attention",
                size="Small",
                spacing="Small",
            )
        )
    return elements


def _choice(field: str, options: Sequence[str], view: FormView, locale: str | None) -> Json:
    choice: Json = {
        "type": "Input.ChoiceSet",
        "id": field,
        "label": t(f"form.{field}.label", locale),
        "placeholder": t(f"form.{field}.placeholder", locale),
        "style": "compact",
        "isRequired": True,
        "errorMessage": t(f"card.err.{field}.required", locale),
        "choices": [
            {"title": choice_label(view.labels, field, option, locale), "value": option}
            for option in options
        ],
    }
    return choice
