"""The errors the ticket service raises; each front door turns them into text in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

from chatwoot.errors import ChatwootRejected, ChatwootUnavailable

T = TypeVar("T")


class TicketError(Exception):
    """Base of the errors a front door turns into a message for the user."""


class FormInvalid(TicketError):
    """The form has errors: field id -> error code; `values` keeps what the user typed."""

    def __init__(self, errors: Mapping[str, str], values: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in errors.items()))
        self.errors = dict(errors)
        self.values = dict(values)


class TicketNotFound(TicketError):
    """No such ticket for this user (never says whether it exists for someone else)."""


class HelpdeskUnavailable(TicketError):
    """Chatwoot did not answer; nothing was lost, the user may retry."""


class HelpdeskRejected(TicketError):
    """Chatwoot refused the request; `message` is its reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def helpdesk_call(call: Awaitable[T]) -> T:
    """Await a Chatwoot call, turning its errors into the service's (nothing else leaks out)."""
    try:
        return await call
    except ChatwootUnavailable as exc:
        raise HelpdeskUnavailable(exc.message) from exc
    except ChatwootRejected as exc:
        raise HelpdeskRejected(exc.message) from exc
