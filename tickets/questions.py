"""Bot questions and the satisfaction survey as plain data: what to show, what an answer may be.

Chatwoot keeps a question's shape in ``content_attributes.items`` and the contact's answer in
``content_attributes.submitted_values`` (a list of ``{name, title, value}``, or for the survey
``{"csat_survey_response": {"rating", "feedback_message"}}``). Both front doors render from
these views, so the web and Teams agree on what was asked and what was answered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

SURVEY: Final = "input_csat"
QUESTION_TYPES: Final = frozenset({"input_select", "cards", "form", "input_email"})
# Chatwoot refuses a survey answer once the survey is more than 14 calendar days old.
SURVEY_LOCK_DAYS: Final = 14
MAX_FEEDBACK: Final = 2000
MAX_VALUE: Final = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FORM_TYPES: Final = frozenset({"text", "text_area", "email", "select"})


class AnswerInvalid(ValueError):
    """An answer the question does not accept; ``field`` names the part that is wrong."""

    def __init__(self, field_name: str, code: str) -> None:
        super().__init__(f"{field_name}: {code}")
        self.field = field_name
        self.code = code


@dataclass(frozen=True, slots=True)
class Choice:
    """One option: what the person sees and the value Chatwoot gets."""

    title: str
    value: str


@dataclass(frozen=True, slots=True)
class CardItem:
    """One card of a ``cards`` message: text, an image, link buttons and answer buttons."""

    title: str
    description: str
    image: str | None
    links: tuple[Choice, ...]
    answers: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a ``form`` message."""

    name: str
    label: str
    kind: str
    placeholder: str
    required: bool
    default: str
    options: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    """A bot question and, once answered, the chosen answer as ``{name, title, value}`` rows."""

    kind: str
    choices: tuple[Choice, ...] = ()
    cards: tuple[CardItem, ...] = ()
    fields: tuple[FormField, ...] = ()
    answer: tuple[Mapping[str, str], ...] | None = None

    @property
    def answered(self) -> bool:
        """Tell whether the question already has its answer."""
        return self.answer is not None

    def answer_text(self) -> str:
        """Return the chosen answer as one line (titles, or ``label: value`` for a form)."""
        if not self.answer:
            return ""
        if self.kind == "form":
            fields = {f.name: f for f in self.fields}
            return "; ".join(
                _form_line(fields.get(row.get("name", "")), row) for row in self.answer
            )
        return ", ".join(row.get("title") or row.get("value", "") for row in self.answer)

    def to_json(self) -> dict[str, Any]:
        """Render with the JSON API's names."""
        return {
            "kind": self.kind,
            "choices": [{"title": c.title, "value": c.value} for c in self.choices],
            "cards": [
                {
                    "title": c.title,
                    "description": c.description,
                    "image": c.image,
                    "links": [{"title": x.title, "url": x.value} for x in c.links],
                    "answers": [{"title": x.title, "value": x.value} for x in c.answers],
                }
                for c in self.cards
            ],
            "fields": [
                {
                    "name": f.name,
                    "label": f.label,
                    "type": f.kind,
                    "placeholder": f.placeholder,
                    "required": f.required,
                    "default": f.default,
                    "options": [{"title": o.title, "value": o.value} for o in f.options],
                }
                for f in self.fields
            ],
            "answered": self.answered,
            "answer": [dict(row) for row in self.answer] if self.answer is not None else None,
            "answerText": self.answer_text(),
        }


@dataclass(frozen=True, slots=True)
class Survey:
    """The satisfaction survey: its answer so far and whether Chatwoot still takes one."""

    rating: int | None
    feedback: str | None
    closed: bool
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        """Render with the JSON API's names."""
        return {
            "rating": self.rating,
            "feedback": self.feedback,
            "closed": self.closed,
            "answered": self.rating is not None,
        }


