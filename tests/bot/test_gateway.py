"""The gateway against the fake connector: every scripted Teams answer becomes the right outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from botframework.connector.auth import AuthenticateRequestResult, ClaimsIdentity

from bot.auth import make_adapter
from bot.connector import ConnectorPool
from bot.gateway import Delivery, Outcome, OutgoingMessage, TeamsGateway
from tests.bot.harness import APP_ID, APP_PASSWORD
from tests.conftest import make_settings
from tests.fakes import connector as fc
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector

TENANT = "tenant-1"


@pytest.fixture
async def gateway() -> AsyncIterator[TeamsGateway]:
    """A gateway on an adapter without app id (loopback development mode)."""
    adapter, _ = make_adapter(make_settings())
    teams = TeamsGateway(adapter, "", timeout=5.0)
    yield teams
    await teams.close()


def identified_gateway(
    connector: FakeConnector, clock: Callable[[], float] = time.time
) -> TeamsGateway:
    """A gateway with a bot identity whose tokens come from the fake's token endpoint."""
    settings = make_settings(
        MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD=APP_PASSWORD, MICROSOFT_APP_TENANT_ID=TENANT
    )
    credentials = ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)
    adapter, _ = make_adapter(settings, credentials, clock=clock)
    return TeamsGateway(adapter, APP_ID, timeout=5.0)


def reference(connector: FakeConnector, conversation_id: str = "a:chat-1") -> dict[str, Any]:
    """A stored conversation reference pointing at the fake connector."""
    ref = ConversationReference(
        activity_id="incoming-1",
        user=ChannelAccount(id="29:user", aad_object_id="oid-1", name="Ana"),
        bot=ChannelAccount(id="28:bot", name="Chamados"),
        conversation=ConversationAccount(
            id=conversation_id, tenant_id=TENANT, conversation_type="personal"
        ),
        channel_id="msteams",
        locale="pt-BR",
        service_url=connector.url,
    )
    serialized: dict[str, Any] = ref.serialize()
    return serialized


async def test_send_text_and_card_arrive_as_new_messages(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    ref = reference(connector)
    text = await gateway.send(ref, OutgoingMessage(text="Olá *mundo*"))
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}
    with_card = await gateway.send(ref, OutgoingMessage(card=card))
    assert text.outcome is Outcome.SENT and text.activity_id
    assert with_card.outcome is Outcome.SENT and with_card.activity_id != text.activity_id
    sent = connector.sent("a:chat-1")
    assert [r.text for r in sent] == ["Olá *mundo*", None]
    assert sent[0].activity["textFormat"] == "plain"
    assert sent[1].card == card
    # A proactive send is a new message, not a reply to the synthetic continuation activity.
    assert all(r.path == "/v3/conversations/a:chat-1/activities" for r in sent)
    # botbuilder writes the tenant as `tenantID`.
    assert sent[0].activity["conversation"]["tenantID"] == TENANT


