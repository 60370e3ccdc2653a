"""Start-up refuses unsafe configurations: weak secrets, unsigned webhooks, an open bot endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_foundation import run_cli
from tickets.cli import banner
from tickets.settings import Settings, SettingsError, load_settings

STRONG_KEY = "m5IsQlfPKOr3XHfJ6BqcKCT6LtkGrhSEeQ41Z54xGoc"
STRONG_TOKEN = "DP-7kCDt_DrIPH_HJWqwK39spkmV1vrzvt2mxuoxhWY"
CHATWOOT_SECRET = "k2XGdbWUVWq3Q8vaDrnsA7fL"  # Chatwoot's own secrets are 24-character tokens
REAL_CHATWOOT = {
    "CHATWOOT_BASE_URL": "https://chatwoot.example.com",
    "CHATWOOT_INBOX_IDENTIFIER": "inbox-1",
    "CHATWOOT_WEBHOOK_TOKEN": STRONG_TOKEN,
    "CHATWOOT_WEBHOOK_SECRET": CHATWOOT_SECRET,
}
BOT = {
    "MICROSOFT_APP_ID": "00000000-0000-4000-8000-000000000001",
    "MICROSOFT_APP_PASSWORD": "bot-client-secret",
    "MICROSOFT_APP_TENANT_ID": "00000000-0000-4000-8000-0000000000aa",
}


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"SECRET_KEY": STRONG_KEY}
    values.update(overrides)
    return load_settings(_env_file=None, **values)


# ---- row 1: a real Chatwoot needs a signed webhook and a token nobody can guess --------------


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("x", "one character"),
        ("a" * 40, "one character repeated"),
        ("test-webhook-token", "a readable word, short"),
        ("abcd" * 10, "a repeated pattern"),
        ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "an alphabet run"),
    ],
)
def test_a_real_chatwoot_refuses_a_guessable_webhook_token(token: str, why: str) -> None:
    with pytest.raises(SettingsError, match="CHATWOOT_WEBHOOK_TOKEN") as caught:
        settings(**{**REAL_CHATWOOT, "CHATWOOT_WEBHOOK_TOKEN": token})
    assert token not in str(caught.value), f"{why}: the error must not echo the secret"


def test_a_real_chatwoot_requires_the_webhook_secret() -> None:
    with pytest.raises(SettingsError, match="CHATWOOT_WEBHOOK_SECRET"):
        settings(**{**REAL_CHATWOOT, "CHATWOOT_WEBHOOK_SECRET": ""})


def test_a_real_chatwoot_with_a_strong_token_and_a_secret_starts() -> None:
    loaded = settings(**REAL_CHATWOOT)
    assert loaded.CHATWOOT_WEBHOOK_TOKEN.get_secret_value() == STRONG_TOKEN


def test_the_start_up_banner_masks_the_webhook_token() -> None:
    text = banner(settings(**REAL_CHATWOOT), "http://127.0.0.1:3978")
    assert "/api/chatwoot/webhook?token=" in text
    assert STRONG_TOKEN not in text
    assert STRONG_TOKEN[:8] not in text
    assert CHATWOOT_SECRET not in text


def test_a_weak_token_is_refused_by_the_cli_in_one_line_without_echoing_it() -> None:
    result = run_cli(
        "migrate", **{**REAL_CHATWOOT, "CHATWOOT_WEBHOOK_TOKEN": "x", "SECRET_KEY": STRONG_KEY}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tickets: configuration error: CHATWOOT_WEBHOOK_TOKEN")
    assert "'x'" not in lines[0]


# ---- row 4: unauthenticated bot activities only on a machine nobody else can reach ----------


@pytest.mark.parametrize(
    "overrides",
    [
        {"TRUSTED_PROXY_HOPS": 1},
        {"PUBLIC_URL": "http://tickets.example.com"},
        {"PUBLIC_URL": "https://tickets.example.com"},
        {"HOST": "0.0.0.0"},
        {"HOST": "192.0.2.10"},
    ],
)
def test_without_an_app_id_only_a_private_loopback_service_starts(
    overrides: dict[str, Any],
) -> None:
    with pytest.raises(SettingsError, match="MICROSOFT_APP_ID"):
        settings(**overrides)
    # The same deployment with a bot identity is fine.
    assert settings(**overrides, **BOT).bot_without_auth is False


def test_without_an_app_id_a_loopback_service_starts_in_local_mode() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert settings(HOST=host).bot_without_auth


def test_a_proxied_service_without_an_app_id_stops_with_exit_2() -> None:
    result = run_cli("migrate", TRUSTED_PROXY_HOPS="1", SECRET_KEY=STRONG_KEY)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MICROSOFT_APP_ID" in lines[0]


# ---- row 13: SECRET_KEY must be random, not merely long ---------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "a" * 36,
        "ab" * 20,
        "test-secret-key-" + "x" * 32,
        "0123456789abcdef0123456789abcdef",
        "abcdefghijklmnopqrstuvwxyz0123456789",
    ],
)
def test_a_guessable_secret_key_is_refused(key: str) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY") as caught:
        settings(SECRET_KEY=key)
    assert key not in str(caught.value)


def test_a_generated_secret_key_is_accepted() -> None:
    assert settings(SECRET_KEY=STRONG_KEY).SECRET_KEY.get_secret_value() == STRONG_KEY
    hex_key = "9f2c4e7a1b3d5f60c8e2a4b6d8f01357"
    assert settings(SECRET_KEY=hex_key).SECRET_KEY.get_secret_value() == hex_key
