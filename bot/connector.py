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
from typing import Protocol, runtime_checkable

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
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
