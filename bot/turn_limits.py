"""A turn's own calls to Teams take their slots in the shared send log, like the outbox's sends.

Teams counts every request a bot makes: the replies and card updates a turn sends through the
SDK, and the roster reads (``TeamsInfo.get_member``) it makes, share the per-tenant 50/s with
the outbox, and the replies share each chat's 7/s with the agent replies queued for it. A
burst of installs or messages (a hundred people opening Teams at nine) went over the tenant's
limit with nothing but turns. So the connector client a turn uses (``ConnectorPool.for_turn``)
reserves a slot in ``bot.limits`` before each call, and a 429 it gets holds the outbox back too.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from bot.gateway import Outcome, classify
from bot.limits import RateLimiter

log = logging.getLogger(__name__)

# A turn waits this long at most for a slot: people rarely outpace 7 replies a second in one
# chat, so only a tenant-wide burst waits, and Teams wants the turn's answer within seconds.
TURN_PATIENCE: Final = 3.0
# The calls that post into the conversation: Teams counts them against the chat's own limits.
SENDS: Final = frozenset(
    {"send_to_conversation", "reply_to_activity", "update_activity", "delete_activity"}
)


class LimitReached(Exception):
    """No slot within the turn's patience: the call was not made (Teams would have said 429)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"Teams' rate limit leaves no slot for {wait:.1f} s")
        self.wait = wait


class LimitedClient:
    """A turn's connector client: each conversations call takes a slot first; all else as is."""

    def __init__(
        self,
        client: Any,
        limiter: RateLimiter,
        tenant_id: str,
        *,
        patience: float = TURN_PATIENCE,
    ) -> None:
        self._client = client
        self._limiter = limiter
        self._tenant = tenant_id
        self._patience = patience

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    @property
    def conversations(self) -> _LimitedOperations:
        """The client's conversations operations, each call inside the limits."""
        return _LimitedOperations(self._client.conversations, self._call)

    async def _call(self, conversation: str | None, call: Callable[[], Awaitable[Any]]) -> Any:
        """Reserve a slot (tenant, and the chat for a send), make the call, remember a 429."""
        entered = False
        try:
            async with self._limiter.slot(
                self._tenant, conversation, patience=self._patience
            ) as grant:
                entered = True
                if grant.wait > 0:
                    raise LimitReached(grant.wait)
                return await self._unlimited(conversation, call)
        except Exception:
            if entered:
                raise
        # The database is away: the turn still answers, as before limits.
        log.warning("turn call to Teams made without a slot: the send log is unreachable")
        return await self._unlimited(conversation, call)

    async def _unlimited(self, conversation: str | None, call: Callable[[], Awaitable[Any]]) -> Any:
        """Make the call; remember a 429 for every later reservation."""
        try:
            return await call()
        except Exception as exc:
            delivery = classify(exc)
            if delivery.outcome is Outcome.THROTTLED and conversation is not None:
                with contextlib.suppress(Exception):  # the turn still gets Teams' answer
                    await self._limiter.throttled(self._tenant, conversation, delivery.retry_after)
            raise


class _LimitedOperations:
    """Conversations operations whose coroutine calls go through ``LimitedClient._call``."""

    def __init__(
        self,
        operations: Any,
        call: Callable[[str | None, Callable[[], Awaitable[Any]]], Awaitable[Any]],
    ) -> None:
        self._operations = operations
        self._call = call

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._operations, name)
        if not inspect.iscoroutinefunction(method):
            return method

        async def limited(*args: Any, **kwargs: Any) -> Any:
            conversation = _conversation_of(name, args, kwargs)
            return await self._call(conversation, lambda: method(*args, **kwargs))

        return limited


def _conversation_of(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str | None:
    """Return the chat a send posts into; None for calls only the tenant's limit counts."""
    if name not in SENDS:
        return None
    conversation = kwargs.get("conversation_id", args[0] if args else None)
    return str(conversation) if conversation else None


def limited(limiter: RateLimiter, tenant_id: str) -> Callable[[Any], LimitedClient]:
    """Return what wraps a turn's connector client so its calls take slots in the send log."""
    return lambda client: LimitedClient(client, limiter, tenant_id)
