"""Inbound auth through the SDK's real JWT path: only properly signed activities run the bot."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import TeamsConversationRef, User
from tests.bot.harness import APP_ID, TeamsUser
from tests.fakes.connector import FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tickets import keys

BadToken = Callable[[TeamsIdentityProvider, str], str | None]

BAD_TOKENS: dict[str, BadToken] = {
    "forged": lambda idp, url: "Bearer " + idp.forged(APP_ID, url),
    "expired": lambda idp, url: "Bearer " + idp.expired(APP_ID, url),
    "wrong audience": lambda idp, url: "Bearer " + idp.token("someone-else", url),
    "wrong service url": lambda idp, url: "Bearer " + idp.token(APP_ID, "https://evil.example/"),
    "no service url": lambda idp, url: "Bearer " + idp.token(APP_ID, url, serviceurl=None),
    "wrong issuer": lambda idp, url: "Bearer " + idp.token(APP_ID, url, iss="https://evil.example"),
    "not yet valid": lambda idp, url: "Bearer " + idp.token(APP_ID, url, nbf=2**32),
    "unknown kid": lambda idp, url: "Bearer " + idp.unknown_kid(APP_ID, url),
    "unsigned": lambda idp, url: "Bearer " + idp.unsigned(APP_ID, url),
    "hs256": lambda idp, url: "Bearer " + idp.hs256(APP_ID, url),
    "garbage": lambda idp, url: "Bearer not.a.jwt",
    "not bearer": lambda idp, url: "Basic " + idp.token(APP_ID, url),
    "missing": lambda idp, url: None,
}


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        refs = await session.scalar(select(func.count()).select_from(TeamsConversationRef))
    return int(users or 0), int(refs or 0)


async def test_bad_tokens_get_401_and_nothing_happens(
    bot_client: TestClient[web.Request, web.Application],
    user: TeamsUser,
    idp: TeamsIdentityProvider,
    connector: FakeConnector,
) -> None:
    # One app for every kind keeps the test fast; each kind is checked on its own.
    for kind, make in BAD_TOKENS.items():
        for activity in (
            user.message("novo chamado"),
            user.install(),
            user.execute("ticket.list", {"page": 1}),
        ):
            status, _ = await user.post(activity, authorization=make(idp, connector.url))
            assert status == 401, kind
    assert await _counts(bot_client.app[keys.SESSIONMAKER]) == (0, 0)
    assert connector.total() == 0
    assert connector.created == []


async def test_a_valid_token_runs_the_bot_and_leeway_is_honoured(
    bot_client: TestClient[web.Request, web.Application],
    user: TeamsUser,
    idp: TeamsIdentityProvider,
    connector: FakeConnector,
) -> None:
    status, _ = await user.post(
        user.message("ajuda"),
        authorization="Bearer " + idp.recently_expired(APP_ID, connector.url),
    )
    assert status == 201
    assert len(user.inbox()) == 1
    assert await _counts(bot_client.app[keys.SESSIONMAKER]) == (1, 1)
    # Replies carry the bot's outbound token from the token endpoint.
    token = user.inbox()[0].authorization
    assert token is not None and connector.issued(token.removeprefix("Bearer "))


async def test_a_token_from_another_channel_is_refused(
    user: TeamsUser, idp: TeamsIdentityProvider, connector: FakeConnector
) -> None:
    # Teams' keys are endorsed for msteams only.
    activity = user.message("ajuda") | {"channelId": "webchat"}
    status, _ = await user.post(activity)
    assert status == 401
    assert connector.total() == 0


async def test_malformed_bodies_are_400_before_anything_else(
    bot_client: TestClient[web.Request, web.Application], user: TeamsUser, connector: FakeConnector
) -> None:
    header = user.authorization(user.message("x"))
    assert header is not None
    for body in ("{not json", "[1, 2]", '{"text": "no type"}'):
        answer = await bot_client.post(
            "/api/messages",
            data=body,
            headers={"Authorization": header, "Content-Type": "application/json"},
        )
        assert answer.status == 400, body
    assert connector.total() == 0


async def test_outbound_tokens_are_fetched_once_not_per_turn(
    bot_client: TestClient[web.Request, web.Application], user: TeamsUser, connector: FakeConnector
) -> None:
    for text in ("ajuda", "help", "meus chamados", "novo"):
        await user.send(user.message(text))
    assert len(user.inbox()) == 4
    assert connector.token_requests == 1
