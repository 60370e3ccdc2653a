"""The one door to Teams for outbound work: send, update a card, open a 1:1 chat; typed outcomes.

Botbuilder 4.17.1 is the final release of its SDK; everything outbound goes through here so a move
to its successor touches this module (and `bot.auth`) only. Callers get a :class:`Delivery`,
never an SDK exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ResourceResponse,
)
from botframework.connector.auth import AuthenticateRequestResult
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.connector import ConnectorPool

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 20.0
TEAMS_CHANNEL = "msteams"


class Outcome(StrEnum):
    """What became of one outbound call."""

    SENT = "sent"
    BLOCKED = "blocked"
    UNINSTALLED = "uninstalled"
    GONE = "gone"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    TOO_LARGE = "too_large"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """The typed result of a send, update or create: outcome plus what Teams said."""

    outcome: Outcome
    activity_id: str | None = None
    retry_after: float | None = None
    status: int | None = None
    code: str | None = None
    detail: str = ""
    # The call was abandoned at the timeout while its thread may still be sending it.
    in_flight: bool = False

    @property
    def ok(self) -> bool:
        """Tell whether Teams accepted the call."""
        return self.outcome is Outcome.SENT


@dataclass(frozen=True)
class OutgoingMessage:
    """A plain-text line (sent with ``textFormat`` plain), one Adaptive Card, or "typing…"."""

    text: str | None = None
    card: dict[str, Any] | None = None
    typing: bool = False

    def to_activity(self) -> Activity:
        """Build the message (or typing) activity."""
        if self.typing:
            return Activity(type=ActivityTypes.typing)
        if self.card is not None:
            return Activity(
                type=ActivityTypes.message,
                attachments=[CardFactory.adaptive_card(self.card)],
                text=self.text,
            )
        return Activity(type=ActivityTypes.message, text=self.text or "", text_format="plain")


# Codes Teams uses for "the bot may not write here any more" (REFERENCE §4.4).
_BLOCKED_CODES = frozenset({"ConversationBlockedByUser"})
_UNINSTALLED_CODES = frozenset(
    {
        "BotNotInConversationRoster",
        "ForbiddenOperationException",
        "BotDisabledByAdmin",
        "NotEnoughPermissions",
        "InvalidBotApiHost",
        "MessageWritesBlocked",
    }
)
_TRANSIENT_STATUSES = frozenset({408, 412, 502, 503, 504})


class TeamsGateway:
    """Send, update and create Teams conversations by the Bot Connector REST calls, one try each.

    Proactive calls go straight to a cached ``ConnectorClient`` (``bot.connector``) rather than
    through ``continue_conversation``, which builds two SDK clients per call. No retries happen
    here (msrest's own PUT retries are switched off too): the outbox decides when to try again,
    from the outcome and ``retry_after``.
    """

    def __init__(
        self, adapter: CloudAdapter, app_id: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._app_id = app_id
        self._timeout = timeout
        self._connectors = ConnectorPool(
            adapter.bot_framework_authentication, app_id, timeout=timeout
        )

    @property
    def app_id(self) -> str:
        """The bot's app id (empty in loopback development)."""
        return self._app_id

    def for_turn(
        self, result: AuthenticateRequestResult, wrap: Callable[[Any], Any] | None = None
    ) -> AuthenticateRequestResult:
        """Let an incoming turn reply through the cached clients (``ConnectorPool.for_turn``)."""
        return self._connectors.for_turn(result, wrap)

    async def close(self) -> None:
        """Close the cached connector clients' HTTP sessions."""
        await self._connectors.close()

    async def send(self, reference: Mapping[str, Any], message: OutgoingMessage) -> Delivery:
        """Post a new message to the conversation of a stored reference."""
        ref = _parse(reference)
        if isinstance(ref, Delivery):
            return ref
        # A new message, not a reply: no replyToId, so the POST goes to .../activities.
        activity = _addressed(message.to_activity(), ref)

        async def call(client: Any) -> Any:
            return await client.conversations.send_to_conversation(ref.conversation.id, activity)

        result = await self._call(ref.service_url, call)
        if isinstance(result, Delivery):
            return result
        return Delivery(Outcome.SENT, activity_id=_id_of(result))

    async def update(
        self, reference: Mapping[str, Any], activity_id: str, message: OutgoingMessage
    ) -> Delivery:
        """Replace a message we sent earlier (a ticket card) in place."""
        ref = _parse(reference)
        if isinstance(ref, Delivery):
            return ref
        activity = _addressed(message.to_activity(), ref)
        activity.id = activity_id

        async def call(client: Any) -> Any:
            return await client.conversations.update_activity(
                ref.conversation.id, activity_id, activity
            )

        result = await self._call(ref.service_url, call)
        if isinstance(result, Delivery):
            return result
        return Delivery(Outcome.SENT, activity_id=_id_of(result) or activity_id)

    async def create_personal_conversation(
        self, *, service_url: str, tenant_id: str, user_aad_id: str
    ) -> tuple[Delivery, dict[str, Any] | None]:
        """Open (or find) the bot's 1:1 chat with a user; return the new serialized reference."""
        bot = ChannelAccount(id=f"28:{self._app_id}" if self._app_id else "bot")
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            # The AAD object id goes in `id`; Teams answers 400 when it is in `aadObjectId`.
            members=[ChannelAccount(id=user_aad_id)],
            tenant_id=tenant_id,
            # `tenant_id` serializes as `tenantID`; Teams reads the tenant from channelData.
            channel_data={"tenant": {"id": tenant_id}},
        )

        async def call(client: Any) -> Any:
            return await client.conversations.create_conversation(parameters)

        result = await self._call(service_url, call)
        if isinstance(result, Delivery):
            return result, None
        if result is None or not result.id:
            return Delivery(Outcome.FAILED, detail="no conversation created"), None
        reference = ConversationReference(
            activity_id=result.activity_id,
            user=ChannelAccount(id=user_aad_id, aad_object_id=user_aad_id),
            bot=bot,
            conversation=ConversationAccount(
                id=result.id, tenant_id=tenant_id, conversation_type="personal"
            ),
            channel_id=TEAMS_CHANNEL,
            service_url=service_url,
        )
        created: dict[str, Any] = reference.serialize()
        return Delivery(Outcome.SENT), created

    async def _call(
        self, service_url: str, call: Callable[[Any], Awaitable[Any]]
    ) -> Any | Delivery:
        """Run one connector call within the timeout; any failure becomes a Delivery."""

        async def attempt() -> Any:
            return await call(await self._connectors.client(service_url))

        try:
            return await asyncio.wait_for(attempt(), self._timeout)
        except Exception as exc:  # every failure becomes an outcome for the caller
            return classify(exc)


