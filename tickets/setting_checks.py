"""The start-up checks across settings: each says what is wrong, or None when all is well.

They read the values through `CheckedSettings`, so `tickets.settings` can call them without
this module importing it back.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import SecretStr

from tickets.entropy import secret_problem
from tickets.setting_values import is_loopback

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-000000"  # noqa: S105 (refused on https)
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "changethis", "password"})
AppType = Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"]


class CheckedSettings(Protocol):
    """The settings the checks read (`tickets.settings.Settings` has them all)."""

    SECRET_KEY: SecretStr
    PUBLIC_URL: str
    HOST: str
    TRUSTED_PROXY_HOPS: int
    CHATWOOT_BASE_URL: str
    CHATWOOT_INBOX_IDENTIFIER: str
    CHATWOOT_WEBHOOK_TOKEN: SecretStr
    CHATWOOT_WEBHOOK_SECRET: SecretStr
    MICROSOFT_APP_ID: str
    MICROSOFT_APP_TYPE: AppType
    MICROSOFT_APP_TENANT_ID: str
    MICROSOFT_APP_PASSWORD: SecretStr
    MICROSOFT_CLIENT_ID: str
    MICROSOFT_CLIENT_SECRET: SecretStr

    @property
    def bot_without_auth(self) -> bool:
        """Tell whether the bot endpoint takes unauthenticated activities."""

    @property
    def microsoft_login_enabled(self) -> bool:
        """Tell whether the web Microsoft login is configured."""

    @property
    def allowed_tenants(self) -> frozenset[str]:
        """Return the Entra tenants allowed in; empty means any."""


def consistency_problem(settings: CheckedSettings) -> str | None:
    """Return the first problem across settings, or None when they fit together."""
    return (
        _secret_key_problem(settings)
        or _chatwoot_problem(settings)
        or _bot_problem(settings)
        or _tenant_problem(settings)
        or exposure_problem(settings)
    )


def _secret_key_problem(settings: CheckedSettings) -> str | None:
    secret = settings.SECRET_KEY.get_secret_value()
    if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 32:
        return "SECRET_KEY: must be at least 32 characters and not a placeholder"
    if secret == DEV_SECRET_KEY:
        if settings.PUBLIC_URL.startswith("https://"):
            return "SECRET_KEY: set a real secret when PUBLIC_URL is public (https)"
        return None
    problem = secret_problem(secret)
    return f"SECRET_KEY: {problem}" if problem else None


def _chatwoot_problem(settings: CheckedSettings) -> str | None:
    if not settings.CHATWOOT_BASE_URL:
        return None
    if not settings.CHATWOOT_INBOX_IDENTIFIER:
        return "CHATWOOT_INBOX_IDENTIFIER: required when CHATWOOT_BASE_URL is set"
    # The token is the only thing a forger must guess before the signature check, and the
    # signature is what makes a delivery Chatwoot's: a real Chatwoot needs both.
    token = settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value()
    if not token:
        return "CHATWOOT_WEBHOOK_TOKEN: required when CHATWOOT_BASE_URL is set"
    problem = secret_problem(token)
    if problem:
        return f"CHATWOOT_WEBHOOK_TOKEN: {problem}"
    if not settings.CHATWOOT_WEBHOOK_SECRET.get_secret_value():
        return (
            "CHATWOOT_WEBHOOK_SECRET: required when CHATWOOT_BASE_URL is set (the webhook's "
            "secret in Chatwoot >= 4.12; unsigned deliveries are refused)"
        )
    return None


def _bot_problem(settings: CheckedSettings) -> str | None:
    if settings.MICROSOFT_APP_ID and settings.MICROSOFT_APP_TYPE == "SingleTenant":
        if not settings.MICROSOFT_APP_TENANT_ID:
            return "MICROSOFT_APP_TENANT_ID: required for a SingleTenant bot"
        if not settings.MICROSOFT_APP_PASSWORD.get_secret_value():
            return "MICROSOFT_APP_PASSWORD: required for a SingleTenant bot"
    if bool(settings.MICROSOFT_CLIENT_ID) != bool(
        settings.MICROSOFT_CLIENT_SECRET.get_secret_value()
    ):
        return "MICROSOFT_CLIENT_SECRET: set both MICROSOFT_CLIENT_ID and the secret"
    return None


def _tenant_problem(settings: CheckedSettings) -> str | None:
    # "organizations" lets every Entra tenant in the world sign in and get an account.
    if settings.microsoft_login_enabled and not settings.allowed_tenants:
        return (
            "ALLOWED_TENANTS: required for the web Microsoft login when MICROSOFT_TENANT_ID "
            "is not one tenant (any organisation could sign in)"
        )
    return None


def exposure_problem(settings: CheckedSettings) -> str | None:
    """Say why the bot endpoint would be open to strangers, or None when it is not."""
    if not settings.bot_without_auth:
        return None
    # Without an app id nothing authenticates activities: that is only safe when nobody but
    # this machine can reach the endpoint — no proxy forwarding to it, no public address.
    if not is_loopback(settings.HOST):
        reason = "HOST is not a loopback address"
    elif settings.TRUSTED_PROXY_HOPS:
        reason = "TRUSTED_PROXY_HOPS says a proxy forwards to it"
    elif settings.PUBLIC_URL:
        reason = "PUBLIC_URL says it is reachable from outside"
    else:
        return None
    return (
        f"MICROSOFT_APP_ID: required because {reason} "
        "(the bot endpoint would accept unauthenticated activities)"
    )
