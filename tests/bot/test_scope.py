"""The bot trusts identities only from a Teams 1:1 chat."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from db.models import TeamsConversationRef, User
from tests.bot.harness import TeamsUser
from tickets import keys


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