def _parse(reference: Mapping[str, Any]) -> ConversationReference | Delivery:
    """Restore a stored reference, or say why it cannot be used (a permanent failure)."""
    try:
        ref = ConversationReference().deserialize(dict(reference))
    except Exception as exc:  # msrest raises assorted errors on malformed fields
        return Delivery(Outcome.FAILED, detail=f"bad reference: {type(exc).__name__}")
    if not ref.conversation or not ref.conversation.id or not ref.service_url:
        return Delivery(Outcome.FAILED, detail="reference lacks conversation or serviceUrl")
    return ref


def _addressed(activity: Activity, ref: ConversationReference) -> Activity:
    """Address an outgoing activity from the bot to the reference's user, as the SDK does."""
    activity.channel_id = ref.channel_id
    activity.locale = ref.locale
    activity.service_url = ref.service_url
    activity.conversation = ref.conversation
    activity.from_property = ref.bot
    activity.recipient = ref.user
    activity.input_hint = activity.input_hint or "acceptingInput"
    return activity


def classify(exc: BaseException) -> Delivery:
    """Map an SDK/HTTP failure to a :class:`Delivery` (REFERENCE §4.4 and §6)."""
    if isinstance(exc, TimeoutError):
        return Delivery(Outcome.TRANSIENT, detail="timed out", in_flight=True)
    if isinstance(exc, HttpOperationError):
        return _classify_http(exc)
    if isinstance(exc, ClientRequestError | ConnectionError | OSError):
        return Delivery(Outcome.TRANSIENT, detail=f"{type(exc).__name__}: {exc}"[:300])
    log.warning("unexpected Teams send failure: %s", type(exc).__name__, exc_info=exc)
    return Delivery(Outcome.FAILED, detail=f"{type(exc).__name__}: {exc}"[:300])


def _classify_http(exc: HttpOperationError) -> Delivery:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    code = _error_code(exc, response)
    detail = str(getattr(exc, "message", "") or "")[:300]

    def delivery(outcome: Outcome, retry_after: float | None = None) -> Delivery:
        return Delivery(outcome, retry_after=retry_after, status=status, code=code, detail=detail)

    if status == 429:
        return delivery(Outcome.THROTTLED, _retry_after(response))
    if status == 403:
        if code in _BLOCKED_CODES:
            return delivery(Outcome.BLOCKED)
        if code in _UNINSTALLED_CODES:
            return delivery(Outcome.UNINSTALLED)
        return delivery(Outcome.FAILED)
    if status == 404:
        return delivery(Outcome.GONE)
    if status == 413:
        return delivery(Outcome.TOO_LARGE)
    if status in _TRANSIENT_STATUSES:
        return delivery(Outcome.TRANSIENT)
    return delivery(Outcome.FAILED)


def _error_code(exc: HttpOperationError, response: Any) -> str | None:
    error = getattr(getattr(exc, "error", None), "error", None)
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    # Some 403s carry {"errorCode": 209, "subCode": "MessageWritesBlocked"} instead.
    try:
        body = json.loads(getattr(response, "text", "") or "{}")
    except (TypeError, ValueError):
        return None
    if isinstance(body, dict):
        for key in ("subCode", "code"):
            if isinstance(body.get(key), str):
                return str(body[key])
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("code"), str):
            return str(inner["code"])
    return None


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") if hasattr(headers, "get") else None
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None  # an HTTP date; the caller falls back to its own backoff


def _id_of(response: ResourceResponse | None) -> str | None:
    return response.id if response is not None and response.id else None
