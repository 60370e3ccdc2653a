"""The one SMTP client: parse `SMTP_URL`, send a message, report typed outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

Security = Literal["plain", "starttls", "tls"]
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class MailUnavailable(Exception):
    """The mail server could not be reached or asked us to try later (retry)."""


class MailRejected(Exception):
    """The mail server refused this message for good (do not retry)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """Read `smtp://user:pass@host:587?starttls=true` (or `smtps://` for TLS on connect)."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("expected smtp://user:password@host:port (or smtps://)")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port in the URL is not a number") from None
        query = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
        starttls = query.get("starttls", "")
        if starttls and starttls not in TRUE | FALSE:
            raise ValueError("starttls= takes true or false")
        security: Security = "plain"
        if parts.scheme == "smtps":
            security = "tls"
        elif starttls in TRUE:
            security = "starttls"
        return cls(
            host=parts.hostname,
            port=port or (465 if security == "tls" else 587 if security == "starttls" else 25),
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def display(self) -> str:
        """Describe the server without the password (for start-up lines and logs)."""
        user = f"{self.username}@" if self.username else ""
        scheme = "smtps" if self.security == "tls" else "smtp"
        tail = "?starttls=true" if self.security == "starttls" else ""
        return f"{scheme}://{user}{self.host}:{self.port}{tail}"


class SmtpClient:
    """Send one message per call over a fresh connection, with bounded waits."""

    def __init__(self, config: SmtpConfig, *, timeout: float = 15.0) -> None:
        self.config = config
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Hand a message to the server; raise MailUnavailable or MailRejected."""
        config = self.config
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.security == "tls",
                start_tls=config.security == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            if all(400 <= code < 500 for code in codes):
                raise MailUnavailable(f"recipient deferred: {codes}") from None
            raise MailRejected(f"recipient refused: {codes}") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 400 <= exc.code < 500:
                raise MailUnavailable(f"{exc.code} {exc.message}") from None
            raise MailRejected(f"{exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailUnavailable(f"{type(exc).__name__}: {exc}") from None
