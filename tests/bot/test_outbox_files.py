"""An agent's files in Teams: pictures in the card behind signed links, other files as links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot import views
from db.models import Origin
from sandbox import SandboxServer
from tests.bot.outbox_setup import add_employee
from tests.fakes.connector import FakeConnector
from tests.web.files import PDF, agent_files, png
from tickets import keys
from tickets.attachments import FileLinks
from tickets.forms import TicketForm

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector for the test."""
    fake = FakeConnector()
    await fake.start()
    yield fake
    await fake.stop()


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _local(url: str) -> str:
    """Return a link's path and query: the test server is not at the configured base URL."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_agent_picture_and_pdf_in_the_reply_card_and_the_ticket_card(
    app_client: Client, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    app = app_client.app
    sessions = app[keys.SESSIONMAKER]
    ana = await add_employee(sessions, connector.url, locale="en")
    service = app[keys.SERVICE]
    form = TicketForm("Tela azul", "Ao ligar", "baixa", "TI", False, None, None)
    info = await service.open_ticket(ana.user_id, form, origin=Origin.TEAMS)
    image = png(30, 20)
    files = [("tela.png", image, "image/png"), ("relatório.pdf", PDF, "application/pdf")]
    await agent_files(sandbox, info.chatwoot_conversation_id, "Veja", files)
    [post] = await connector.wait_for(ana.conversation_id)
    card = post.card
    assert card is not None
    [picture] = [e for e in _walk(card) if e.get("type") == "Image"]
    assert picture["altText"] == "Open tela.png"
    opens = [e for e in _walk(card) if e.get("type") == "Action.OpenUrl"]
    full = picture["selectAction"]["url"]
    [pdf] = [e["url"] for e in opens if e.get("title") == "Open relatório.pdf"]

    # Teams fetches these without our cookie: the signature is the only key.
    for url, body in ((picture["url"], image), (full, image), (pdf, PDF)):
        assert "sig=" in url and "expires=" in url
        answer = await app_client.get(_local(url))
        assert answer.status == 200 and await answer.read() == body
    tampered = _local(full).replace("sig=", "sig=0")
    assert (await app_client.get(tampered)).status == 404
    unsigned = urlsplit(full).path
    assert (await app_client.get(unsigned)).status == 404

    # The ticket card (shown on click, or put in place) shows the same picture and link.
    timeline = await service.timeline(ana.user_id, info.id)
    secret = app[keys.SETTINGS].SECRET_KEY.get_secret_value()
    links = FileLinks(app[keys.SETTINGS].base_url, secret)
    ticket_card = views.ticket_card(info, timeline, "en", links=links)
    [same] = [e for e in _walk(ticket_card) if e.get("type") == "Image"]
    assert same["url"] == picture["url"] and same["selectAction"]["url"] == full
    assert pdf in [e["url"] for e in _walk(ticket_card) if e.get("type") == "Action.OpenUrl"]
