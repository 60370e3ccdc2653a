"""The web area in Debian's Chromium: sign up, open a ticket, live replies, safety, resume."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from sandbox import SandboxServer
from tests.web.conftest import ARTIFACTS, MakeWeb, browser_signup, shot_path
from web import keys as web_keys

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]

TEXT = {
    "pt-BR": {
        "new": "Novo chamado",
        "title": "Título",
        "submit": "Enviar chamado",
        "too_short": "O título precisa ter pelo menos 3 caracteres.",
        "sector_required": "Escolha o setor.",
        "resolved": "Chamado resolvido",
        "reopened": "Chamado reaberto",
        "assigned": "Rita assumiu o chamado",
        "badge_resolved": "Resolvido",
        "badge_open": "Aberto",
        "send": "Enviar",
        "live": "Atualizações ao vivo",
    },
    "en": {
        "new": "New ticket",
        "title": "Title",
        "submit": "Submit ticket",
        "too_short": "The title needs at least 3 characters.",
        "sector_required": "Choose the sector.",
        "resolved": "Ticket resolved",
        "reopened": "Ticket reopened",
        "assigned": "Rita took the ticket",
        "badge_resolved": "Resolved",
        "badge_open": "Open",
        "send": "Send",
        "live": "Live updates",
    },
}


async def _agent(
    sandbox: SandboxServer, conversation: int, action: str, body: dict[str, Any]
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/{action}", json=body
        )
        answer.raise_for_status()


async def _conversation_id(page: Page, ticket_id: int) -> int:
    answer = await page.evaluate(
        "(id) => fetch('/api/conversations/' + id).then((r) => r.json())", ticket_id
    )
    return int(answer["chatwootConversationId"])


async def _open_ticket(page: Page, base: str, title: str) -> int:
    await page.goto(f"{base}/tickets/new")
    await page.locator("#title").fill(title)
    await page.locator("#description").fill("Desde segunda, no Wi-Fi e no cabo.")
    await page.locator("#complexity").select_option("alta")
    await page.locator("#sector").select_option("TI")
    await page.locator("#ticket-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_signup_ticket_live_reply_resolve_reopen(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    words = TEXT[locale]
    page = await new_page(locale=locale)
    await browser_signup(page, base, f"ana.{locale.lower()}@example.com")
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await page.screenshot(path=shot_path(f"list_empty.{locale}.png"), full_page=True)

    await page.get_by_role("link", name=words["new"]).first.click()
    await page.get_by_label(words["title"]).fill("ab")
    await page.locator("#description").fill("Texto que deve ficar no formulário.")
    await page.locator("#ticket-form button[type=submit]").click()
    await expect(page.locator("#title-error")).to_have_text(words["too_short"])
    await expect(page.locator("#sector-error")).to_have_text(words["sector_required"])
    await expect(page.locator("#description")).to_have_value("Texto que deve ficar no formulário.")
    await expect(page.locator("#title")).to_be_focused()
    await page.screenshot(path=shot_path(f"form_error.{locale}.png"), full_page=True)

    ticket_id = await _open_ticket(page, base, "VPN cai a cada 10 minutos")
    await expect(page.locator("#live")).to_have_text(words["live"])
    conversation = await _conversation_id(page, ticket_id)

    await _agent(sandbox, conversation, "assign", {"agent": "Rita"})
    await _agent(
        sandbox, conversation, "messages", {"content": "Oi! Já estou vendo.", "agent": "Rita"}
    )
    reply = page.locator(".msg.theirs .text", has_text="Oi! Já estou vendo.")
    await expect(reply).to_have_count(1)
    await expect(page.locator(".sys", has_text=words["assigned"])).to_have_count(1)
    await expect(page.locator("#ticket-assignee")).to_have_text("Rita")

    await page.locator("#content").fill("Obrigada, fico no aguardo.")
    await page.locator("#content").press("Enter")
    await expect(
        page.locator(".msg.mine .text", has_text="Obrigada, fico no aguardo.")
    ).to_have_count(1)

    await _agent(sandbox, conversation, "status", {"status": "resolved"})
    await expect(page.locator(".sys", has_text=words["resolved"])).to_have_count(1)
    await expect(page.locator("#ticket-status .badge")).to_have_text(words["badge_resolved"])
    await expect(page.locator("#resolved-note")).to_be_visible()
    await _agent(sandbox, conversation, "status", {"status": "open"})
    await expect(page.locator(".sys", has_text=words["reopened"])).to_have_count(1)
    await expect(page.locator("#ticket-status .badge")).to_have_text(words["badge_open"])
    ids = await page.locator("#timeline [data-id]").evaluate_all(
        "(nodes) => nodes.map((n) => Number(n.dataset.id))"
    )
    assert ids == sorted(set(ids))
    await page.screenshot(path=shot_path(f"chat.{locale}.png"), full_page=True)

    # The server-rendered page (after a reload) shows the same timeline.
    await page.reload()
    reloaded = await page.locator("#timeline [data-id]").evaluate_all(
        "(nodes) => nodes.map((n) => Number(n.dataset.id))"
    )
    assert reloaded == ids

    await page.goto(f"{base}/?status=open")
    await expect(page.locator(".ticket-row")).to_have_count(1)
    await expect(page.locator(".ticket-row .who")).to_have_text("Rita")
    await page.screenshot(path=shot_path(f"list.{locale}.png"), full_page=True)
    await page.goto(f"{base}/?status=resolved")
    await expect(page.locator(".empty")).to_be_visible()

    phone = await new_page(locale=locale, width=360, height=740)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{base}/tickets/{ticket_id}")
    await expect(phone.locator("#live")).to_have_text(words["live"])
    overflow = await phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    await phone.screenshot(path=shot_path(f"chat_phone.{locale}.png"), full_page=True)


async def test_agent_html_renders_as_inert_text(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await browser_signup(page, base, "xss@example.com")
    ticket_id = await _open_ticket(page, base, "Teste <b>negrito</b>")
    conversation = await _conversation_id(page, ticket_id)
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2;alert(1)</script>'
    await _agent(sandbox, conversation, "messages", {"content": evil, "agent": "<i>Eve</i>"})
    bubble = page.locator(".msg.theirs").last
    await expect(bubble.locator(".text")).to_have_text(evil)
    await expect(bubble.locator(".who")).to_have_text("<i>Eve</i>")
    assert await bubble.locator("img, script, i").count() == 0
    await page.reload()
    await expect(page.locator(".msg.theirs .text").last).to_have_text(evil)
    await expect(page.locator("#ticket-title")).to_have_text("Teste <b>negrito</b>")
    assert await page.locator("#timeline img, #timeline script").count() == 0
    assert await page.evaluate("window.__xss") is None
    assert dialogs == []


async def test_socket_dropped_while_agent_sends_three_messages(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page()
    gate = {"open": True, "attempts": 0}
    routes: list[WebSocketRoute] = []

    async def route(ws: WebSocketRoute) -> None:
        gate["attempts"] += 1
        if not gate["open"]:
            await ws.close(code=1012, reason="test: server away")
            return
        ws.connect_to_server()
        routes.append(ws)

    await page.route_web_socket(re.compile(r".*/ws$"), route)
    await browser_signup(page, base, "drop@example.com")
    ticket_id = await _open_ticket(page, base, "Conexão instável")
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    conversation = await _conversation_id(page, ticket_id)

    gate["open"] = False
    at_drop = gate["attempts"]
    await routes[-1].close(code=1006, reason="test: dropped")
    await expect(page.locator("#live")).to_have_attribute("data-state", "offline")
    texts = ["Primeira mensagem", "Segunda mensagem", "Terceira mensagem"]
    for text in texts:
        await _agent(sandbox, conversation, "messages", {"content": text, "agent": "Rita"})
    # Wait until the server has them all (webhook ingested), while the page is still cut off.
    for _ in range(100):
        stored = await page.evaluate(
            "(id) => fetch('/api/conversations/' + id + '/messages').then((r) => r.json())",
            ticket_id,
        )
        if sum(m["content"] in texts for m in stored["messages"]) == 3:
            break
        await asyncio.sleep(0.05)
    # Let the page try (and fail) to reconnect at least once while the messages wait.
    for _ in range(100):
        if gate["attempts"] > at_drop:
            break
        await asyncio.sleep(0.05)
    assert gate["attempts"] > at_drop
    assert await page.locator(".msg.theirs").count() == 0
    gate["open"] = True
    for text in texts:
        await expect(page.locator(".msg.theirs .text", has_text=text)).to_have_count(1)
    ids = await page.locator("#timeline [data-id]").evaluate_all(
        "(nodes) => nodes.map((n) => Number(n.dataset.id))"
    )
    assert len(ids) == len(set(ids)) == 4
    # The server closing every socket (a deploy) is survived the same way.
    for socket in list(client.app[web_keys.SOCKETS]):
        await socket.close(code=1001)
    await _agent(
        sandbox, conversation, "messages", {"content": "Depois do deploy", "agent": "Rita"}
    )
    await expect(page.locator(".msg.theirs .text", has_text="Depois do deploy")).to_have_count(1)
    await expect(page.locator(".msg.theirs")).to_have_count(4)


async def test_chat_page_weight_and_first_render(make_web: MakeWeb, new_page: NewPage) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page()
    await browser_signup(page, base, "perf@example.com")
    ticket_id = await _open_ticket(page, base, "Medir a página")
    await page.goto(f"{base}/tickets/{ticket_id}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "online")
    figures = await page.evaluate(
        """async () => {
          // Headless Chromium may record the first contentful paint a moment after load.
          const painted = () => performance.getEntriesByName('first-contentful-paint').length;
          for (let i = 0; i < 50 && !painted(); i++) {
            await new Promise((done) => setTimeout(done, 100));
          }
          const nav = performance.getEntriesByType('navigation')[0];
          const resources = performance.getEntriesByType('resource')
            .filter((r) => /\\.(css|js|svg)/.test(r.name));
          const paint = Object.fromEntries(
            performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]));
          return {
            htmlBytes: nav.decodedBodySize,
            assetBytes: resources.reduce((sum, r) => sum + r.decodedBodySize, 0),
            assets: resources.map((r) => r.name.split('/').pop()),
            firstPaintMs: paint['first-paint'],
            firstContentfulPaintMs: paint['first-contentful-paint'],
            domContentLoadedMs: nav.domContentLoadedEventEnd,
            responseEndMs: nav.responseEnd,
          };
        }"""
    )
    client_side = await page.evaluate(
        "Promise.all(['app.css','app.js','chat.js','icon.svg'].map((n) => "
        "fetch('/static/' + n).then((r) => r.text()).then((t) => new Blob([t]).size)))"
    )
    figures["staticBytes"] = dict(
        zip(["app.css", "app.js", "chat.js", "icon.svg"], client_side, strict=True)
    )
    figures["totalBytes"] = figures["htmlBytes"] + sum(client_side)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "perf.json").write_text(json.dumps(figures, indent=2))
    assert figures["totalBytes"] < 60_000
    assert 0 < figures["firstContentfulPaintMs"] < 3000
