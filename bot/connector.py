"""One Bot Connector client per service URL, built once by the SDK's connector factory and reused.

botbuilder 4.17.1 builds a new ``ConnectorClient`` (and a user-token client) for every proactive
turn, and each one builds an msrest retry policy whose constructor costs ~5 ms of CPU; that was
~10-14 ms per Teams message before any I/O. Outbound calls from the gateway take their client from
here instead: built once per service URL through the same factory the adapter uses (same
credentials, same user agent), so the token still comes from the bot's credentials factory.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    SkillValidation,
    UserTokenClient,
)

# Teams has a handful of regional service URLs; the bound only guards against a flood of odd ones.
MAX_CLIENTS = 64


@runtime_checkable
class RefreshableCredentials(Protocol):
    """Credentials that can tell when their token is due and fetch a new one (``bot.auth``)."""

    def stale(self) -> bool:
        """Tell whether the token is missing or close to expiry."""

    def refresh(self) -> None:
        """Fetch a new token (blocking)."""


class ConnectorPool:
    """Hand out a ready ``ConnectorClient`` per service URL: no msrest retries, a socket timeout.

    A client keeps its ``requests`` session, so calls to one service URL also reuse connections.
    """

    def __init__(
        self,
        authentication: BotFrameworkAuthentication,
        app_id: str,
        *,
        timeout: float,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._factory = authentication.create_connector_factory(_claims(app_id))
        self._timeout = timeout
        self._max_clients = max_clients
        self._clients: OrderedDict[str, ConnectorClient] = OrderedDict()
        self._build_lock = asyncio.Lock()
        self._refresh_lock = asyncio.Lock()

    async def client(self, service_url: str) -> ConnectorClient:
        """Return the client for a service URL, its token fresh; build it on first use."""
        client = self._clients.get(service_url)
        if client is None:
            client = await self._build(service_url)
        else:
            self._clients.move_to_end(service_url)
        await self._fresh(client.config.credentials)
        return client

    async def close(self) -> None:
        """Close every client's HTTP session."""
        clients = list(self._clients.values())
        self._clients.clear()
        for client in clients:
            # msrest's async client has no close(); leaving its context closes the session.
            await client.__aexit__(None, None, None)

    def __len__(self) -> int:
        return len(self._clients)

    def for_turn(
        self, result: AuthenticateRequestResult, wrap: Callable[[Any], Any] | None = None
    ) -> AuthenticateRequestResult:
        """Let an authenticated turn reply through the pool instead of a client of its own.

        A channel's turn (not a skill's) talks to the channel with the bot's own id and the
        channel audience: exactly what the pooled clients were built for. ``wrap`` (the turn's
        rate limits, ``bot.turn_limits``) wraps the pooled client the turn gets.
        """
        claims = result.claims_identity.claims if result.claims_identity else {}
        factory = result.connector_factory
        if factory is not None and not SkillValidation.is_skill_claim(claims):
            result.connector_factory = _PooledFactory(self, factory, result.audience, wrap)
        return result

    async def _build(self, service_url: str) -> ConnectorClient:
        async with self._build_lock:
            client = self._clients.get(service_url)
            if client is not None:
                return client
            # The factory asks the credentials factory for credentials (the cached ones, with a
            # token fetched off the event loop) and sets the SDK's user agent.
            client = await self._factory.create(service_url)
            _configure(client, self._timeout)
            self._clients[service_url] = client
            while len(self._clients) > self._max_clients:
                # Not closed: a call may still be using it; its sockets go with the object.
                self._clients.popitem(last=False)
            return client

    async def _fresh(self, credentials: object) -> None:
        # msrest asks the credentials for the token synchronously on the event loop before each
        # request; refreshing here first keeps that blocking fetch in a thread.
        if not isinstance(credentials, RefreshableCredentials) or not credentials.stale():
            return
        async with self._refresh_lock:
            if credentials.stale():
                await asyncio.to_thread(credentials.refresh)


def _claims(app_id: str) -> ClaimsIdentity:
    if not app_id:
        # 4.17.1 refuses an empty bot id; an authenticated empty identity sends without a
        # token, as loopback development needs.
        return ClaimsIdentity({}, True)
    return ClaimsIdentity(
        {
            AuthenticationConstants.AUDIENCE_CLAIM: app_id,
            AuthenticationConstants.APP_ID_CLAIM: app_id,
        },
        True,
    )


def _configure(client: ConnectorClient, timeout: float) -> None:
    """Switch off msrest's own retries (PUT/GET 5xx, 4 attempts): the outbox owns retrying."""
    policy = client.config.retry_policy
    policy.retries = 0
    # Hand the 5xx answer back (status and code) instead of urllib3's "too many retries".
    policy.policy.raise_on_status = False
    # The caller's wait_for gives up at the same time; this frees the executor thread too.
    client.config.connection.timeout = timeout


class _PooledFactory(ConnectorFactory):  # type: ignore[misc]
    """A turn's connector factory: the pooled client for the turn's own audience."""

    def __init__(
        self,
        pool: ConnectorPool,
        fallback: ConnectorFactory,
        audience: str | None,
        wrap: Callable[[Any], Any] | None = None,
    ):
        self._pool = pool
        self._fallback = fallback
        self._audience = audience
        self._wrap = wrap

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        """Return the pooled client (wrapped), or a new one for any other audience."""
        if audience is None or audience == self._audience:
            client = await self._pool.client(service_url)
            return self._wrap(client) if self._wrap is not None else client
        return await self._fallback.create(service_url, audience)


class TurnAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, but the user-token client is built once per bot, not per turn.

    ``CloudAdapter.process_activity`` asks for one on every turn and 4.17.1 builds a new
    ``TokenApiClient`` each time (another ~5 ms msrest retry policy); our bot never signs users
    in through it, so one per app id serves every turn.
    """

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._user_tokens: dict[str, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        """Delegate to the SDK."""
        return await self._inner.authenticate_request(activity, auth_header)

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        """Delegate to the SDK."""
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Delegate to the SDK."""
        return self._inner.create_connector_factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """Return the bot's user-token client, built on first use."""
        claims = claims_identity.claims or {}
        app_id = str(
            claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
            or claims.get(AuthenticationConstants.APP_ID_CLAIM)
            or ""
        )
        client = self._user_tokens.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_tokens[app_id] = client
        return client

    def create_bot_framework_client(self) -> Any:
        """Delegate to the SDK."""
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        """Delegate to the SDK."""
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        """Delegate to the SDK."""
        return await self._inner.authenticate_channel_request(auth_header)
