"""One Settings object for the whole service, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-000000"  # noqa: S105 (refused on https)
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "changethis", "password"})


def _split_list(value: object) -> object:
    """Accept a comma-separated string for list settings."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of the service; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    HOST: str = Field("127.0.0.1", description="Address `tickets serve` binds to.")
    PORT: int = Field(3978, ge=1, le=65535, description="Port `tickets serve` listens on.")
    DATABASE_URL: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user:pass@host/db). Unset: embedded server.",
    )
    DATA_DIR: str = Field(".tickets", description="Where embedded PostgreSQL keeps its data.")
    SECRET_KEY: SecretStr = Field(
        SecretStr(DEV_SECRET_KEY),
        description="Signs sessions and CSRF tokens; at least 32 characters in production.",
    )
    PUBLIC_URL: str = Field(
        "", description="Public https URL of this service (cookies, manifest, Origin checks)."
    )
    MICROSOFT_CLIENT_ID: str = Field("", description="Entra app id for the web Microsoft login.")
    MICROSOFT_CLIENT_SECRET: SecretStr = Field(
        SecretStr(""), description="Client secret for the web Microsoft login."
    )
    MICROSOFT_TENANT_ID: str = Field(
        "organizations", description="Tenant for the web Microsoft login (id, or organizations)."
    )
    MICROSOFT_AUTHORITY_HOST: str = Field(
        "https://login.microsoftonline.com",
        description="Identity provider host for the web login (tests point it at a local IdP).",
    )
    MICROSOFT_APP_ID: str = Field("", description="Bot (Entra app) id; empty: loopback-only dev.")
    MICROSOFT_APP_PASSWORD: SecretStr = Field(SecretStr(""), description="Bot client secret.")
    MICROSOFT_APP_TYPE: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = Field(
        "SingleTenant", description="Bot app type."
    )
    MICROSOFT_APP_TENANT_ID: str = Field("", description="Bot tenant id (SingleTenant, MSI).")
    CHATWOOT_BASE_URL: str = Field(
        "", description="Chatwoot base URL; empty: start the local sandbox on 127.0.0.1:3001."
    )
    CHATWOOT_INBOX_IDENTIFIER: str = Field(
        "", description="The API inbox's identifier (required with CHATWOOT_BASE_URL)."
    )
    CHATWOOT_WEBHOOK_TOKEN: SecretStr = Field(
        SecretStr(""), description="Token expected in the webhook URL's ?token= (required)."
    )
    CHATWOOT_WEBHOOK_SECRET: SecretStr = Field(
        SecretStr(""), description="Webhook HMAC secret; when set, X-Chatwoot-Signature is checked."
    )
    CHATWOOT_API_ACCESS_TOKEN: SecretStr = Field(
        SecretStr(""), description="Optional Application API token (labels/priority)."
    )
    CHATWOOT_ACCOUNT_ID: int | None = Field(
        None, description="Optional Chatwoot account id (with CHATWOOT_API_ACCESS_TOKEN)."
    )
    SANDBOX_PORT: int = Field(3001, ge=1, le=65535, description="Port of the local sandbox.")
    TICKET_SECTORS: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["TI", "RH", "Financeiro", "Facilities", "Jurídico"],
        description="Comma-separated sectors offered on the ticket form.",
    )
    TICKET_COMPLEXITIES: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["baixa", "media", "alta"],
        description="Comma-separated complexity levels offered on the ticket form.",
    )
    DEFAULT_LOCALE: Literal["pt-BR", "en"] = Field("pt-BR", description="pt-BR or en.")
    BOT_NAME: str = Field("Chamados", description="Bot display name (manifest, cards).")
    TRUSTED_PROXY_HOPS: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the service; >0: the client address is read "
        "from X-Forwarded-For (login throttling, session records).",
    )
    LOG_LEVEL: str = Field("INFO", description="Python log level.")

    @field_validator("TICKET_SECTORS", "TICKET_COMPLEXITIES", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("TICKET_SECTORS", "TICKET_COMPLEXITIES")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one comma-separated value")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"postgresql", "postgres", "postgresql+asyncpg"}:
            raise ValueError("expected postgresql://user:password@host:port/database")
        if not parts.hostname or not parts.path.strip("/"):
            raise ValueError("expected postgresql://user:password@host:port/database")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("the port in the URL is not a number") from exc
        return value

    @field_validator("PUBLIC_URL", "CHATWOOT_BASE_URL", "MICROSOFT_AUTHORITY_HOST")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value == "":
            return value
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("expected an http(s):// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistency(self) -> Settings:
        secret = self.SECRET_KEY.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 32:
            raise ValueError("SECRET_KEY: must be at least 32 characters and not a placeholder")
        if self.PUBLIC_URL.startswith("https://") and secret == DEV_SECRET_KEY:
            raise ValueError("SECRET_KEY: set a real secret when PUBLIC_URL is public (https)")
        if self.CHATWOOT_BASE_URL and not self.CHATWOOT_INBOX_IDENTIFIER:
            raise ValueError("CHATWOOT_INBOX_IDENTIFIER: required when CHATWOOT_BASE_URL is set")
        if self.CHATWOOT_BASE_URL and not self.CHATWOOT_WEBHOOK_TOKEN.get_secret_value():
            raise ValueError("CHATWOOT_WEBHOOK_TOKEN: required when CHATWOOT_BASE_URL is set")
        if self.MICROSOFT_APP_ID and self.MICROSOFT_APP_TYPE == "SingleTenant":
            if not self.MICROSOFT_APP_TENANT_ID:
                raise ValueError("MICROSOFT_APP_TENANT_ID: required for a SingleTenant bot")
            if not self.MICROSOFT_APP_PASSWORD.get_secret_value():
                raise ValueError("MICROSOFT_APP_PASSWORD: required for a SingleTenant bot")
        if not self.MICROSOFT_APP_ID and not is_loopback(self.HOST):
            raise ValueError(
                "MICROSOFT_APP_ID: required unless HOST is a loopback address "
                "(the bot endpoint would accept unauthenticated activities)"
            )
        if bool(self.MICROSOFT_CLIENT_ID) != bool(self.MICROSOFT_CLIENT_SECRET.get_secret_value()):
            raise ValueError("MICROSOFT_CLIENT_SECRET: set both MICROSOFT_CLIENT_ID and the secret")
        return self

    @property
    def sandbox_mode(self) -> bool:
        """Tell whether the service runs its own Chatwoot sandbox."""
        return not self.CHATWOOT_BASE_URL

    @property
    def microsoft_login_enabled(self) -> bool:
        """Tell whether the web Microsoft login is configured."""
        return bool(self.MICROSOFT_CLIENT_ID and self.MICROSOFT_CLIENT_SECRET.get_secret_value())

    @property
    def cookie_secure(self) -> bool:
        """Tell whether cookies must carry the Secure flag."""
        return self.PUBLIC_URL.startswith("https://")

    @property
    def base_url(self) -> str:
        """Public URL, or the local address when none is set."""
        return self.PUBLIC_URL or f"http://{self.HOST}:{self.PORT}"


def is_loopback(host: str) -> bool:
    """Tell whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Render the first problem of a validation error as 'SETTING: what is expected'."""
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if loc:
        return f"{loc}: {message} (got {error.get('input')!r})"
    return message
