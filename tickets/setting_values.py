"""Parse and check single setting values: lists, choices, domains, addresses and URLs."""

from __future__ import annotations

import ipaddress
import re
from email.utils import parseaddr
from urllib.parse import urlsplit

from pydantic import SecretStr

from tickets.choices import Choices
from tickets.smtp import SmtpConfig

DOMAIN_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def split_list(value: object) -> object:
    """Accept a comma-separated string for list settings."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def parse_choices(value: object) -> object:
    """Turn 'value:pt|en,...' (a string or a list of items) into Choices."""
    if isinstance(value, str):
        return Choices.parse(value)
    if isinstance(value, list | tuple):
        return Choices.parse(",".join(str(item) for item in value))
    return value


def domain_list(value: object) -> object:
    """Accept 'a.com, @b.com' for domain lists: lower case, without a leading @."""
    value = split_list(value)
    if isinstance(value, list):
        return [str(item).strip().lower().lstrip("@") for item in value]
    return value


def check_domains(value: list[str]) -> list[str]:
    """Refuse anything in the list that is not a domain name."""
    for domain in value:
        if not DOMAIN_RE.fullmatch(domain):
            raise ValueError(f"{domain!r} is not a domain name like empresa.com.br")
    return value


def check_smtp_url(value: SecretStr) -> SecretStr:
    """Refuse a mail server URL that does not parse."""
    if value.get_secret_value():
        # Parse now so a typo stops start-up; the message never repeats the password.
        SmtpConfig.parse(value.get_secret_value())
    return value


def check_mail_from(value: str) -> str:
    """Refuse a sender that is not one address (header injection included)."""
    address = parseaddr(value)[1]
    if "@" not in address or any(c in value for c in "\r\n"):
        raise ValueError("expected an address such as 'Chamados <chamados@empresa.com>'")
    return value


def check_database_url(value: str | None) -> str | None:
    """Refuse a database URL that is not PostgreSQL with a host and a database; '' is None."""
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


def check_http_url(value: str) -> str:
    """Refuse a URL that is not http(s) with a host; drop a trailing slash ('' stays unset)."""
    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("expected an http(s):// URL")
    return value.rstrip("/")


def is_loopback(host: str) -> bool:
    """Tell whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
