"""Build the adapter and authenticate requests: Settings in, a CloudAdapter with cached tokens."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    ServiceClientCredentialsFactory,
)

from bot.connector import TurnAuthentication
from tickets.setting_values import is_loopback
from tickets.settings import Settings

log = logging.getLogger(__name__)

# Refresh a token this long before it expires; assume this lifetime when it is not a JWT.
REFRESH_MARGIN = 300.0
OPAQUE_TOKEN_LIFETIME = 1800.0


@dataclass(frozen=True)
class BotConfig:
    """The attribute bag botbuilder's configuration classes read (names fixed by the SDK)."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str

    @classmethod
    def of(cls, settings: Settings) -> BotConfig:
        """Read the bot's identity from Settings."""
        return cls(
            APP_ID=settings.MICROSOFT_APP_ID,
            APP_PASSWORD=settings.MICROSOFT_APP_PASSWORD.get_secret_value(),
            # Without an app id the SDK must see MultiTenant: it is the type that allows no id.
            APP_TYPE=settings.MICROSOFT_APP_TYPE if settings.MICROSOFT_APP_ID else "MultiTenant",
            APP_TENANTID=settings.MICROSOFT_APP_TENANT_ID,
        )


class _CachedCredentials(AppCredentials):  # type: ignore[misc]
    """Credentials answering from a cached token; the factory refreshes it off the event loop."""

    def __init__(self, inner: AppCredentials, clock: Callable[[], float]) -> None:
        super().__init__(
            app_id=inner.microsoft_app_id,
            channel_auth_tenant=inner.tenant,
            oauth_scope=inner.oauth_scope,
        )
        self.inner = inner
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def stale(self) -> bool:
        """Tell whether the token is missing or close to expiry."""
        return self._token is None or self._clock() > self._expires_at - REFRESH_MARGIN

    def refresh(self) -> None:
        """Fetch a new token (blocking: run it in a thread)."""
        token = self.inner.get_access_token()
        self._token = token
        self._expires_at = _expiry(token)

    def get_access_token(self, force_refresh: bool = False) -> str:
        """Return the cached token; msrest calls this synchronously before every request."""
        if force_refresh or self.stale():
            self.refresh()
        assert self._token is not None
        return self._token


class CachingCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """One credentials object per (app id, scope), its token fetched in a thread, then reused.

    The stock factory builds fresh credentials per turn and fetches a token with a blocking call
    on the event loop each time (REFERENCE §3.2); this one fetches once an hour, off the loop.
    """

    def __init__(
        self, inner: ServiceClientCredentialsFactory, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._cache: dict[tuple[str, str, str], _CachedCredentials] = {}
        self._lock = asyncio.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        """Delegate to the wrapped factory."""
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        """Delegate to the wrapped factory."""
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        """Return cached credentials with a fresh token (the SDK's empty ones when auth is off)."""
        if await self.is_authentication_disabled():
            return await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        key = (app_id or "", oauth_scope or "", login_endpoint or "")
        async with self._lock:
            cached = self._cache.get(key)
            if cached is None:
                inner = await self._inner.create_credentials(
                    app_id, oauth_scope, login_endpoint, validate_authority
                )
                cached = _CachedCredentials(inner, self._clock)
                self._cache[key] = cached
            if cached.stale():
                await asyncio.to_thread(cached.refresh)
        return cached


def _expiry(token: str) -> float:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return float(claims["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return time.time() + OPAQUE_TOKEN_LIFETIME


def make_adapter(
    settings: Settings,
    credentials: ServiceClientCredentialsFactory | None = None,
    *,
    clock: Callable[[], float] = time.time,
    turn_clients: bool = True,
) -> tuple[CloudAdapter, CachingCredentialsFactory]:
    """Build the CloudAdapter; ``credentials`` replaces the Entra-backed factory (tests).

    ``clock`` tells the cached credentials the time (tests age a token without waiting);
    ``turn_clients=False`` keeps the SDK's per-turn user-token client (the bench's stock echo).
    """
    config = BotConfig.of(settings)
    if not config.APP_ID and not is_loopback(settings.HOST):
        # Settings refuse this already; a second check where the consequence would happen.
        raise RuntimeError("the bot endpoint needs MICROSOFT_APP_ID unless bound to loopback")
    inner = credentials or ConfigurationServiceClientCredentialFactory(config)
    factory = CachingCredentialsFactory(inner, clock=clock)
    auth = ConfigurationBotFrameworkAuthentication(config, credentials_factory=factory)
    return CloudAdapter(TurnAuthentication(auth) if turn_clients else auth), factory


class Unauthorized(Exception):
    """The request failed authentication (the reason is logged, never returned)."""


async def authenticate(
    adapter: CloudAdapter, activity: Activity, auth_header: str
) -> AuthenticateRequestResult:
    """Validate the request's token for this activity; raise :class:`Unauthorized` on ANY failure.

    The SDK raises a zoo of exception types for bad tokens and the stock path answers most of
    them with 500 (REFERENCE §2.4); here every one of them means 401.
    """
    try:
        result = await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except Exception as exc:
        log.info("bot request refused: %s", type(exc).__name__)
        raise Unauthorized(type(exc).__name__) from exc
    if result is None or result.claims_identity is None:
        raise Unauthorized("no identity")
    return result
