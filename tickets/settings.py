"""One Settings object for the whole service, read from the environment and `.env`."""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tickets import setting_values as values
from tickets.choices import Choices
from tickets.setting_checks import DEV_SECRET_KEY, AppType, consistency_problem
from tickets.smtp import SmtpConfig

MULTI_TENANT_AUTHORITIES = frozenset({"organizations", "common", "consumers"})
DEFAULT_SECTORS = (
    "TI:TI|IT,RH:RH|HR,Financeiro:Financeiro|Finance,Facilities,Jurídico:Jurídico|Legal"
)
DEFAULT_COMPLEXITIES = "baixa:Baixa|Low,media:Média|Medium,alta:Alta|High"
# Images (no SVG: it can carry script), PDF, Office and OpenDocument, text/CSV, zip, audio, video.
DEFAULT_ATTACHMENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/heic",
    "image/tiff",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*",
    "application/rtf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/x-zip-compressed",
    "audio/*",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "video/quicktime",
)


class Settings(BaseSettings):
    """Every setting of the service; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        arbitrary_types_allowed=True,
    )

    HOST: str = Field("127.0.0.1", description="Address `tickets serve` binds to.")
    PORT: int = Field(3978, ge=1, le=65535, description="Port `tickets serve` listens on.")
    WORKERS: str = Field(
        "1",
        pattern=r"^(auto|[1-9][0-9]{0,2})$",
        description="Service processes `tickets serve` runs on the one port; auto: one per CPU.",
    )
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
    ALLOWED_TENANTS: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Entra tenant ids allowed in (bot and web Microsoft login); "
        "empty: the bot's own tenant for a SingleTenant bot, or MICROSOFT_TENANT_ID when it "
        "names one tenant.",
    )
    MICROSOFT_AUTHORITY_HOST: str = Field(
        "https://login.microsoftonline.com",
        description="Identity provider host for the web login (tests point it at a local IdP).",
    )
    MICROSOFT_APP_ID: str = Field("", description="Bot (Entra app) id; empty: loopback-only dev.")
    MICROSOFT_APP_PASSWORD: SecretStr = Field(SecretStr(""), description="Bot client secret.")
    MICROSOFT_APP_TYPE: AppType = Field("SingleTenant", description="Bot app type.")
    MICROSOFT_APP_TENANT_ID: str = Field("", description="Bot tenant id (SingleTenant, MSI).")
    CHATWOOT_BASE_URL: str = Field(
        "", description="Chatwoot base URL; empty: start the local sandbox on 127.0.0.1:3001."
    )
    CHATWOOT_INBOX_IDENTIFIER: str = Field(
        "", description="The API inbox's identifier (required with CHATWOOT_BASE_URL)."
    )
    CHATWOOT_WEBHOOK_TOKEN: SecretStr = Field(
        SecretStr(""),
        description="Token expected in the webhook URL's ?token= (with Chatwoot: >= 32 random "
        "characters).",
    )
    CHATWOOT_WEBHOOK_SECRET: SecretStr = Field(
        SecretStr(""),
        description="Webhook HMAC secret (required with Chatwoot); signatures are checked.",
    )
    CHATWOOT_API_ACCESS_TOKEN: SecretStr = Field(
        SecretStr(""), description="Optional Application API token (labels/priority)."
    )
    CHATWOOT_ACCOUNT_ID: int | None = Field(
        None, description="Optional Chatwoot account id (with CHATWOOT_API_ACCESS_TOKEN)."
    )
    CHATWOOT_CATCH_UP_SECONDS: float = Field(
        300.0,
        ge=5.0,
        le=86400.0,
        description="How often the cable holder also reads recent tickets back from Chatwoot "
        "(messages, deletes, status, assignee), besides after every fault it sees.",
    )
    CHATWOOT_PORTAL_SLUG: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_-]{0,100}$",
        description="Help Center portal whose articles are suggested before a ticket; empty: "
        "off (with the bundled sandbox: the sandbox's portal).",
    )
    ADMIN_EMAILS: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated e-mails of the people who may read GET /api/admin/stats.",
    )
    SANDBOX_PORT: int = Field(3001, ge=1, le=65535, description="Port of the local sandbox.")
    SANDBOX_LOG: bool = Field(
        False, description="Log the local sandbox's requests (identifiers redacted)."
    )
    TICKET_SECTORS: Annotated[Choices, NoDecode] = Field(
        default_factory=lambda: Choices.parse(DEFAULT_SECTORS),
        description="Comma-separated sectors on the ticket form, each value or "
        "value:Label pt-BR|Label en (the value is what is stored).",
    )
    TICKET_COMPLEXITIES: Annotated[Choices, NoDecode] = Field(
        default_factory=lambda: Choices.parse(DEFAULT_COMPLEXITIES),
        description="Comma-separated complexity levels on the ticket form, each value or "
        "value:Label pt-BR|Label en (the value is what is stored).",
    )
    DEFAULT_LOCALE: Literal["pt-BR", "en"] = Field("pt-BR", description="pt-BR or en.")
    BOT_NAME: str = Field("Chamados", description="Bot display name (manifest, cards).")
    ATTACHMENT_MAX_BYTES: int = Field(
        25 * 1024 * 1024,
        ge=1024,
        description="Largest file (bytes) sent or shown through the service; larger: refused.",
    )
    ATTACHMENT_TYPES: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES),
        description="Comma-separated MIME types an employee may send (`type/*` for a family).",
    )
    TRUSTED_PROXY_HOPS: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the service; >0: the client address is read "
        "from X-Forwarded-For (login throttling, session records).",
    )
    SMTP_URL: SecretStr = Field(
        SecretStr(""),
        description="Mail server, smtp://user:pass@host:587?starttls=true (smtps:// for TLS on "
        "connect); empty: the local mail server beside the sandbox.",
    )
    MAIL_FROM: str = Field(
        "Chamados <chamados@localhost>", description="Sender of account e-mail (From header)."
    )
    SIGNUP_ALLOWED_DOMAINS: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated e-mail domains allowed to sign up; empty: any domain.",
    )
    SIGNUPS_PER_ADDRESS_HOUR: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Sign-ups accepted per client address per hour (raise it when a whole "
        "office signs up from behind one NAT address).",
    )
    HTTP_HEADER_TIMEOUT: float = Field(
        15.0,
        gt=0,
        le=300,
        description="Seconds a connection may take to send a request's headers (also how long "
        "an idle keep-alive connection stays open).",
    )
    HTTP_BODY_TIMEOUT: float = Field(
        30.0, gt=0, le=600, description="Seconds a request may take to send its whole body."
    )
    LOG_LEVEL: str = Field("INFO", description="Python log level.")
    TRACE_LATENCY: bool = Field(
        False, description="Log a timestamp at each step of a reply's path (benchmarks)."
    )
    ALLOW_EMBEDDED_DATABASE: bool = Field(
        False,
        description="Let a public (https PUBLIC_URL) deployment use the embedded PostgreSQL "
        "instead of a DATABASE_URL.",
    )

    @field_validator("ADMIN_EMAILS", "ALLOWED_TENANTS", "ATTACHMENT_TYPES", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return values.split_list(value)

    @field_validator("TICKET_SECTORS", "TICKET_COMPLEXITIES", mode="before")
    @classmethod
    def _choices(cls, value: object) -> object:
        return values.parse_choices(value)

    @field_validator("SIGNUP_ALLOWED_DOMAINS", mode="before")
    @classmethod
    def _domains(cls, value: object) -> object:
        return values.domain_list(value)

    @field_validator("SIGNUP_ALLOWED_DOMAINS")
    @classmethod
    def _domain_names(cls, value: list[str]) -> list[str]:
        return values.check_domains(value)

    @field_validator("SMTP_URL")
    @classmethod
    def _smtp_url(cls, value: SecretStr) -> SecretStr:
        return values.check_smtp_url(value)

    @field_validator("MAIL_FROM")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        return values.check_mail_from(value)

    @field_validator("TICKET_SECTORS", "TICKET_COMPLEXITIES")
    @classmethod
    def _non_empty(cls, value: Choices) -> Choices:
        if not value:
            raise ValueError("needs at least one comma-separated value")
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return values.check_database_url(value)

    @field_validator("PUBLIC_URL", "CHATWOOT_BASE_URL", "MICROSOFT_AUTHORITY_HOST")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return values.check_http_url(value)

    @model_validator(mode="after")
    def _consistency(self) -> Settings:
        if problem := consistency_problem(self):
            raise ValueError(problem)
        return self

    @property
    def allowed_tenants(self) -> frozenset[str]:
        """Return the Entra tenants allowed in; empty means any (a MultiTenant bot only)."""
        if self.ALLOWED_TENANTS:
            return frozenset(self.ALLOWED_TENANTS)
        if self.MICROSOFT_APP_TYPE == "SingleTenant" and self.MICROSOFT_APP_TENANT_ID:
            return frozenset({self.MICROSOFT_APP_TENANT_ID})
        if self.MICROSOFT_TENANT_ID.lower() not in MULTI_TENANT_AUTHORITIES:
            return frozenset({self.MICROSOFT_TENANT_ID})
        return frozenset()

    @property
    def bot_without_auth(self) -> bool:
        """Tell whether the bot endpoint takes unauthenticated activities (local development)."""
        return not self.MICROSOFT_APP_ID

    @property
    def worker_count(self) -> int:
        """Return how many service processes to run (WORKERS, auto = the CPU count)."""
        if self.WORKERS == "auto":
            return max(1, os.cpu_count() or 1)
        return int(self.WORKERS)

    @property
    def sandbox_mode(self) -> bool:
        """Tell whether the service runs its own Chatwoot sandbox."""
        return not self.CHATWOOT_BASE_URL

    @property
    def microsoft_login_enabled(self) -> bool:
        """Tell whether the web Microsoft login is configured."""
        return bool(self.MICROSOFT_CLIENT_ID and self.MICROSOFT_CLIENT_SECRET.get_secret_value())

    @property
    def smtp(self) -> SmtpConfig | None:
        """Return the parsed mail server, or None when account e-mail only queues up."""
        url = self.SMTP_URL.get_secret_value()
        if not url:
            return None
        return SmtpConfig.parse(url)

    def signup_domain_allowed(self, email: str) -> bool:
        """Tell whether an address may sign up under SIGNUP_ALLOWED_DOMAINS."""
        if not self.SIGNUP_ALLOWED_DOMAINS:
            return True
        domain = email.rsplit("@", 1)[-1].lower()
        return domain in self.SIGNUP_ALLOWED_DOMAINS

    @property
    def cookie_secure(self) -> bool:
        """Tell whether cookies must carry the Secure flag."""
        return self.PUBLIC_URL.startswith("https://")

    @property
    def base_url(self) -> str:
        """Public URL, or the local address when none is set."""
        return self.PUBLIC_URL or f"http://{self.HOST}:{self.PORT}"


class ManifestSettings(Settings):
    """Settings for `tickets manifest`: the package needs no secret, so none is demanded."""

    @model_validator(mode="after")
    def _consistency(self) -> ManifestSettings:
        # The manifest builder checks the app id and public URL it needs itself.
        return self


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def load_settings(model: type[Settings] = Settings, **overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one line."""
    try:
        return model(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Render the first problem of a validation error as 'SETTING: what is expected'."""
    error = exc.errors()[0]
    loc = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    field = Settings.model_fields.get(loc)
    if field is not None and field.annotation is SecretStr:
        # Secrets (SMTP_URL carries a password) are never echoed back.
        return f"{loc}: {message}"
    if loc:
        return f"{loc}: {message} (got {error.get('input')!r})"
    return message
