"""Loopback development mode, the runtime guard, and the error boundary."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.auth import make_adapter
from tests.bot.harness import TeamsUser, card_texts
from tests.conftest import make_settings
from tests.fakes.connector import FakeConnector
from tickets import keys


async def test_without_app_id_loopback_accepts_unsigned_activities(
    app_client: TestClient[web.Request, web.Application], connector: FakeConnector
) -> None:
    user = TeamsUser(str(app_client.make_url("/api/messages")), connector, None, app_id="")
    status, _ = await user.post(user.message("ajuda"), authorization=None)
    assert status == 201
    [reply] = user.inbox()
    # Auth is off, so replies go out without a token and no token is ever requested.
    assert reply.authorization is None and connector.token_requests == 0


async def test_without_app_id_a_token_is_still_checked(
    app_client: TestClient[web.Request, web.Application], connector: FakeConnector
) -> None:
    user = TeamsUser(str(app_client.make_url("/api/messages")), connector, None, app_id="")
    status, _ = await user.post(user.message("ajuda"), authorization="Bearer not.a.jwt")
    assert status == 401
    assert connector.total() == 0


def test_the_adapter_refuses_to_run_open_without_an_app_id() -> None:
    # Settings refuse this combination already; this is the second lock on the door.
    settings = make_settings().model_copy(update={"HOST": "0.0.0.0"})
    with pytest.raises(RuntimeError, match="MICROSOFT_APP_ID"):
        make_adapter(settings)


async def test_a_failing_turn_gets_one_sentence_with_an_error_id(
    bot_client: TestClient[web.Request, web.Application],
    user: TeamsUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Break the database under the bot: storing the conversation reference fails.
    async with bot_client.app[keys.ENGINE].begin() as connection:
        await connection.execute(text("ALTER TABLE teams_conversation_refs RENAME TO broken"))
    await user.send(user.message("ajuda"))
    [reply] = user.inbox()
    assert reply.card is not None
    shown = card_texts(reply.card)
    assert "Desculpe, algo deu errado do nosso lado." in shown
    match = re.search(r"Código do erro: ([0-9a-f]{12})", shown)
    assert match is not None
    assert any(match.group(1) in record.getMessage() for record in caplog.records)
    assert "Traceback" not in shown and "broken" not in shown