def _form_line(spec: FormField | None, row: Mapping[str, str]) -> str:
    """Say one answered field as ``label: value``, a select's value by its option's title."""
    value = row.get("value", "")
    if spec is None:
        return f"{row.get('name', '')}: {value}"
    shown = next((o.title for o in spec.options if o.value == value), value)
    return f"{spec.label}: {shown}"


def _text(raw: object, limit: int = MAX_VALUE) -> str:
    if isinstance(raw, bool) or raw is None:
        return ""
    if isinstance(raw, int | float):
        raw = str(raw)
    return raw[:limit] if isinstance(raw, str) else ""


def _choices(raw: object, title_key: str = "title") -> tuple[Choice, ...]:
    if not isinstance(raw, list):
        return ()
    found = []
    for item in raw:
        if isinstance(item, Mapping):
            title = _text(item.get(title_key))
            value = _text(item.get("value")) or title
            if title or value:
                found.append(Choice(title or value, value))
    return tuple(found)


def _web_link(raw: object) -> str | None:
    text = _text(raw, 2000)
    return text if text.startswith(("https://", "http://")) else None


def _card(item: Mapping[str, Any]) -> CardItem:
    links: list[Choice] = []
    answers: list[Choice] = []
    actions = item.get("actions")
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, Mapping):
            continue
        text = _text(action.get("text"))
        if action.get("type") == "link":
            uri = _web_link(action.get("uri"))
            if uri:
                links.append(Choice(text or uri, uri))
        elif text or action.get("payload"):
            answers.append(Choice(text or _text(action.get("payload")), _payload(action, text)))
    return CardItem(
        title=_text(item.get("title")),
        description=_text(item.get("description"), 4000),
        image=_web_link(item.get("media_url")),
        links=tuple(links),
        answers=tuple(answers),
    )


def _payload(action: Mapping[str, Any], text: str) -> str:
    return _text(action.get("payload")) or text


def _field(item: Mapping[str, Any]) -> FormField | None:
    name = _text(item.get("name"), 100)
    if not name:
        return None
    kind = _text(item.get("type"), 20)
    return FormField(
        name=name,
        label=_text(item.get("label")) or _text(item.get("title")) or name,
        kind=kind if kind in _FORM_TYPES else "text",
        placeholder=_text(item.get("placeholder")),
        required=item.get("required") is True,
        default=_text(item.get("default")),
        options=_choices(item.get("options"), "label"),
    )


def _submitted(attributes: Mapping[str, Any]) -> tuple[Mapping[str, str], ...] | None:
    raw = attributes.get("submitted_values")
    if not isinstance(raw, list) or not raw:
        email = attributes.get("submitted_email")
        if isinstance(email, str) and email:
            return ({"name": "email", "title": email, "value": email},)
        return None
    rows = []
    for row in raw:
        if isinstance(row, Mapping):
            rows.append({k: _text(row.get(k)) for k in ("name", "title", "value") if k in row})
    return tuple(rows) if rows else None


def question_of(content_type: str, attributes: Mapping[str, Any]) -> Question | None:
    """Read a bot question from a message, or None when the message is not one."""
    if content_type not in QUESTION_TYPES:
        return None
    items = attributes.get("items")
    items = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
    answer = _submitted(attributes)
    if content_type == "input_select":
        return Question("input_select", choices=_choices(items), answer=answer)
    if content_type == "cards":
        return Question("cards", cards=tuple(_card(i) for i in items), answer=answer)
    if content_type == "form":
        fields = tuple(f for f in (_field(i) for i in items) if f is not None)
        return Question("form", fields=fields, answer=answer)
    return Question("input_email", answer=answer)


def survey_of(
    content_type: str,
    attributes: Mapping[str, Any],
    sent_at: datetime,
    now: datetime | None = None,
) -> Survey | None:
    """Read the satisfaction survey from a message, or None when the message is not one."""
    if content_type != SURVEY:
        return None
    values = attributes.get("submitted_values")
    response = values.get("csat_survey_response") if isinstance(values, Mapping) else None
    rating = response.get("rating") if isinstance(response, Mapping) else None
    feedback = response.get("feedback_message") if isinstance(response, Mapping) else None
    valid = isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5
    return Survey(
        rating=rating if valid else None,
        feedback=feedback if isinstance(feedback, str) and feedback else None,
        closed=survey_closed(sent_at, now),
        sent_at=sent_at,
    )


