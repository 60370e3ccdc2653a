"""A known user's turn reads who they are without writing; a changed turn still stores it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from db.models import ReferenceState, TeamsConversationRef, User
from tests.bot.harness import TeamsUser
from tickets import keys

Client = TestClient[web.Request, web.Application]


async def _stored(client: Client) -> tuple[User, TeamsConversationRef]:
    async with client.app[keys.SESSIONMAKER]() as session:
        user = (await session.execute(select(User))).scalar_one()
        ref = (await session.execute(select(TeamsConversationRef))).scalar_one()
    return user, ref


async def test_a_repeated_turn_writes_nothing_and_a_changed_one_is_stored(
    bot_client: Client, user: TeamsUser
) -> None:
    await user.send(user.message("meus chamados"))
    first_user, first_ref = await _stored(bot_client)
    await user.send(user.message("meus chamados"))
    again_user, again_ref = await _stored(bot_client)
    assert len(user.inbox()) == 2
    # Same person, same chat: neither row was touched by the second turn.
    assert (again_ref.updated_at, again_user.updated_at) == (
        first_ref.updated_at,
        first_user.updated_at,
    )
    # A new language, a blocked chat re-opened by writing, a new name: each is stored.
    user.locale = "en-US"
    await user.send(user.message("my tickets"))
    changed_user, changed_ref = await _stored(bot_client)
    assert changed_user.locale == "en" and changed_ref.reference["locale"] == "en-US"
    async with bot_client.app[keys.SESSIONMAKER].begin() as session:
        stored = await session.get(TeamsConversationRef, changed_ref.id)
        assert stored is not None
        stored.state = ReferenceState.BLOCKED
    await user.send(user.message("my tickets"))
    _, reopened = await _stored(bot_client)
    assert reopened.state is ReferenceState.ACTIVE
    user.name = "Ana Souza Lima"
    await user.send(user.message("my tickets"))
    renamed, _ = await _stored(bot_client)
    assert renamed.display_name == "Ana Souza Lima"
