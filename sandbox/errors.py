"""Errors the sandbox answers the way Rails would."""

from __future__ import annotations


class RecordInvalid(Exception):
    """Raise for what Rails reports as ``ActiveRecord::RecordInvalid`` (HTTP 422)."""

    def __init__(self, message: str, attributes: list[str]) -> None:
        super().__init__(message)
        self.message = message
        self.attributes = attributes
