"""Presence in Chromium: the live ticket list with unread counts, and "typing" on both sides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from sandbox import SandboxServer
from tests.waiting import eventually
from tests.web.conftest import MakeWeb, browser_signup, shot_path

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]

TEXT = {
    "pt-BR": {
        "unread": "1 mensagem nova",
        "title": "(1) Meus chamados · Chamados",
        "plain_title": "Meus chamados · Chamados",
        "typing": "Carla está digitando…",
        "you": "Você:",
    },
    "en": {
        "unread": "1 new message",
        "title": "(1) My tickets · Tickets",
        "plain_title": "My tickets · Tickets",
        "typing": "Carla is typing…",
        "you": "You:",
    },
}


async def _sandbox(sandbox: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient() as http:
        answer = await http.request(method, f"{sandbox.url}/sandbox/api/{path}", json=body)
        answer.raise_for_status()
        return answer.json()


async def _open(page: Page, title: str) -> dict[str, Any]:
    body = {"title": title, "description": "Desde ontem.", "complexity": "baixa", "sector": "TI"}
    answer: dict[str, Any] = await page.evaluate(
        """(body) => fetch('/api/conversations', {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json', 'X-CSRF-Token':
               document.querySelector('meta[name=csrf-token]').content},
             body: JSON.stringify(body)}).then((r) => r.json())""",
        body,
    )
    return answer


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_live_list_and_typing(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    words = TEXT[locale]
    page = await new_page(locale=locale)
    await browser_signup(page, base, f"bia.{locale.lower()}@example.com", name="Bia Lima")
    # Opened from another page: the (empty, live) list would reload itself for the first one.
    await page.goto(f"{base}/profile")
    older = await _open(page, "Impressora do 3º andar sem toner")
    newer = await _open(page, "Acesso à pasta do financeiro")
    await page.goto(f"{base}/")
    rows = page.locator(".ticket-row")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-ticket-id", str(newer["id"]))
    await expect(rows.first.locator(".preview-who")).to_have_text(words["you"])
    await expect(page).to_have_title(words["plain_title"])

    conversation = older["chatwootConversationId"]
    await _sandbox(sandbox, "POST", f"conversations/{conversation}/assign", {"agent": "Carla"})
    reply = {"content": "Já troquei o toner, pode testar?", "agent": "Carla"}
    await _sandbox(sandbox, "POST", f"conversations/{conversation}/messages", reply)
    # The older ticket moves to the top, with its unread count, preview and assignee.
    await expect(rows.first).to_have_attribute("data-ticket-id", str(older["id"]))
    await expect(rows.first.locator(".unread")).to_have_text(words["unread"])
    await expect(rows.first.locator(".preview-text")).to_have_text(reply["content"])
    await expect(rows.first.locator(".row-assignee")).to_have_text("Carla")
    await expect(rows.nth(1).locator(".unread")).to_be_hidden()
    await expect(page).to_have_title(words["title"])
    await page.screenshot(path=shot_path(f"list_live.{locale}.png"), full_page=True)

    await rows.first.locator("a").click()
    await expect(page.locator(".msg.theirs .text", has_text="toner")).to_have_count(1)

    # The reply is on a visible page: Chatwoot hears it was read.
    async def told_read() -> bool:
        record = await _sandbox(sandbox, "GET", f"conversations/{conversation}")
        return bool(record["contact_seen_calls"] >= 1)

    await eventually(told_read)
    await _sandbox(
        sandbox, "POST", f"conversations/{conversation}/typing", {"agent": "Carla", "status": "on"}
    )
    await expect(page.locator("#typing")).to_have_text(words["typing"])
    await expect(page.locator("#typing")).to_be_visible()
    await page.locator("#content").press_sequentially("Vou testar agora")

    async def contact_typing() -> bool:
        record = await _sandbox(sandbox, "GET", f"conversations/{conversation}")
        return record["contact_typing"] == "on"

    await eventually(contact_typing)
    await page.screenshot(path=shot_path(f"chat_typing.{locale}.png"), full_page=True)
    await _sandbox(
        sandbox, "POST", f"conversations/{conversation}/typing", {"agent": "Carla", "status": "off"}
    )
    await expect(page.locator("#typing")).to_be_hidden()

    await page.goto(f"{base}/")
    await expect(page).to_have_title(words["plain_title"])
    await expect(page.locator(".ticket-row .unread:visible")).to_have_count(0)
