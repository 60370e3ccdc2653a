"""Error types raised by the Chatwoot edge (client, webhooks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from chatwoot.fields import as_str


class ChatwootError(Exception):
    """Base class of every error the Chatwoot edge raises."""


class ChatwootUnavailable(ChatwootError):
    """Report that Chatwoot could not be reached or answered 5xx/429.

    ``request_sent`` is False only when the connection failed before the request left,
    so the caller knows a create call certainly did not happen.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.request_sent = request_sent


class ChatwootRejected(ChatwootError):
    """Report a 4xx answer, carrying Chatwoot's own message and the invalid attributes."""

    def __init__(self, status: int, message: str, attributes: Sequence[str] = ()) -> None:
        super().__init__(f"Chatwoot rejected the request ({status}): {message}")
        self.status = status
        self.message = message
        self.attributes: tuple[str, ...] = tuple(attributes)


class ChatwootNotFound(ChatwootRejected):
    """Report a 404: unknown inbox, contact, conversation or message."""


class WebhookSignatureError(ChatwootError):
    """Report a webhook whose signature or timestamp does not check out."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"webhook refused: {reason}")
        self.reason = reason


class WebhookPayloadError(ChatwootError):
    """Report a webhook body that is not a JSON object."""


def retry_after(response: httpx.Response) -> float | None:
    """Read a Retry-After header in seconds (None when absent or not a number)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def rejection(response: httpx.Response) -> ChatwootRejected:
    """Turn a 4xx answer into a typed error carrying Chatwoot's own message."""
    message = response.reason_phrase or "rejected"
    attributes: Sequence[str] = ()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        # RecordInvalid → {"message", "attributes"}; other errors → {"error"}.
        message = as_str(body.get("message")) or as_str(body.get("error")) or message
        raw = body.get("attributes")
        if isinstance(raw, list):
            attributes = [str(item) for item in raw]
    elif response.text.strip():
        message = response.text.strip()[:200]
    if response.status_code == 404:
        return ChatwootNotFound(404, message, attributes)
    return ChatwootRejected(response.status_code, message, attributes)
