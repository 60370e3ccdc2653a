"""A turn's own calls to Teams (replies, roster reads) stay inside Teams' limits with the outbox's.

The soak counted tenant breaches at the fake connector while a hundred employees installed the
app at once: each install is a roster read and a welcome card, made by the SDK in the turn,
which the limiter never saw. These tests run the real app (its limiter, its gateway) against
the fake connector, which counts every request over a Teams limit.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.gateway import OutgoingMessage
from bot.keys import TEAMS_GATEWAY
from bot.routes import BOT
from db.models import TeamsSend, Throttle
from db.outbox import conversation_key, tenant_key
from tests.bot.harness import TENANT, TeamsUser
from tests.bot.outbox_setup import serialized_reference
from tests.fakes.connector import FakeConnector, throttled
from tests.fakes.teams_idp import TeamsIdentityProvider

Client = TestClient[web.Request, web.Application]
Sessions = async_sessionmaker[AsyncSession]
PROACTIVE = 48
INSTALLS = 12


async def _proactive_burst(app: web.Application, connector: FakeConnector, count: int) -> None:
    """Send `count` messages to distinct chats of the tenant as the outbox does: slot, then send."""
    limiter, gateway = app[BOT].limiter, app[TEAMS_GATEWAY]

    async def one(number: int) -> None:
        chat = f"a:busy-{number}"
        reference = serialized_reference(connector.url, chat, tenant=TENANT, oid=f"oid-{number}")
        async with limiter.slot(TENANT, chat, patience=5) as grant:
            assert grant.wait == 0.0
            delivery = await gateway.send(reference, OutgoingMessage(text=f"reply {number}"))
        assert delivery.ok, delivery

    await asyncio.gather(*(one(n) for n in range(count)))


async def test_installs_on_top_of_outbox_sends_stay_inside_the_tenant_limit(
    bot_client: Client,
    connector: FakeConnector,
    idp: TeamsIdentityProvider,
    sessionmaker: Sessions,
) -> None:
    """48 proactive sends, then 12 installs at once (a roster read and a welcome card each)."""
    endpoint = str(bot_client.make_url("/api/messages"))
    users = [TeamsUser(endpoint, connector, idp, name=f"User {n}") for n in range(INSTALLS)]
    started = datetime.now(UTC)
    await _proactive_burst(bot_client.app, connector, PROACTIVE)
    await asyncio.gather(*(user.send(user.install()) for user in users))

    # Everyone got the welcome card, and no second of it went over the tenant's 50 requests.
    assert all(len(user.inbox()) == 1 for user in users)
    assert connector.breaches == []
    # The turns' requests took their slots in the shared log, as the outbox's did.
    async with sessionmaker() as session:
        logged = await session.scalar(
            select(func.count())
            .select_from(TeamsSend)
            .where(TeamsSend.key == tenant_key(TENANT), TeamsSend.sent_at >= started)
        )
    assert logged == PROACTIVE + 2 * INSTALLS


async def test_back_to_back_commands_in_one_chat_stay_inside_its_limits(
    user: TeamsUser, connector: FakeConnector
) -> None:
    """Ten commands faster than Teams allows replies in one chat: the replies are paced."""
    await user.send(user.install())
    for _ in range(10):
        await user.send(user.message("ajuda"))

    replies = user.inbox()
    assert len(replies) == 11
    assert connector.breaches == []
    # The chat's 7-per-second window held: the 8th message left a second after the 1st.
    assert replies[7].at - replies[0].at >= 1.0


async def test_a_429_answered_to_a_turn_holds_the_outbox_back_too(
    user: TeamsUser, connector: FakeConnector, sessionmaker: Sessions
) -> None:
    await user.send(user.install())
    connector.script(user.conversation_id, [throttled(30)])
    status, _ = await user.post(user.message("ajuda"))
    assert status in (200, 201, 500)
    assert len(user.inbox()) == 1  # the 429'd help card never arrived

    async with sessionmaker() as session:
        bans = dict(
            (
                await session.execute(
                    select(Throttle.key, Throttle.throttled_until - func.now()).where(
                        Throttle.key.in_(
                            [tenant_key(TENANT), conversation_key(user.conversation_id)]
                        )
                    )
                )
            ).all()
        )
    # Retry-After: 30 s, for the tenant and the chat, where every reservation looks.
    assert set(bans) == {tenant_key(TENANT), conversation_key(user.conversation_id)}
    assert all(ban.total_seconds() > 25 for ban in bans.values())
