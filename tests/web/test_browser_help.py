"""Help before a ticket in Debian's Chromium: suggestions while typing, "solved", "open anyway"."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import ConsoleMessage, Page, Route, expect

from sandbox import SandboxServer
from sandbox.portal import DEFAULT_PORTAL_SLUG
from tests.web.conftest import MakeWeb, browser_signup, shot_path

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]
ON = {"CHATWOOT_PORTAL_SLUG": DEFAULT_PORTAL_SLUG}
ARTICLES = re.compile(r".*/api/help/articles\?.*")

TEXT = {
    "pt-BR": {
        "vpn": "Como conectar à VPN da empresa",
        "printer": "Impressora não imprime: o que verificar",
        "printer_query": "impressora",
        "open": "Abrir artigo",
        "solved": "Isso resolveu",
        "anyway": "Abrir o chamado mesmo assim",
        "done": "Que bom que resolveu!",
    },
    "en": {
        "vpn": "How to connect to the company VPN",
        "printer": "Printer not printing: what to check",
        "printer_query": "printer",
        "open": "Open article",
        "solved": "That solved it",
        "anyway": "Open the ticket anyway",
        "done": "Glad that solved it!",
    },
}


async def _conversations(sandbox: SandboxServer) -> list[Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/sandbox/api/conversations")
        records: list[Any] = answer.json()
        return records


def _watch(page: Page) -> tuple[list[str], list[str]]:
    """Record the suggestion queries the page sends and any CSP complaint in its console."""
    queries: list[str] = []
    complaints: list[str] = []
    page.on(
        "request",
        lambda request: queries.append(request.url) if ARTICLES.match(request.url) else None,
    )

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused" in message.text:
            complaints.append(message.text)

    page.on("console", console)
    return queries, complaints


async def _start(make_web: MakeWeb, new_page: NewPage, locale: str, email: str) -> Page:
    client = await make_web(**ON)
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    await browser_signup(page, base, email)
    await page.goto(f"{base}/tickets/new")
    return page


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_typing_vpn_suggests_the_article_and_solved_opens_no_ticket(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    words = TEXT[locale]
    page = await _start(make_web, new_page, locale, f"vpn.{locale.lower()}@example.com")
    queries, complaints = _watch(page)
    suggestions = page.locator("#help-suggestions")
    await page.locator("#title").press_sequentially("vp", delay=40)
    await expect(suggestions).to_be_hidden()
    await page.locator("#title").press_sequentially("n", delay=40)
    first = page.locator("#help-list .suggestion").first
    await expect(first.locator(".suggestion-title")).to_have_text(words["vpn"])
    await expect(suggestions).to_be_visible()
    assert 1 <= await page.locator("#help-list .suggestion").count() <= 3
    # Nothing was asked while the title had fewer than three characters.
    assert len(queries) == 1 and "query=vpn" in queries[0]
    link = first.locator("a", has_text=words["open"])
    await expect(link).to_have_attribute("aria-label", re.compile(re.escape(words["vpn"])))
    assert await link.get_attribute("target") == "_blank"
    assert await link.get_attribute("rel") == "noopener noreferrer"
    href = await link.get_attribute("href") or ""
    assert href.startswith(f"{sandbox.url}/hc/{DEFAULT_PORTAL_SLUG}/articles/")
    await page.screenshot(path=shot_path(f"help_suggestions.{locale}.png"), full_page=True)
    await page.set_viewport_size({"width": 360, "height": 740})
    overflow = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    await page.screenshot(path=shot_path(f"help_suggestions_phone.{locale}.png"), full_page=True)

    await first.get_by_role("button", name=words["solved"]).click()
    await expect(page.locator("#help-done")).to_be_visible()
    await expect(page.locator("#help-done h2")).to_have_text(words["done"])
    await expect(page.locator("#ticket-form")).to_be_hidden()
    await page.screenshot(path=shot_path(f"help_solved.{locale}.png"), full_page=True)
    listing = await page.evaluate("() => fetch('/api/conversations').then((r) => r.json())")
    assert listing["total"] == 0
    assert await _conversations(sandbox) == []
    assert complaints == []


async def test_typing_on_debounces_and_drops_the_stale_answer(
    make_web: MakeWeb, new_page: NewPage
) -> None:
    words = TEXT["pt-BR"]
    page = await _start(make_web, new_page, "pt-BR", "typist@example.com")
    queries, _ = _watch(page)
    held: list[Route] = []
    failed: list[str] = []
    release = asyncio.Event()
    page.on("requestfailed", lambda request: failed.append(request.url))

    async def slow_printer(route: Route) -> None:
        if "impressora" in route.request.url:
            held.append(route)
            await release.wait()
        try:
            await route.continue_()
        except Exception:  # the page gave up on it already
            return

    await page.route(ARTICLES, slow_printer)
    title = page.locator("#title")
    await title.press_sequentially(words["printer_query"], delay=30)
    # Ten keystrokes, one question once the typing paused.
    for _ in range(100):
        if held:
            break
        await asyncio.sleep(0.05)
    assert len(queries) == 1
    await title.fill("")
    await title.press_sequentially("vpn", delay=30)
    await expect(page.locator("#help-list .suggestion-title").first).to_have_text(words["vpn"])
    # Typing went on, so the page itself cancelled the printer question still in flight.
    for _ in range(100):
        if any("impressora" in url for url in failed):
            break
        await asyncio.sleep(0.05)
    assert any("impressora" in url for url in failed)
    release.set()
    titles = await page.locator("#help-list .suggestion-title").all_inner_texts()
    assert words["printer"] not in titles and titles[0] == words["vpn"]


async def test_open_anyway_is_one_click_and_opens_exactly_one_ticket(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    words = TEXT["pt-BR"]
    page = await _start(make_web, new_page, "pt-BR", "anyway@example.com")
    await page.locator("#title").press_sequentially("VPN cai toda hora", delay=20)
    await page.locator("#description").fill("Desde ontem, a cada 10 minutos.")
    await page.locator("#complexity").select_option("media")
    await page.locator("#sector").select_option("TI")
    await expect(page.locator("#help-list .suggestion-title").first).to_have_text(words["vpn"])
    await page.get_by_role("button", name=words["anyway"]).click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    await expect(page.locator("#ticket-title")).to_have_text("VPN cai toda hora")
    [record] = await _conversations(sandbox)
    assert record["custom_attributes"]["title"] == "VPN cai toda hora"


async def test_help_center_down_leaves_the_form_as_without_the_feature(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox.url}/sandbox/api/portal/faults", json={"http_status": 500})
    page = await _start(make_web, new_page, "pt-BR", "down@example.com")
    async with page.expect_response(ARTICLES) as answered:
        await page.locator("#title").press_sequentially("VPN cai toda hora", delay=20)
    response = await answered.value
    assert response.status == 200 and (await response.json()) == {"articles": []}
    await expect(page.locator("#help-suggestions")).to_be_hidden()
    await page.locator("#description").fill("Desde ontem.")
    await page.locator("#complexity").select_option("baixa")
    await page.locator("#sector").select_option("TI")
    await page.locator("#ticket-form .actions button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    assert len(await _conversations(sandbox)) == 1
