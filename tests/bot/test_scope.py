"""The bot trusts identities only from a Teams 1:1 chat."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from db.models import TeamsConversationRef, User
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser
from tests.conftest import settings_for
from tests.fakes.connector import FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tickets import keys
from tickets.app import create_app


async def test_a_group_chat_creates_no_user_and_no_reference(
    bot_client: TestClient[web.Request, web.Application], user: TeamsUser
) -> None:
    activity = user.message("meus chamados")
    activity["conversation"] = {**activity["conversation"], "conversationType": "groupChat"}
    status, _ = await user.post(activity)
    assert status in (200, 201)
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        refs = await session.scalar(select(func.count()).select_from(TeamsConversationRef))
    assert (users, refs) == (0, 0)

    status, _ = await user.post(user.message("meus chamados"))
    assert status in (200, 201)
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        refs = await session.scalar(select(func.count()).select_from(TeamsConversationRef))
    assert refs == 1


async def test_without_app_id_a_public_url_closes_the_bot_endpoint(
    database_url: str, sandbox: SandboxServer
) -> None:
    # Settings refuse this at start-up; an app assembled around validation still stays shut.
    settings = settings_for(database_url, sandbox).model_copy(
        update={"PUBLIC_URL": "https://tickets.example.com", "TRUSTED_PROXY_HOPS": 1}
    )
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        response = await client.post(
            "/api/messages",
            json={"type": "message", "text": "oi", "channelId": "msteams"},
        )
        assert response.status == 401
        async with client.app[keys.SESSIONMAKER]() as session:
            users = await session.scalar(select(func.count()).select_from(User))
        assert users == 0


async def test_a_conversation_without_a_type_is_not_taken_for_a_personal_chat(
    bot_client: TestClient[web.Request, web.Application], user: TeamsUser
) -> None:
    activity = user.message("meus chamados")
    activity["conversation"] = {
        key: value for key, value in activity["conversation"].items() if key != "conversationType"
    }
    status, _ = await user.post(activity)
    assert status in (200, 201)
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        refs = await session.scalar(select(func.count()).select_from(TeamsConversationRef))
    assert (users, refs) == (0, 0)


async def test_a_signed_activity_from_another_tenant_is_refused(
    bot_client: TestClient[web.Request, web.Application],
    connector: FakeConnector,
    idp: TeamsIdentityProvider,
) -> None:
    stranger = TeamsUser(
        str(bot_client.make_url("/api/messages")),
        connector,
        idp,
        tenant="99999999-8888-4777-8666-555555555555",
    )
    status, body = await stranger.post(stranger.message("meus chamados"))
    assert status == 403
    assert body == {"error": "tenant not allowed"}
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        refs = await session.scalar(select(func.count()).select_from(TeamsConversationRef))
    assert (users, refs) == (0, 0)
    assert connector.activities(stranger.conversation_id) == []
