"""Shared fixtures: one embedded PostgreSQL per session, a fresh migrated database per test."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.embedded import EmbeddedPostgres
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade_to_head
from sandbox import SandboxConfig, SandboxServer
from tickets.app import create_app
from tickets.settings import Settings

TEMPLATE = "tickets_template"
# Generated values: settings refuse guessable secrets, and a Chatwoot (the sandbox here) needs both.
TEST_SECRET_KEY = "xVZ05AyeUBXtFfTEzQ-04Sg3EL_7S3WsYLebSX84LCg"
WEBHOOK_TOKEN = "wW6dkRgpUiU1ddgh8_rrZfbWVzz6lQsyAnf6OwctXmo"
WEBHOOK_SECRET = "BEdLTZOOxRx2uMDC8cLeqiaYbuqzeCMv-SA4RPC8d4k"
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """Start one embedded PostgreSQL for the whole test session."""
    data = Path(os.environ.get("TEST_PG_DIR") or tempfile.mkdtemp(prefix="tickets-test-pg-"))
    server = EmbeddedPostgres(data).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def template_db(postgres: EmbeddedPostgres) -> str:
    """Create a database migrated to head, used as the template of every test database."""
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    engine = make_engine(postgres.url(TEMPLATE), pool_size=1)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    return TEMPLATE


async def create_test_database(postgres: EmbeddedPostgres, template: str) -> str:
    """Clone the migrated template into a new database and return its URL."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    finally:
        await admin.close()
    return postgres.url(name)


async def drop_test_database(postgres: EmbeddedPostgres, url: str) -> None:
    """Drop a test database, closing whatever still holds it."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres, template_db: str) -> AsyncIterator[str]:
    """Give each test its own clean, migrated database."""
    url = await create_test_database(postgres, template_db)
    yield url
    await drop_test_database(postgres, url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Engine on the test's database."""
    engine = make_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory on the test's database."""
    return make_sessionmaker(engine)


def make_settings(**overrides: Any) -> Settings:
    """Build settings for tests without reading the developer's environment or `.env`."""
    values: dict[str, Any] = {
        "SECRET_KEY": TEST_SECRET_KEY,
        "CHATWOOT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "CHATWOOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """A Chatwoot sandbox on an ephemeral port (webhook target set by `app_client`)."""
    server = SandboxServer(SandboxConfig(ping_interval=0.5))
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


def settings_for(database_url: str, sandbox: SandboxServer, **overrides: Any) -> Settings:
    """Settings wired to a test database and a sandbox."""
    return make_settings(
        DATABASE_URL=database_url,
        CHATWOOT_BASE_URL=sandbox.url,
        CHATWOOT_INBOX_IDENTIFIER=sandbox.config.inbox_identifier,
        **overrides,
    )


@pytest.fixture
async def app_client(
    database_url: str, sandbox: SandboxServer
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The real app (from the factory) on 127.0.0.1, with the sandbox's webhooks aimed at it."""
    settings = settings_for(database_url, sandbox)
    app = create_app(settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await aim_webhooks(sandbox, client)
        yield client


async def aim_webhooks(
    sandbox: SandboxServer, target: TestServer | TestClient[web.Request, web.Application]
) -> None:
    """Point the sandbox's signed webhooks at the app under test (the settings' token/secret)."""
    hook = str(target.make_url("/api/chatwoot/webhook")) + f"?token={WEBHOOK_TOKEN}"
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/webhook",
            json={"url": hook, "secret": WEBHOOK_SECRET},
        )
        answer.raise_for_status()
