"""The bot under test: the real app, a local token issuer and a fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import ChannelValidation
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxWorker
from bot.routes import BOT_CREDENTIALS
from sandbox import SandboxServer
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT, TeamsUser
from tests.bot.outbox_setup import make_worker
from tests.conftest import aim_webhooks, settings_for
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tickets.app import create_app


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector (replies, updates, 1:1 creates, roster, tokens)."""
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def worker(
    sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> AsyncIterator[OutboxWorker]:
    """One running outbox worker on the test database (the outbox tests share it)."""
    running = make_worker(sessionmaker, database_url, poll=0.2)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def idp() -> AsyncIterator[TeamsIdentityProvider]:
    """A local Bot Framework token issuer, wired into the SDK's production validation path."""
    issuer = TeamsIdentityProvider()
    await issuer.start()
    ChannelValidation.open_id_metadata_endpoint = issuer.metadata_url
    yield issuer
    ChannelValidation.open_id_metadata_endpoint = None
    await issuer.stop()


@pytest.fixture
async def bot_client(
    database_url: str, sandbox: SandboxServer, connector: FakeConnector, idp: TeamsIdentityProvider
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The real app with a SingleTenant bot identity, its webhooks wired to the sandbox."""
    settings = settings_for(
        database_url,
        sandbox,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD=APP_PASSWORD,
        MICROSOFT_APP_TENANT_ID=TENANT,
    )
    app = create_app(settings)
    app[BOT_CREDENTIALS] = ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await aim_webhooks(sandbox, client)
        yield client


@pytest.fixture
def user(
    bot_client: TestClient[web.Request, web.Application],
    connector: FakeConnector,
    idp: TeamsIdentityProvider,
) -> TeamsUser:
    """A Teams user talking to the bot."""
    return TeamsUser(str(bot_client.make_url("/api/messages")), connector, idp)
