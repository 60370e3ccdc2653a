"""Chatwoot's validation rules the sandbox enforces (what Rails answers with a 422)."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import RecordInvalid

MAX_ATTRIBUTE_STRING = 1500
MAX_ATTRIBUTE_INTEGER = 9_999_999_999
FLOOD_LIMIT_PER_MINUTE = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_attributes(attributes: dict[str, Any]) -> None:
    """Refuse custom attributes Chatwoot's length validator would refuse (422)."""
    for key, value in attributes.items():
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_STRING:
            raise RecordInvalid(
                f"Custom attributes {key} length should be < {MAX_ATTRIBUTE_STRING}",
                ["custom_attributes"],
            )
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and abs(value) > MAX_ATTRIBUTE_INTEGER
        ):
            raise RecordInvalid(
                f"Custom attributes {key} value should be < {MAX_ATTRIBUTE_INTEGER}",
                ["custom_attributes"],
            )


def text_param(value: Any) -> str | None:
    """Return a parameter as stripped text, or None when blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def object_param(value: Any) -> dict[str, Any]:
    """Return a parameter as a dict (anything else is an empty one)."""
    return dict(value) if isinstance(value, dict) else {}