async def test_update_replaces_the_message_in_place(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    ref = reference(connector)
    first = await gateway.send(ref, OutgoingMessage(card={"type": "AdaptiveCard", "body": []}))
    assert first.activity_id is not None
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x"}]}
    updated = await gateway.update(ref, first.activity_id, OutgoingMessage(card=card))
    assert updated.outcome is Outcome.SENT
    [put] = connector.updates("a:chat-1")
    assert put.path == f"/v3/conversations/a:chat-1/activities/{first.activity_id}"
    assert put.card == card


FAULTS: list[tuple[fc.Reply, Outcome, str | None]] = [
    (fc.blocked(), Outcome.BLOCKED, "ConversationBlockedByUser"),
    (fc.not_in_roster(), Outcome.UNINSTALLED, "BotNotInConversationRoster"),
    (fc.not_installed(), Outcome.UNINSTALLED, "ForbiddenOperationException"),
    (fc.disabled_by_admin(), Outcome.UNINSTALLED, "BotDisabledByAdmin"),
    (fc.writes_blocked(), Outcome.UNINSTALLED, "MessageWritesBlocked"),
    (fc.gone(), Outcome.GONE, "ConversationNotFound"),
    (fc.too_large(), Outcome.TOO_LARGE, "MessageSizeTooBig"),
    (fc.unavailable(412), Outcome.TRANSIENT, "PreconditionFailed"),
    (fc.unavailable(502), Outcome.TRANSIENT, "ServiceError"),
    (fc.unavailable(503), Outcome.TRANSIENT, "ServiceError"),
    (fc.unavailable(504), Outcome.TRANSIENT, "ServiceError"),
    (fc.failure(400, "BadArgument"), Outcome.FAILED, "BadArgument"),
    (fc.failure(500, "InternalServerError"), Outcome.FAILED, "InternalServerError"),
    (fc.failure(403, "SomethingElse"), Outcome.FAILED, "SomethingElse"),
]


@pytest.mark.parametrize(("reply", "outcome", "code"), FAULTS, ids=lambda v: str(v)[:40])
async def test_send_faults_map_to_outcomes(
    connector: FakeConnector,
    gateway: TeamsGateway,
    reply: fc.Reply,
    outcome: Outcome,
    code: str | None,
) -> None:
    connector.script("a:chat-1", [reply])
    delivery = await gateway.send(reference(connector), OutgoingMessage(text="hi"))
    assert (delivery.outcome, delivery.status, delivery.code) == (outcome, reply.status, code)
    # One attempt: the SDK never retries a POST, and the gateway does not either.
    assert len(connector.activities("a:chat-1")) == 1
    assert connector.sent("a:chat-1") == []


async def test_throttled_carries_retry_after(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    connector.script("a:chat-1", [fc.throttled(2), fc.throttled(0.5), fc.throttled(None)])
    answers = [await gateway.send(reference(connector), OutgoingMessage(text="x")) for _ in "abc"]
    assert [a.outcome for a in answers] == [Outcome.THROTTLED] * 3
    assert [a.retry_after for a in answers] == [2.0, 0.5, None]
    assert answers[0].status == 429 and answers[0].code == "Throttled"


async def test_tenant_script_applies_to_every_conversation_of_the_tenant(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    connector.script_tenant(TENANT, [fc.unavailable(503)])
    first = await gateway.send(reference(connector, "a:other"), OutgoingMessage(text="x"))
    second = await gateway.send(reference(connector, "a:other"), OutgoingMessage(text="y"))
    assert (first.outcome, second.outcome) == (Outcome.TRANSIENT, Outcome.SENT)


async def test_update_faults_are_one_attempt_too(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    # msrest retries PUT on 5xx four times by itself; the gateway switches that off.
    connector.script("a:chat-1", [fc.unavailable(503), fc.gone("ActivityNotFoundInConversation")])
    started = time.monotonic()
    first = await gateway.update(reference(connector), "m-1", OutgoingMessage(text="x"))
    second = await gateway.update(reference(connector), "m-1", OutgoingMessage(text="x"))
    assert (first.outcome, first.status) == (Outcome.TRANSIENT, 503)
    assert (second.outcome, second.code) == (Outcome.GONE, "ActivityNotFoundInConversation")
    assert len(connector.activities("a:chat-1")) == 2
    assert time.monotonic() - started < 2


async def test_timeouts_and_dead_connectors_are_transient(connector: FakeConnector) -> None:
    adapter, _ = make_adapter(make_settings())
    impatient = TeamsGateway(adapter, "", timeout=0.3)
    connector.script("a:chat-1", [fc.slow(1.0)])
    slow = await impatient.send(reference(connector), OutgoingMessage(text="x"))
    assert slow.outcome is Outcome.TRANSIENT
    dead = reference(connector)
    dead["serviceUrl"] = "http://127.0.0.1:9"
    refused = await impatient.send(dead, OutgoingMessage(text="x"))
    assert refused.outcome is Outcome.TRANSIENT


async def test_bad_references_fail_without_a_call(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    broken = reference(connector)
    del broken["serviceUrl"]
    delivery = await gateway.send(broken, OutgoingMessage(text="x"))
    assert delivery == Delivery(Outcome.FAILED, detail="reference lacks conversation or serviceUrl")
    assert connector.total() == 0


async def test_create_personal_conversation_returns_a_usable_reference(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    delivery, ref = await gateway.create_personal_conversation(
        service_url=connector.url, tenant_id=TENANT, user_aad_id="oid-9"
    )
    assert delivery.outcome is Outcome.SENT and ref is not None
    [created] = connector.created
    assert created["members"] == [{"id": "oid-9"}]
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    assert ref["conversation"]["id"] == created["id"]
    assert ref["conversation"]["tenantID"] == TENANT
    assert ref["serviceUrl"] == connector.url
    sent = await gateway.send(ref, OutgoingMessage(text="olá"))
    assert sent.outcome is Outcome.SENT
    assert [r.text for r in connector.sent(created["id"])] == ["olá"]


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [(fc.not_installed(), Outcome.UNINSTALLED), (fc.throttled(3), Outcome.THROTTLED)],
)
async def test_create_personal_conversation_faults(
    connector: FakeConnector, gateway: TeamsGateway, reply: fc.Reply, outcome: Outcome
) -> None:
    connector.script(fc.CREATE_KEY, [reply])
    delivery, ref = await gateway.create_personal_conversation(
        service_url=connector.url, tenant_id=TENANT, user_aad_id="oid-9"
    )
    assert (delivery.outcome, ref) == (outcome, None)
    assert connector.created == []


async def test_limit_checker_counts_breaches(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    ref = reference(connector)
    for _ in range(7):
        assert (await gateway.send(ref, OutgoingMessage(text="x"))).ok
    assert connector.breaches == []
    for _ in range(2):
        await gateway.send(ref, OutgoingMessage(text="x"))
    breaches = connector.breaches
    assert breaches, "8 sends within a second must breach 7/s"
    assert {(b.scope, b.key, b.window, b.limit) for b in breaches} == {
        ("conversation", "a:chat-1", 1.0, 7)
    }
    connector.reset()
    assert connector.breaches == [] and connector.activities("a:chat-1") == []


async def test_loopback_sends_carry_no_token(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    assert (await gateway.send(reference(connector), OutgoingMessage(text="x"))).ok
    [sent] = connector.sent("a:chat-1")
    assert sent.authorization is None
    assert connector.token_requests == 0


async def test_identified_sends_carry_the_credentials_token(connector: FakeConnector) -> None:
    gateway = identified_gateway(connector)
    try:
        ref = reference(connector)
        first = await gateway.send(ref, OutgoingMessage(text="um"))
        second = await gateway.update(ref, "m-1", OutgoingMessage(text="dois"))
        created, new_ref = await gateway.create_personal_conversation(
            service_url=connector.url, tenant_id=TENANT, user_aad_id="oid-7"
        )
    finally:
        await gateway.close()
    assert first.ok and second.ok and created.ok and new_ref is not None
    calls = connector.activities("a:chat-1")
    assert [c.method for c in calls] == ["POST", "PUT"]
    tokens = {c.authorization for c in calls}
    [header] = tokens
    assert header is not None and header.startswith("Bearer ")
    assert connector.issued(header.removeprefix("Bearer "))
    # One token for every call: the cached credentials answer, nothing fetches per send.
    assert connector.token_requests == 1
    # The sender is the bot's own Teams id, on sends and on the 1:1 create alike.
    assert calls[0].activity["from"]["id"] == "28:bot"
    assert connector.created[0]["bot"]["id"] == f"28:{APP_ID}"
    assert new_ref["bot"]["id"] == f"28:{APP_ID}"


async def test_a_token_near_expiry_is_refreshed_before_the_send() -> None:
    # A token living 301 s is inside the 300 s refresh margin once the credentials' clock moves
    # 50 s on: the next send must carry a new token although the connector client (and its
    # credentials) is reused. The clock is injected, so the token ages without waiting; the
    # new token lives an hour, so it is fresh at that clock.
    now = [time.time()]
    connector = FakeConnector(token_ttl=301)
    await connector.start()
    gateway = identified_gateway(connector, clock=lambda: now[0])
    try:
        assert (await gateway.send(reference(connector), OutgoingMessage(text="a"))).ok
        assert (await gateway.send(reference(connector), OutgoingMessage(text="b"))).ok
        assert connector.token_requests == 1  # still fresh: the cached token answered
        connector.token_ttl = 3600
        now[0] += 50
        assert (await gateway.send(reference(connector), OutgoingMessage(text="c"))).ok
    finally:
        await gateway.close()
        await connector.stop()
    headers = [r.authorization or "" for r in connector.sent("a:chat-1")]
    assert connector.token_requests == 2
    assert len(set(headers)) == 2 and headers[0] == headers[1] != headers[2]
    assert all(connector.issued(h.removeprefix("Bearer ")) for h in headers)


async def test_concurrent_sends_share_one_client(
    connector: FakeConnector, gateway: TeamsGateway
) -> None:
    refs = [reference(connector, f"a:chat-{i % 4}") for i in range(24)]
    answers = await asyncio.gather(
        *(gateway.send(ref, OutgoingMessage(text=str(i))) for i, ref in enumerate(refs))
    )
    assert all(a.ok for a in answers)
    assert len({a.activity_id for a in answers}) == 24
    assert sum(len(connector.sent(f"a:chat-{i}")) for i in range(4)) == 24


async def test_pool_builds_one_configured_client_per_service_url(
    connector: FakeConnector,
) -> None:
    adapter, _ = make_adapter(make_settings())
    pool = ConnectorPool(adapter.bot_framework_authentication, "", timeout=2.5, max_clients=2)
    first = await pool.client(connector.url)
    assert await pool.client(connector.url) is first
    other = await pool.client("http://127.0.0.1:9")
    assert other is not first and len(pool) == 2
    # msrest's own retries are off and its socket timeout is the gateway's.
    assert first.config.retry_policy.retries == 0
    assert first.config.retry_policy.policy.raise_on_status is False
    assert first.config.connection.timeout == 2.5
    # The least recently used client makes room for a third service URL.
    await pool.client(connector.url)
    await pool.client("http://127.0.0.1:10")
    assert len(pool) == 2
    assert await pool.client(connector.url) is first
    assert await pool.client("http://127.0.0.1:9") is not other
    await pool.close()
    assert len(pool) == 0


async def test_a_channel_turn_replies_through_the_pooled_client(connector: FakeConnector) -> None:
    adapter, _ = make_adapter(make_settings())
    auth = adapter.bot_framework_authentication
    pool = ConnectorPool(auth, "", timeout=2.5)
    claims = ClaimsIdentity({}, True)
    turn = AuthenticateRequestResult()
    turn.claims_identity, turn.audience = claims, "https://api.botframework.com"
    turn.connector_factory = auth.create_connector_factory(claims)
    factory = pool.for_turn(turn).connector_factory
    client = await factory.create(connector.url, turn.audience)
    # The same configured client every turn, not a new one (and its retry policy) per turn.
    assert client is await pool.client(connector.url) and len(pool) == 1
    assert await factory.create(connector.url, turn.audience) is client
    # Another audience (a skill's) still gets a client of its own.
    assert await factory.create(connector.url, "other-bot-app-id") is not client
    skill = AuthenticateRequestResult()
    skill.claims_identity = ClaimsIdentity(
        {"ver": "1.0", "aud": "bot-b", "appid": "bot-a", "iss": "x"}, True
    )
    skill.connector_factory = original = auth.create_connector_factory(skill.claims_identity)
    assert pool.for_turn(skill).connector_factory is original
    await pool.close()


async def test_the_user_token_client_is_built_once_per_bot() -> None:
    adapter, _ = make_adapter(make_settings())
    auth = adapter.bot_framework_authentication
    claims = ClaimsIdentity({"aud": "app-1"}, True)
    first = await auth.create_user_token_client(claims)
    assert await auth.create_user_token_client(claims) is first
    assert await auth.create_user_token_client(ClaimsIdentity({"aud": "app-2"}, True)) is not first
    stock, _ = make_adapter(make_settings(), turn_clients=False)
    stock_auth = stock.bot_framework_authentication
    assert await stock_auth.create_user_token_client(claims) is not (
        await stock_auth.create_user_token_client(claims)
    )
