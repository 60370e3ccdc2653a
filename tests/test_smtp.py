"""SMTP_URL, MAIL_FROM and SIGNUP_ALLOWED_DOMAINS: parsing, refusals, no echoed password."""

from __future__ import annotations

import secrets

import pytest

from db.embedded import free_port
from sandbox.mail import MailServer
from tests.conftest import make_settings
from tests.test_foundation import run_cli
from tickets.mail_worker import build_message
from tickets.settings import SettingsError, load_settings
from tickets.smtp import MailUnavailable, SmtpClient, SmtpConfig


def test_smtp_url_forms() -> None:
    plain = SmtpConfig.parse("smtp://127.0.0.1:2525")
    assert (plain.host, plain.port, plain.security, plain.username) == (
        "127.0.0.1",
        2525,
        "plain",
        None,
    )
    relay = SmtpConfig.parse("smtp://app%40corp:p%40ss@mail.corp.com:587?starttls=true")
    assert (relay.security, relay.username, relay.password) == ("starttls", "app@corp", "p@ss")
    assert "p@ss" not in repr(relay) and "p@ss" not in relay.display
    assert SmtpConfig.parse("smtps://mail.corp.com").port == 465


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://user:hunter22@mail.corp.com", "expected smtp://"),
        ("smtp://user:hunter22@mail.corp.com:port", "not a number"),
        ("smtp://user:hunter22@mail.corp.com?starttls=maybe", "starttls"),
    ],
)
def test_bad_smtp_url_names_the_setting_and_hides_the_password(value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(SMTP_URL=value, _env_file=None)
    assert str(caught.value).startswith("SMTP_URL: ")
    assert message in str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_bad_smtp_url_stops_the_cli_without_echoing_it() -> None:
    result = run_cli("migrate", SMTP_URL="smtpx://user:hunter22@mail.corp.com")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("tickets: configuration error: SMTP_URL")
    assert "hunter22" not in result.stderr


def test_https_service_needs_a_mail_server() -> None:
    result = run_cli(
        "serve",
        PUBLIC_URL="https://tickets.example.com",
        SECRET_KEY=secrets.token_urlsafe(32),
        # An external database, so that only the mail check speaks (nothing connects to it).
        DATABASE_URL="postgresql://tickets:unused@127.0.0.1:9/tickets",
        CHATWOOT_BASE_URL="https://chatwoot.example.com",
        CHATWOOT_INBOX_IDENTIFIER="inbox",
        CHATWOOT_WEBHOOK_TOKEN=secrets.token_urlsafe(32),
        CHATWOOT_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001",
        MICROSOFT_APP_PASSWORD=secrets.token_urlsafe(24),
        MICROSOFT_APP_TENANT_ID="00000000-0000-0000-0000-000000000002",
    )
    assert result.returncode == 2
    assert "SMTP_URL: required when PUBLIC_URL is https" in result.stderr


def test_allowed_domains_and_sender() -> None:
    settings = make_settings(SIGNUP_ALLOWED_DOMAINS="Empresa.com.br, @filial.com")
    assert settings.SIGNUP_ALLOWED_DOMAINS == ["empresa.com.br", "filial.com"]
    assert settings.signup_domain_allowed("ana@FILIAL.com")
    assert not settings.signup_domain_allowed("ana@sub.filial.com")
    assert make_settings().signup_domain_allowed("ana@anything.org")
    with pytest.raises(SettingsError, match="SIGNUP_ALLOWED_DOMAINS"):
        load_settings(SIGNUP_ALLOWED_DOMAINS="empresa, x y.com", _env_file=None)
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        load_settings(MAIL_FROM="Chamados", _env_file=None)


async def test_client_reports_a_server_that_is_down_and_delivers_when_up() -> None:
    port = free_port()
    client = SmtpClient(SmtpConfig.parse(f"smtp://127.0.0.1:{port}"), timeout=5)
    message = build_message(
        sender="Chamados <chamados@empresa.com>",
        to_address="ana@empresa.com",
        subject="Olá, ação",
        text="linha 1\nlinha 2",
        html="<p>linha 1</p>",
    )
    with pytest.raises(MailUnavailable):
        await client.send(message)
    server = MailServer()
    await server.start("127.0.0.1", port)
    try:
        await client.send(message)
    finally:
        await server.stop()
    [mail] = server.mailbox.messages
    assert mail.as_json()["to"] == "ana@empresa.com"
    assert (mail.subject, mail.text.strip(), mail.html.strip()) == (
        "Olá, ação",
        "linha 1\nlinha 2",
        "<p>linha 1</p>",
    )
