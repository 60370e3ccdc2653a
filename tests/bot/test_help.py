"""Help before a ticket in Teams through the real bot endpoint: the card, its verbs, search."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.routes import BOT_CREDENTIALS
from sandbox import SandboxServer
from sandbox.portal import DEFAULT_PORTAL_SLUG
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT, TeamsUser, card_texts, find_action
from tests.bot.test_conversation import conversations, open_form
from tests.conftest import aim_webhooks, settings_for
from tests.fakes.connector import ConnectorCredentialsFactory, FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tickets import keys
from tickets.app import create_app

Client = TestClient[web.Request, web.Application]
FORM = {
    "title": "VPN cai toda hora",
    "description": "Desde ontem a VPN desconecta a cada 10 minutos.",
    "complexity": "media",
    "sector": "TI",
    "for_other": "true",
    "beneficiary_name": "Bruno Lima",
    "beneficiary_email": "bruno@contoso.example",
}


@pytest.fixture
async def help_bot(
    database_url: str, sandbox: SandboxServer, connector: FakeConnector, idp: TeamsIdentityProvider
) -> AsyncIterator[Client]:
    """The real app with the bot identity and the sandbox's Help Center portal switched on."""
    settings = settings_for(
        database_url,
        sandbox,
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD=APP_PASSWORD,
        MICROSOFT_APP_TENANT_ID=TENANT,
        CHATWOOT_PORTAL_SLUG=DEFAULT_PORTAL_SLUG,
    )
    app = create_app(settings)
    app[BOT_CREDENTIALS] = ConnectorCredentialsFactory(connector, APP_ID, APP_PASSWORD)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await aim_webhooks(sandbox, client)
        yield client


@pytest.fixture
def teams_user(help_bot: Client, connector: FakeConnector, idp: TeamsIdentityProvider) -> TeamsUser:
    """A Teams user talking to the bot with suggestions on."""
    return TeamsUser(str(help_bot.make_url("/api/messages")), connector, idp)


async def _submit_form(user: TeamsUser, form: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    message_id, form_id = await open_form(user)
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **form}, message_id))
    assert body["statusCode"] == 200
    return message_id, form_id, body["value"]


async def _stats(client: Client) -> dict[str, Any]:
    stats = await client.app[keys.HELP].stats()
    return stats.to_json()


async def test_a_matching_title_shows_articles_first_and_keeps_every_field(
    help_bot: Client, teams_user: TeamsUser, sandbox: SandboxServer
) -> None:
    _, form_id, card = await _submit_form(teams_user, FORM)
    text = card_texts(card)
    assert "Talvez isto resolva" in text
    assert "Como conectar à VPN da empresa" in text
    opens = [a for a in _all_actions(card) if a.get("type") == "Action.OpenUrl"]
    assert 1 <= len(opens) <= 3
    assert opens[0]["url"].startswith(f"{sandbox.url}/hc/{DEFAULT_PORTAL_SLUG}/articles/")
    assert find_action(card, "help.solved")["data"] == {"formId": form_id}
    anyway = find_action(card, "help.open_anyway")
    assert anyway["data"] == {"formId": form_id, **FORM}
    assert anyway["fallback"]["data"] == {"verb": "help.open_anyway", "formId": form_id, **FORM}
    assert await conversations(sandbox) == []
    assert (await _stats(help_bot))["suggestionsShown"] == 1


async def test_open_anyway_opens_exactly_one_ticket_with_every_field(
    help_bot: Client, teams_user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, _, card = await _submit_form(teams_user, FORM)
    data = find_action(card, "help.open_anyway")["data"]
    click = teams_user.execute("help.open_anyway", data, message_id)
    # A double click: both land, one ticket.
    first, second = await asyncio.gather(teams_user.send(click), teams_user.send(click))
    for body in (first, second):
        assert find_action(body["value"], "ticket.reply")
        assert FORM["title"] in card_texts(body["value"])
    [record] = await conversations(sandbox)
    attributes = record["custom_attributes"]
    assert attributes["title"] == FORM["title"]
    assert (attributes["complexity"], attributes["sector"]) == ("media", "TI")
    assert attributes["beneficiary_email"] == "bruno@contoso.example"
    stats = await _stats(help_bot)
    assert (stats["ticketsAfterSuggestion"], stats["resolved"]) == (1, 0)
    assert stats["bySurface"]["teams"]["ticketsAfterSuggestion"] == 1


async def test_solved_ends_without_a_ticket(
    help_bot: Client, teams_user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, _, card = await _submit_form(teams_user, FORM)
    data = find_action(card, "help.solved")["data"]
    body = await teams_user.send(teams_user.execute("help.solved", data, message_id))
    assert "Que bom que resolveu!" in card_texts(body["value"])
    assert find_action(body["value"], "ticket.new")
    # The Action.Submit fallback of the same button lands in the same place.
    await teams_user.send(teams_user.submit("help.solved", data, message_id))
    assert "Que bom que resolveu!" in card_texts(teams_user.updates()[-1].card)
    assert await conversations(sandbox) == []
    stats = await _stats(help_bot)
    assert (stats["resolved"], stats["ticketsAfterSuggestion"], stats["deflectionRate"]) == (
        1,
        0,
        1.0,
    )


async def test_no_match_or_help_center_down_opens_the_ticket_at_once(
    teams_user: TeamsUser, sandbox: SandboxServer
) -> None:
    _, _, card = await _submit_form(teams_user, {**FORM, "title": "Cadeira quebrada"})
    assert find_action(card, "ticket.reply")
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox.url}/sandbox/api/portal/faults", json={"http_status": 500})
    _, _, card = await _submit_form(teams_user, FORM)
    assert find_action(card, "ticket.reply")
    assert "Talvez isto resolva" not in card_texts(card)
    assert len(await conversations(sandbox)) == 2


async def test_invalid_form_gets_its_errors_before_any_article(teams_user: TeamsUser) -> None:
    _, _, card = await _submit_form(teams_user, {**FORM, "sector": ""})
    assert find_action(card, "ticket.create")
    assert "Talvez isto resolva" not in card_texts(card)


@pytest.mark.parametrize(
    ("line", "locale", "expected"),
    [
        ("ajuda com vpn", "pt-BR", "Como conectar à VPN da empresa"),
        ("Ajuda com a impressora?", "pt-BR", "Impressora não imprime: o que verificar"),
        ("help with password", "en-US", "Reset your network password"),
    ],
)
async def test_search_command_lists_articles(
    teams_user: TeamsUser, line: str, locale: str, expected: str
) -> None:
    teams_user.locale = locale
    await teams_user.send(teams_user.message(line))
    card = teams_user.last_card()
    assert expected in card_texts(card)
    assert find_action(card, "ticket.new")


async def test_search_command_without_results_says_so(teams_user: TeamsUser) -> None:
    await teams_user.send(teams_user.message("ajuda com xyzzy"))
    card = teams_user.last_card()
    assert "Não encontrei artigos sobre “xyzzy”." in card_texts(card)
    assert find_action(card, "ticket.new")


def _all_actions(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for value in node.values():
            found += _all_actions(value)
    elif isinstance(node, list):
        for item in node:
            found += _all_actions(item)
    return found
