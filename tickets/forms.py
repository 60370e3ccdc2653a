"""Validate the ticket form (web and Teams post the same fields; the service checks them)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickets.errors import FormInvalid

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MAX = 5000
NAME_MAX = 200
MESSAGE_MAX = 10000
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
FIELDS = (
    "title",
    "description",
    "complexity",
    "sector",
    "for_other",
    "beneficiary_name",
    "beneficiary_email",
)


@dataclass(frozen=True)
class TicketForm:
    """A valid ticket request."""

    title: str
    description: str
    complexity: str
    sector: str
    for_other: bool
    beneficiary_name: str | None
    beneficiary_email: str | None

    def first_message(self) -> str:
        """Return the ticket's opening message: the title, then the description if any."""
        return f"{self.title}\n\n{self.description}" if self.description else self.title

    def as_fields(self) -> dict[str, str]:
        """Return the form as the fields it was posted with (to validate it again)."""
        return {
            "title": self.title,
            "description": self.description,
            "complexity": self.complexity,
            "sector": self.sector,
            "for_other": "on" if self.for_other else "",
            "beneficiary_name": self.beneficiary_name or "",
            "beneficiary_email": self.beneficiary_email or "",
        }


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value).replace("\r\n", "\n").strip()


def _truthy(value: str) -> bool:
    return value.lower() in {"on", "true", "1", "yes"}


def validate_ticket_form(
    raw: Mapping[str, Any], *, complexities: Sequence[str], sectors: Sequence[str]
) -> TicketForm:
    """Check every field; raise FormInvalid with codes (required, too_short, too_long, ...)."""
    values = {key: _text(raw, key) for key in FIELDS}
    errors: dict[str, str] = {}
    title = " ".join(values["title"].split())
    if not title:
        errors["title"] = "required"
    elif len(title) < TITLE_MIN:
        errors["title"] = "too_short"
    elif len(title) > TITLE_MAX:
        errors["title"] = "too_long"
    description = values["description"]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = "too_long"
    for key, allowed in (("complexity", complexities), ("sector", sectors)):
        if not values[key]:
            errors[key] = "required"
        elif values[key] not in allowed:
            errors[key] = "invalid_choice"
    for_other = _truthy(values["for_other"])
    name = " ".join(values["beneficiary_name"].split()) or None
    email = values["beneficiary_email"].lower() or None
    if for_other:
        if not name:
            errors["beneficiary_name"] = "required"
        elif len(name) > NAME_MAX:
            errors["beneficiary_name"] = "too_long"
        if not email:
            errors["beneficiary_email"] = "required"
        elif len(email) > 320 or not EMAIL_RE.match(email):
            errors["beneficiary_email"] = "invalid_email"
    if errors:
        raise FormInvalid(errors, values)
    return TicketForm(
        title=title,
        description=description,
        complexity=values["complexity"],
        sector=values["sector"],
        for_other=for_other,
        beneficiary_name=name if for_other else None,
        beneficiary_email=email if for_other else None,
    )


def validate_message(content: object, *, allow_empty: bool = False) -> str:
    """Return the trimmed message, or raise FormInvalid for empty or oversized content.

    `allow_empty` is for a message that carries files: its text is optional.
    """
    text = "" if content is None else str(content).replace("\r\n", "\n").strip()
    if not text and not allow_empty:
        raise FormInvalid({"content": "required"}, {"content": ""})
    if len(text) > MESSAGE_MAX:
        raise FormInvalid({"content": "too_long"}, {"content": text[:MESSAGE_MAX]})
    return text
