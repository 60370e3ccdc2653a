"""The open chat page follows Chatwoot: deletes switch live, replies show in posting order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from chatwoot.events import EventSource, MessageEvent
from chatwoot.fields import MessageType, SenderType
from sandbox import SandboxServer
from tests.helpdesk import control
from tests.web.conftest import MakeWeb, browser_signup, shot_path
from tests.web.test_browser_polish import _open as open_in_browser
from tickets import keys

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]
MARKER = {"pt-BR": "mensagem apagada", "en": "message deleted"}


async def _open_ticket(page: Page, base: str, title: str) -> tuple[int, int]:
    ticket_id, conversation = await open_in_browser(page, base, title)
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    return ticket_id, conversation


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_a_deleted_reply_switches_live_on_the_open_page(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    await browser_signup(page, base, f"apagada-{locale.lower()}@example.com")
    _ticket_id, conversation = await _open_ticket(page, base, "Senha vazada")
    sent = await control(
        sandbox,
        f"conversations/{conversation}/messages",
        {"content": "Sua senha provisória é hunter2", "agent": "Rita"},
    )
    bubble = page.locator(".msg.theirs")
    await expect(bubble.locator(".text")).to_have_text("Sua senha provisória é hunter2")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        gone = await http.delete(f"/sandbox/api/conversations/{conversation}/messages/{sent['id']}")
        gone.raise_for_status()
    # The same bubble, in place, now the marker: no reload, no second copy.
    await expect(bubble.locator(".text.deleted")).to_have_text(MARKER[locale])
    await expect(bubble).to_have_count(1)
    assert "hunter2" not in await page.locator("#timeline").inner_text()
    await page.screenshot(path=shot_path(f"chat-deleted-live-{locale}.png"))
    await page.reload()
    await expect(page.locator(".msg.theirs .text.deleted")).to_have_text(MARKER[locale])


async def test_replies_delivered_out_of_order_show_in_posting_order(
    make_web: MakeWeb, new_page: NewPage
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page()
    await browser_signup(page, base, "ordem@example.com")
    ticket_id, conversation = await _open_ticket(page, base, "Ordem das respostas")
    ingestor = client.app[keys.INGESTOR]
    posted = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    # Chatwoot posted 1, 2, 3 (2 and 3 in the same second); its jobs delivered 3, 1, 2.
    replies = {
        900001: ("Primeiro", posted),
        900002: ("Segundo", posted + timedelta(seconds=1, milliseconds=100)),
        900003: ("Terceiro", posted + timedelta(seconds=1, milliseconds=600)),
    }
    for message_id in (900003, 900001, 900002):
        content, at = replies[message_id]
        await ingestor.ingest(
            MessageEvent(
                kind="created",
                message_id=message_id,
                conversation_id=conversation,
                inbox_id=None,
                message_type=MessageType.OUTGOING,
                private=False,
                content=content,
                content_type="text",
                sender_name="Rita",
                sender_type=SenderType.USER,
                sender_id=1,
                echo_id=None,
                created_at=at,
                source=EventSource.WEBHOOK,
            )
        )
        await expect(page.locator(".msg.theirs .text", has_text=content)).to_have_count(1)
    order = ["Primeiro", "Segundo", "Terceiro"]
    await expect(page.locator(".msg.theirs .text")).to_have_text(order)
    await page.reload()
    await expect(page.locator(".msg.theirs .text")).to_have_text(order)
    api = await page.evaluate(
        "(id) => fetch('/api/conversations/' + id + '/messages').then((r) => r.json())", ticket_id
    )
    agent = [m for m in api["messages"] if m["direction"] == "agent"]
    by_key = sorted(agent, key=lambda m: m["sortKey"])
    assert [m["content"] for m in by_key] == order
