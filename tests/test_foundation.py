"""Foundation: settings errors, the CLI's exit codes, migrations, health routes on the real app."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.embedded import free_port
from db.models import Base
from tests.conftest import make_settings
from tickets.app import create_app
from tickets.settings import SettingsError, load_settings

Client = TestClient[web.Request, web.Application]
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tickets", *args],
        env={**CLEAN_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://host:notaport/db"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"TICKET_SECTORS": " , "}, "TICKET_SECTORS"),
        ({"TICKET_COMPLEXITIES": "baixa:Baixa|Low|Bas"}, "TICKET_COMPLEXITIES"),
        ({"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
        ({"HOST": "0.0.0.0"}, "MICROSOFT_APP_ID"),
        ({"CHATWOOT_BASE_URL": "https://cw.example.com"}, "CHATWOOT_INBOX_IDENTIFIER"),
    ],
)
def test_bad_setting_stops_start_up_with_one_line_and_exit_2(
    env: dict[str, str], setting: str
) -> None:
    result = run_cli("migrate", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]
    assert "Traceback" not in result.stderr


def test_load_settings_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        load_settings(PORT="x", _env_file=None)


def test_settings_defaults_and_lists() -> None:
    settings = make_settings(TICKET_SECTORS="TI, RH ,Compras", TICKET_COMPLEXITIES="low,high")
    assert settings.TICKET_SECTORS == ["TI", "RH", "Compras"]
    assert settings.TICKET_COMPLEXITIES == ["low", "high"]
    # Plain values are their own labels; the defaults carry labels in both languages.
    assert settings.TICKET_SECTORS.label("RH", "en") == "RH"
    defaults = make_settings()
    assert list(defaults.TICKET_COMPLEXITIES) == ["baixa", "media", "alta"]
    assert defaults.TICKET_COMPLEXITIES.options("pt-BR")[1] == ("media", "Média")
    assert defaults.TICKET_COMPLEXITIES.options("en-US")[2] == ("alta", "High")
    assert defaults.TICKET_SECTORS.label("Jurídico", "en") == "Legal"
    assert settings.HOST == "127.0.0.1"
    assert settings.PORT == 3978
    assert settings.DEFAULT_LOCALE == "pt-BR"
    assert settings.sandbox_mode
    assert "test-secret" not in repr(settings)


def test_https_public_url_refuses_the_dev_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(PUBLIC_URL="https://tickets.example.com", _env_file=None)


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_timeline_ids_are_one_sequence(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        defaults = await connection.execute(
            text(
                "SELECT table_name, column_default FROM information_schema.columns "
                "WHERE column_name = 'id' AND table_name IN ('messages', 'ticket_events')"
            )
        )
        rows = dict(defaults.all())
    assert rows == {
        "messages": "nextval('timeline_seq'::regclass)",
        "ticket_events": "nextval('timeline_seq'::regclass)",
    }


async def test_healthz(app_client: Client) -> None:
    response = await app_client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "process": os.getpid()}


async def test_readyz_reports_the_database_and_chatwoot(app_client: Client) -> None:
    response = await app_client.get("/readyz")
    body = await response.json()
    assert response.status == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["chatwoot"]["ok"] is True


async def test_readyz_is_503_when_chatwoot_is_down(database_url: str) -> None:
    settings = make_settings(
        DATABASE_URL=database_url,
        CHATWOOT_BASE_URL=f"http://127.0.0.1:{free_port()}",
        CHATWOOT_INBOX_IDENTIFIER="nobody-listens",
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        response = await client.get("/readyz")
        body = await response.json()
    assert response.status == 503
    assert body["checks"]["chatwoot"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
