"""Pages people like: configured labels, the chat's one scroll region, wording (Chromium)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Page, expect

from sandbox import SandboxServer
from tests.web.conftest import (
    PASSWORD,
    MakeWeb,
    accessibility_problems,
    browser_signup,
    shot_path,
)

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


async def _agent_says(sandbox: SandboxServer, conversation: int, content: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/messages",
            json={"content": content, "agent": "Rita"},
        )
        answer.raise_for_status()


async def _open(page: Page, base: str, title: str) -> tuple[int, int]:
    await page.goto(f"{base}/tickets/new")
    await page.locator("#title").fill(title)
    await page.locator("#description").fill("Desde segunda, no Wi-Fi e no cabo.")
    await page.locator("#complexity").select_option("alta")
    await page.locator("#sector").select_option("TI")
    await page.locator("#ticket-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    answer = await page.evaluate(
        "(id) => fetch('/api/conversations/' + id).then((r) => r.json())", ticket_id
    )
    return ticket_id, int(answer["chatwootConversationId"])


# The newest bubble lies inside the timeline's visible box; the composer inside the window.
NEWEST_IN_VIEW = """() => {
  const list = document.getElementById('timeline').getBoundingClientRect();
  const last = [...document.querySelectorAll('#timeline > li')].pop().getBoundingClientRect();
  return last.bottom <= list.bottom + 1 && last.top >= list.top - 1;
}"""
COMPOSER_IN_VIEW = """() => {
  const box = document.getElementById('composer').getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}"""
PAGE_SCROLLS = "() => document.scrollingElement.scrollHeight > window.innerHeight + 1"


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_chat_one_scroll_region_composer_in_view_and_new_messages_pill(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale, width=1280, height=800)
    await browser_signup(page, base, f"chat.{locale.lower()}@example.com")
    title = "Impressora do segundo andar não imprime frente e verso desde a atualização"
    ticket_id, conversation = await _open(page, base, title)
    for n in range(1, 19):
        await _agent_says(sandbox, conversation, f"Mensagem {n} do suporte.\nSegunda linha.")
    await expect(page.locator(".msg.theirs")).to_have_count(18)
    await page.reload()
    await expect(page.locator(".msg.theirs")).to_have_count(18)
    await page.screenshot(path=shot_path(f"chat_desktop.{locale}.png"))
    assert await page.evaluate(PAGE_SCROLLS) is False
    assert await page.evaluate(COMPOSER_IN_VIEW) is True
    assert await page.evaluate(NEWEST_IN_VIEW) is True

    # Reading older messages: an arrival does not pull the reader down, a pill offers it.
    await page.locator("#timeline").evaluate("(list) => { list.scrollTop = 0; }")
    await _agent_says(sandbox, conversation, "Mensagem nova enquanto você lia.")
    pill = page.locator("#new-messages")
    await expect(pill).to_be_visible()
    await expect(page.locator(".msg.theirs")).to_have_count(19)
    assert await page.evaluate(NEWEST_IN_VIEW) is False
    await page.screenshot(path=shot_path(f"chat_pill.{locale}.png"))
    await pill.click()
    await expect(pill).to_be_hidden()
    assert await page.evaluate(NEWEST_IN_VIEW) is True
    # At the bottom, the next arrival scrolls into view by itself.
    await _agent_says(sandbox, conversation, "E mais uma.")
    await expect(page.locator(".msg.theirs")).to_have_count(20)
    await expect(pill).to_be_hidden()
    assert await page.evaluate(NEWEST_IN_VIEW) is True

    phone = await new_page(locale=locale, width=375, height=800, touch=True)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{base}/tickets/{ticket_id}")
    await expect(phone.locator(".msg.theirs")).to_have_count(20)
    await phone.screenshot(path=shot_path(f"chat_mobile.{locale}.png"))
    nav = await phone.locator(".top").bounding_box()
    assert nav is not None and nav["height"] < 60, nav
    last = await phone.locator(".nav > li").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= 375, last
    assert await phone.evaluate(PAGE_SCROLLS) is False
    assert await phone.evaluate(COMPOSER_IN_VIEW) is True
    assert await phone.evaluate(NEWEST_IN_VIEW) is True
    await expect(phone.locator(".hint-keys")).to_be_hidden()
    await expect(phone.locator(".hint-touch")).to_be_visible()
    assert "Shift" not in await phone.locator("#composer-hint").inner_text()
    # On a phone Enter adds a line; the Send button sends.
    await phone.locator("#content").fill("Primeira linha")
    await phone.locator("#content").press("Enter")
    await expect(phone.locator("#content")).to_have_value("Primeira linha\n")
    await phone.locator("#composer button[type=submit]").tap()
    await expect(phone.locator(".msg.mine .text", has_text="Primeira linha")).to_have_count(1)


async def test_links_in_messages_are_clickable_and_safe(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(width=1280, height=800)
    await browser_signup(page, base, "links@example.com")
    ticket_id, conversation = await _open(page, base, "Link do manual")
    text = (
        "Manual: https://wiki.example.com/vpn?a=1&b=2. Não clique em javascript:alert(1) "
        'nem em <a href="javascript:alert(2)">isto</a>.'
    )
    await _agent_says(sandbox, conversation, text)
    for reload in (False, True):
        if reload:
            await page.goto(f"{base}/tickets/{ticket_id}")
        bubble = page.locator(".msg.theirs .text").last
        await expect(bubble).to_have_text(text)
        links = bubble.locator("a")
        await expect(links).to_have_count(1)
        await expect(links).to_have_attribute("href", "https://wiki.example.com/vpn?a=1&b=2")
        await expect(links).to_have_attribute("rel", re.compile(r"\bnoopener\b.*\bnoreferrer\b"))
        await expect(links).to_have_attribute("target", "_blank")
    await page.screenshot(path=shot_path("chat_links.pt-BR.png"))


WORDING = {
    "pt-BR": {"one": "1 chamado", "none": "Nenhum chamado neste filtro.", "404": "Não encontramos"},
    "en": {"one": "1 ticket", "none": "No tickets match this filter.", "404": "We could not find"},
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_wording_plural_filter_empty_login_and_404(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    words = WORDING[locale]
    page = await new_page(locale=locale, width=1280, height=800)
    await page.goto(f"{base}/login")
    # No Microsoft button configured: the page does not offer a Microsoft account.
    await expect(page.locator("main")).not_to_contain_text("Microsoft")
    await page.screenshot(path=shot_path(f"login.{locale}.png"))
    await browser_signup(page, base, f"words.{locale.lower()}@example.com")
    await expect(page.locator("#first-empty")).to_be_visible()
    await _open(page, base, "Cadeira quebrada")
    await expect(page.locator(".ticket-no")).to_have_text(re.compile(r"(nº |#)1$"))
    await page.goto(f"{base}/")
    await expect(page.locator(".count")).to_have_text(words["one"])
    await page.goto(f"{base}/?status=resolved")
    await expect(page.locator("#filter-empty")).to_contain_text(words["none"])
    await expect(page.locator("#first-empty")).to_have_count(0)
    await page.screenshot(path=shot_path(f"list_filter_empty.{locale}.png"))
    await page.goto(f"{base}/no/such/page")
    await expect(page.locator("h1")).to_have_count(1)
    await expect(page.locator("h1")).to_contain_text(words["404"])
    await expect(page.locator("main p:not(.err-code)")).to_have_count(0)
    await page.screenshot(path=shot_path(f"404.{locale}.png"))


async def test_login_mentions_microsoft_when_it_is_configured(make_web: MakeWeb) -> None:
    client = await make_web(
        MICROSOFT_CLIENT_ID="client-id",
        MICROSOFT_CLIENT_SECRET="s" * 40,
        MICROSOFT_TENANT_ID="11111111-2222-3333-4444-555555555555",
    )
    page = await client.get("/login", headers={"Accept-Language": "en"})
    html = await page.text()
    assert "Sign in with Microsoft" in html
    assert "or your Microsoft account" in html


PUBLIC_PAGES = ("/login", "/signup", "/password/forgot", "/privacy", "/terms", "/no/such/page")


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_every_page_passes_axe_without_serious_violations(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    problems: list[str] = []
    checked: list[str] = []

    async def check(page: Page) -> None:
        checked.append(page.url)
        problems.extend(await accessibility_problems(page))

    page = await new_page(locale=locale, width=1280, height=800)
    for path in PUBLIC_PAGES:
        await page.goto(f"{base}{path}")
        await check(page)
    await browser_signup(page, base, f"axe.{locale.lower()}@example.com")
    await check(page)  # the first-time empty list
    await page.goto(f"{base}/tickets/new")
    await page.locator("#title").fill("ab")
    await page.locator("#ticket-form button[type=submit]").click()
    await expect(page.locator("#title-error")).to_be_visible()
    await check(page)  # the form showing its errors
    ticket_id, conversation = await _open(page, base, "Monitor piscando")
    await _agent_says(sandbox, conversation, "Veja https://wiki.example.com/monitor.")
    await expect(page.locator(".msg.theirs")).to_have_count(1)
    await check(page)
    for path in ("/", "/?status=resolved", "/profile", "/tickets/999999"):
        await page.goto(f"{base}{path}")
        await check(page)
    phone = await new_page(locale=locale, width=375, height=800, touch=True)
    await phone.context.add_cookies(await page.context.cookies())
    await phone.goto(f"{base}/tickets/{ticket_id}")
    await check(phone)
    assert len(checked) == 14
    assert problems == []


async def test_the_accessibility_check_catches_a_broken_page(new_page: NewPage) -> None:
    page = await new_page()
    await page.set_content(
        '<html lang="en"><head><title>x</title></head><body><main>'
        '<img src="data:,"><button></button></main></body></html>'
    )
    found = " ".join(await accessibility_problems(page))
    assert "image-alt (critical)" in found
    assert "button-name (critical)" in found


FOCUS_SHOWN = """(selector) => {
  const node = document.activeElement;
  if (!node || !node.matches(selector)) return null;
  const style = getComputedStyle(node);
  return style.boxShadow !== 'none' || style.outlineStyle !== 'none';
}"""


async def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus, and check the focus can be seen there."""
    for _ in range(40):
        await page.keyboard.press("Tab")
        shown = await page.evaluate(FOCUS_SHOWN, selector)
        if shown is not None:
            assert shown, f"focus on {selector} is not visible"
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_keyboard_only_sign_up_ticket_and_reply(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale="en", width=1280, height=800)
    keys = page.keyboard
    await page.goto(f"{base}/signup")
    for selector, value in (
        ("#name", "Kim Keys"),
        ("#email", "keys@example.com"),
        ("#password", PASSWORD),
    ):
        await _tab_to(page, selector)
        await keys.type(value)
    await keys.press("Enter")
    await page.wait_for_url(f"{base}/signup/sent")
    await page.goto(f"{base}/login")
    await _tab_to(page, "#email")
    await keys.type("keys@example.com")
    await _tab_to(page, "#password")
    await keys.type(PASSWORD)
    await keys.press("Enter")
    await page.wait_for_url(f"{base}/")
    await _tab_to(page, "a.nav-new")
    await keys.press("Enter")
    await page.wait_for_url(f"{base}/tickets/new")
    await _tab_to(page, "#title")
    await keys.type("Keyboard only")
    await _tab_to(page, "#description")
    await keys.type("No mouse today.")
    await _tab_to(page, "#complexity")
    await keys.type("High")
    await _tab_to(page, "#sector")
    await keys.type("IT")
    await expect(page.locator("#complexity")).to_have_value("alta")
    await expect(page.locator("#sector")).to_have_value("TI")
    await _tab_to(page, "#ticket-form button[type=submit]")
    await keys.press("Enter")
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    await _tab_to(page, "#content")
    await keys.type("Sent with the keyboard.")
    await keys.press("Enter")
    await expect(page.locator(".msg.mine .text", has_text="Sent with the keyboard.")).to_have_count(
        1
    )
    await page.screenshot(path=shot_path("keyboard_reply.en.png"))
