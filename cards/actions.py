"""Card action verbs and the typed payload every card button carries and every click returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final


class Verb(StrEnum):
    """The ``Action.Execute`` verbs the bot understands (DESIGN §4)."""

    NEW = "ticket.new"
    CREATE = "ticket.create"
    LIST = "ticket.list"
    OPEN = "ticket.open"
    REPLY = "ticket.reply"
    REFRESH = "ticket.refresh"
    REOPEN = "ticket.reopen"
    HELP_SOLVED = "help.solved"
    HELP_OPEN_ANYWAY = "help.open_anyway"
    RATE = "ticket.rate"
    ANSWER = "ticket.answer"
    RESOLVE = "ticket.resolve"


# Input ids a card may send back (DESIGN §4); anything else in a payload is ignored.
INPUT_IDS: Final = (
    "title",
    "description",
    "complexity",
    "sector",
    "for_other",
    "beneficiary_name",
    "beneficiary_email",
    "reply",
    "rating",
    "feedback",
    "answer",
)
# A form question's fields come back as ``answer.<field name>``.
ANSWER_PREFIX: Final = "answer."
_MAX_FIELDS: Final = 20

_NEEDS_TICKET: Final = frozenset(
    {Verb.OPEN, Verb.REPLY, Verb.REFRESH, Verb.REOPEN, Verb.RATE, Verb.ANSWER, Verb.RESOLVE}
)
_NEEDS_MESSAGE: Final = frozenset({Verb.RATE, Verb.ANSWER})
_NEEDS_FORM: Final = frozenset({Verb.CREATE, Verb.HELP_SOLVED, Verb.HELP_OPEN_ANYWAY})
_MAX_ID: Final = 2**63 - 1


class InvalidAction(ValueError):
    """A card action payload that is malformed, unknown or incomplete."""


@dataclass(frozen=True, slots=True)
class ActionData:
    """What a button carries (``data`` + verb) and what the bot gets back from a click.

    ``inputs`` holds the card's input values (only the DESIGN input ids, as strings); filled by
    :func:`parse_action`. A button built with inputs carries them in its ``data``, so a card
    without input fields (the Help Center suggestions) can still send back what was typed.
    """

    verb: Verb
    ticket_id: int | None = None
    page: int | None = None
    form_id: str | None = None
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # The timeline message a survey or bot-question card answers (``messageId``).
    message_id: int | None = None

    def to_data(self) -> dict[str, Any]:
        """Return an ``Action.Execute``'s ``data``: ``ticketId``, ``page``, ``formId``, inputs."""
        data: dict[str, Any] = dict(self.inputs)
        if self.ticket_id is not None:
            data["ticketId"] = self.ticket_id
        if self.message_id is not None:
            data["messageId"] = self.message_id
        if self.page is not None:
            data["page"] = self.page
        if self.form_id is not None:
            data["formId"] = self.form_id
        return data

    def to_submit_data(self) -> dict[str, Any]:
        """Return the ``data`` of the ``Action.Submit`` fallback: the same keys plus ``verb``."""
        return {"verb": self.verb.value, **self.to_data()}


def parse_action(value: Mapping[str, Any]) -> ActionData:
    """Parse a card click into :class:`ActionData`, raising :class:`InvalidAction` if it is junk.

    Accepts an ``adaptiveCard/action`` invoke value (``{"action": {...}}``), its ``action`` dict
    (``{"type": "Action.Execute", "verb", "data"}``) or an ``Action.Submit`` message ``value``
    (inputs and data merged, the verb inside as ``"verb"``). Teams' own ``msteams`` key and any
    unknown keys are ignored.
    """
    if not isinstance(value, Mapping):
        raise InvalidAction("action payload is not an object")
    action = value.get("action")
    if isinstance(action, Mapping):
        value = action
    if value.get("type") == "Action.Execute" or ("data" in value and "verb" in value):
        data = value.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InvalidAction("Action.Execute data is not an object")
        verb_raw = value.get("verb")
        inner = data.get("verb")
        if inner is not None and inner != verb_raw:
            raise InvalidAction("verb in data disagrees with the action's verb")
    else:
        data = value
        verb_raw = value.get("verb")
    action_data = ActionData(
        verb=_verb(verb_raw),
        ticket_id=_positive_int(data.get("ticketId"), "ticketId"),
        page=_positive_int(data.get("page"), "page"),
        form_id=_form_id(data.get("formId")),
        inputs=MappingProxyType(_inputs(data)),
        message_id=_positive_int(data.get("messageId"), "messageId"),
    )
    if action_data.verb in _NEEDS_TICKET and action_data.ticket_id is None:
        raise InvalidAction(f"{action_data.verb} needs a ticketId")
    if action_data.verb in _NEEDS_MESSAGE and action_data.message_id is None:
        raise InvalidAction(f"{action_data.verb} needs a messageId")
    if action_data.verb in _NEEDS_FORM and action_data.form_id is None:
        raise InvalidAction(f"{action_data.verb} needs a formId")
    return action_data


def _verb(raw: object) -> Verb:
    if not isinstance(raw, str):
        raise InvalidAction("missing verb")
    try:
        return Verb(raw)
    except ValueError:
        raise InvalidAction(f"unknown verb {raw[:40]!r}") from None


def _positive_int(raw: object, name: str) -> int | None:
    if raw is None:
        return None
    # Some clients stringify numbers in data; bool is an int subclass and never a valid id.
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= _MAX_ID:
        raise InvalidAction(f"{name} must be a positive integer")
    return raw


def _form_id(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not 1 <= len(raw) <= 64 or not raw.isprintable():
        raise InvalidAction("formId must be a short string")
    return raw


def _inputs(data: Mapping[str, Any]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for key in INPUT_IDS:
        raw = data.get(key)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise InvalidAction(f"input {key} is not a string")
        inputs[key] = raw
    fields = [key for key in data if isinstance(key, str) and key.startswith(ANSWER_PREFIX)]
    if len(fields) > _MAX_FIELDS:
        raise InvalidAction("too many answer fields")
    for key in fields:
        raw = data[key]
        if raw is None:
            continue
        if not isinstance(raw, str) or len(key) > 120:
            raise InvalidAction(f"input {key[:40]} is not a string")
        inputs[key] = raw
    return inputs
