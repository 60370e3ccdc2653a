"""Pages people like: configured labels, the chat's one scroll region, wording (Chromium)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from sandbox import SandboxServer
from tests.web.conftest import MakeWeb, browser_signup, shot_path

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]

LABELS = {
    "pt-BR": {"options": ["Baixa", "Média", "Alta"], "medium": "Média", "it": "TI"},
    "en": {"options": ["Low", "Medium", "High"], "medium": "Medium", "it": "IT"},
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_complexity_and_sector_show_labels_and_store_values(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web(
        TICKET_COMPLEXITIES="baixa:Baixa|Low,media:Média|Medium,alta:Alta|High",
        TICKET_SECTORS="TI:TI|IT,RH:RH|HR",
    )
    base = str(client.make_url("")).rstrip("/")
    words = LABELS[locale]
    page = await new_page(locale=locale, width=1280, height=800)
    await browser_signup(page, base, f"labels.{locale.lower()}@example.com")
    await page.goto(f"{base}/tickets/new")
    await page.screenshot(path=shot_path(f"form_labels.{locale}.png"), full_page=True)
    options = await page.locator("#complexity option:not([value=''])").all_text_contents()
    assert options == words["options"]

    await page.locator("#title").fill("Notebook lento")
    await page.locator("#description").fill("Demora dez minutos para ligar.")
    await page.locator("#complexity").select_option(label=words["medium"])
    await page.locator("#sector").select_option(label=words["it"])
    await page.locator("#ticket-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    facts = page.locator(".facts")
    await expect(facts).to_contain_text(words["medium"])
    await expect(facts).to_contain_text(words["it"])
    await page.screenshot(path=shot_path(f"ticket_labels.{locale}.png"))

    stored = await page.evaluate(
        "(id) => fetch('/api/conversations/' + id).then((r) => r.json())", ticket_id
    )
    assert (stored["complexity"], stored["sector"]) == ("media", "TI")
    await page.goto(f"{base}/")
    await expect(page.locator(".ticket-row .row-meta")).to_contain_text(
        f"#{ticket_id} · {words['it']}"
    )