def survey_closed(sent_at: datetime, now: datetime | None = None) -> bool:
    """Tell whether Chatwoot's lock applies: more than 14 calendar days (UTC) since it was sent."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return (today - sent_at.astimezone(UTC).date()).days > SURVEY_LOCK_DAYS


def rating_of(raw: object) -> int:
    """Return a 1-5 rating (an integer, or its digits), else raise AnswerInvalid."""
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) == 1:
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
        raise AnswerInvalid("rating", "out_of_range")
    return raw


def feedback_of(raw: object) -> str | None:
    """Return the survey comment, trimmed (None when empty), else raise AnswerInvalid."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise AnswerInvalid("feedback", "invalid")
    text = raw.strip()
    if len(text) > MAX_FEEDBACK:
        raise AnswerInvalid("feedback", "too_long")
    return text or None


def _given(values: Sequence[object]) -> dict[str, str]:
    """Read ``[{"name", "value"}]`` or bare strings into name -> value (bare strings: ``""``)."""
    given: dict[str, str] = {}
    for raw in values:
        name: object = ""
        value: object = raw
        if isinstance(raw, Mapping):
            name, value = raw.get("name", ""), raw.get("value")
            if not isinstance(name, str):
                raise AnswerInvalid("values", "invalid")
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
        elif not isinstance(raw, str):
            raise AnswerInvalid("values", "invalid")
        assert isinstance(name, str)
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise AnswerInvalid(name or "values", "invalid")
        if name in given:
            raise AnswerInvalid(name or "values", "repeated")
        given[name] = value.strip()
    return given


def _one_of(given: dict[str, str], choices: Sequence[Choice]) -> list[dict[str, str]]:
    if len(given) != 1:
        raise AnswerInvalid("values", "one_value")
    value = next(iter(given.values()))
    chosen = next((c for c in choices if value in (c.value, c.title)), None)
    if chosen is None:
        raise AnswerInvalid("values", "not_an_option")
    return [{"title": chosen.title, "value": chosen.value}]


def _form(given: dict[str, str], fields: Sequence[FormField]) -> list[dict[str, str]]:
    names = {f.name for f in fields}
    unknown = sorted(set(given) - names)
    if unknown:
        raise AnswerInvalid(unknown[0] or "values", "unknown_field")
    rows = []
    for f in fields:
        value = given.get(f.name, "")
        if not value:
            if f.required:
                raise AnswerInvalid(f.name, "required")
            continue
        if f.kind == "email" and not _EMAIL.match(value):
            raise AnswerInvalid(f.name, "email")
        if f.kind == "select":
            chosen = next((o for o in f.options if value in (o.value, o.title)), None)
            if chosen is None:
                raise AnswerInvalid(f.name, "not_an_option")
            value = chosen.value
        rows.append({"name": f.name, "title": f.label, "value": value})
    if not rows:
        raise AnswerInvalid("values", "required")
    return rows


def answer_rows(question: Question, values: Sequence[object]) -> list[dict[str, str]]:
    """Check an answer against its question; return Chatwoot's ``submitted_values`` rows."""
    if not isinstance(values, list | tuple) or not values:
        raise AnswerInvalid("values", "required")
    given = _given(values)
    if question.kind == "input_select":
        return _one_of(given, question.choices)
    if question.kind == "cards":
        return _one_of(given, [a for card in question.cards for a in card.answers])
    if question.kind == "form":
        return _form(given, question.fields)
    if len(given) != 1:
        raise AnswerInvalid("values", "one_value")
    email = next(iter(given.values()))
    if not _EMAIL.match(email):
        raise AnswerInvalid("values", "email")
    return [{"name": "email", "title": email, "value": email}]
