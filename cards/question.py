"""A bot question as a card: option buttons, rich cards, a form or an e-mail box; then its answer.

Every answer goes back with the ``ticket.answer`` verb: a tapped option carries its value in
``answer``, an e-mail box is the input ``answer``, a form's fields are ``answer.<name>``. Once
answered the card shows the chosen answer and no controls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cards.actions import ANSWER_PREFIX, ActionData, Verb
from cards.elements import Json, card, clip, execute, one_line, rich, text
from i18n import t

QUESTION_BYTES: Final = 6_000
MAX_CHOICES: Final = 12


@dataclass(frozen=True, slots=True)
class Option:
    """An answer button or a select option: what is shown and the value sent back."""

    title: str
    value: str


@dataclass(frozen=True, slots=True)
class RichItem:
    """One item of a ``cards`` question."""

    title: str
    description: str = ""
    image: str | None = None
    links: Sequence[Option] = ()
    answers: Sequence[Option] = ()


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a ``form`` question (``kind``: text, text_area, email, select)."""

    name: str
    label: str
    kind: str = "text"
    placeholder: str = ""
    required: bool = False
    default: str = ""
    options: Sequence[Option] = ()


@dataclass(frozen=True, slots=True)
class QuestionView:
    """A bot question of a ticket; ``answer`` is the chosen answer as one line, once given."""

    ticket_id: int
    message_id: int
    title: str
    author: str
    prompt: str
    kind: str
    choices: Sequence[Option] = ()
    items: Sequence[RichItem] = ()
    fields: Sequence[Field] = field(default_factory=tuple)
    answer: str | None = None


def _action(view: QuestionView, value: str | None = None) -> ActionData:
    inputs = {"answer": value} if value is not None else {}
    return ActionData(
        Verb.ANSWER, ticket_id=view.ticket_id, message_id=view.message_id, inputs=inputs
    )


def _option_buttons(view: QuestionView, options: Sequence[Option]) -> list[Json]:
    return [
        execute(one_line(option.title, 60), _action(view, option.value), inputs=False)
        for option in options[:MAX_CHOICES]
    ]


def _rich_item(view: QuestionView, item: RichItem) -> Json:
    items: list[Json] = []
    if item.image:
        items.append({"type": "Image", "url": item.image, "altText": one_line(item.title, 120)})
    if item.title:
        items.append(rich(one_line(item.title, 200), weight="Bolder"))
    if item.description:
        items.append(rich(clip(item.description, 1_500)[0], spacing="Small"))
    actions: list[Json] = [
        {"type": "Action.OpenUrl", "title": one_line(link.title, 60), "url": link.value}
        for link in item.links
    ]
    actions += _option_buttons(view, item.answers)
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "style": "emphasis", "spacing": "Medium", "items": items}


def _input(view_field: Field, locale: str | None, *, input_id: str) -> Json:
    label = view_field.label
    if view_field.kind == "select":
        return {
            "type": "Input.ChoiceSet",
            "id": input_id,
            "label": label,
            "isRequired": view_field.required,
            "placeholder": t("ticket.question.choose", locale),
            "value": view_field.default,
            "choices": [
                {"title": one_line(o.title, 80), "value": o.value} for o in view_field.options[:50]
            ],
        }
    element: Json = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isRequired": view_field.required,
        "maxLength": 1000,
        "value": view_field.default,
    }
    if view_field.placeholder:
        element["placeholder"] = view_field.placeholder
    if view_field.kind == "email":
        element["style"] = "Email"
    if view_field.kind == "text_area":
        element["isMultiline"] = True
    if view_field.required:
        element["errorMessage"] = t("ticket.question.invalid", locale)
    return element


def question_card(view: QuestionView, locale: str | None) -> Json:
    """Build the card of a bot question: native controls until answered, then the answer."""
    body: list[Json] = [
        text(t("card.question.title", locale), size="Small", isSubtle=True),
        rich(one_line(view.title, 120), spacing="None", weight="Bolder"),
    ]
    if view.prompt:
        body.append(rich(clip(view.prompt, QUESTION_BYTES)[0], spacing="Medium"))
    if view.answer is not None:
        if view.kind == "cards":
            body += [_rich_item_static(item) for item in view.items]
        body.append(
            text(
                t("ticket.question.answer", locale, answer=one_line(view.answer, 300)),
                weight="Bolder",
                color="Good",
            )
        )
        return card(body, [_view_ticket(view.ticket_id, locale)], locale)
    actions: list[Json] = []
    if view.kind == "input_select":
        body.append({"type": "ActionSet", "actions": _option_buttons(view, view.choices)})
    elif view.kind == "cards":
        body += [_rich_item(view, item) for item in view.items]
    elif view.kind == "input_email":
        email = Field("email", t("ticket.question.email", locale), "email", required=True)
        body.append(_input(email, locale, input_id="answer"))
        actions.append(execute(t("ticket.question.send", locale), _action(view), style="positive"))
    else:
        body += [_input(f, locale, input_id=f"{ANSWER_PREFIX}{f.name}") for f in view.fields[:20]]
        actions.append(execute(t("ticket.question.send", locale), _action(view), style="positive"))
    return card(body, actions, locale)


def _rich_item_static(item: RichItem) -> Json:
    """Show an answered ``cards`` item: its text and links, no answer buttons."""
    items: list[Json] = []
    if item.title:
        items.append(rich(one_line(item.title, 200), weight="Bolder"))
    links = [
        {"type": "Action.OpenUrl", "title": one_line(link.title, 60), "url": link.value}
        for link in item.links
    ]
    if links:
        items.append({"type": "ActionSet", "actions": links})
    return {"type": "Container", "spacing": "Small", "items": items or [rich("")]}


def _view_ticket(ticket_id: int, locale: str | None) -> Json:
    return execute(
        t("card.action.view", locale), ActionData(Verb.OPEN, ticket_id=ticket_id), inputs=False
    )
