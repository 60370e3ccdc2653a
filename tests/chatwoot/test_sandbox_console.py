"""The agent console in Chromium: escaping, line breaks, files, questions, live updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page, async_playwright, expect

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.chatwoot.sandbox_support import Api, png_bytes

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "sandbox"


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless and offline."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_console(browser: Browser, api: Api, width: int, query: str = "") -> Page:
    """Open the console in a fresh context of the given width."""
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(f"{api.sb.url}/sandbox/{query}")
    return page


async def seed(api: Api) -> int:
    """Create a conversation whose texts would break an unescaped page."""
    await api.contact("teams-jane", "<b>Jane</b>")
    cid = int((await api.conversation(title="<script>alert(1)</script>"))["id"])
    await api.message(cid, "a & b <i>x</i>\nsegunda linha")
    return cid


async def test_console_escapes_keeps_breaks_and_acts(chromium: Browser, api: Api) -> None:
    cid = await seed(api)
    page = await open_console(chromium, api, 1280)
    card = page.locator(f"#conv-{cid}")
    await expect(card.locator("h2")).to_have_text(f"#{cid} <script>alert(1)</script>")
    incoming = card.locator(".msgs li.incoming .text")
    await expect(incoming).to_have_text("a & b <i>x</i>\nsegunda linha")
    assert await card.locator(".msgs i").count() == 0
    assert await incoming.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    await page.evaluate("window.notReloaded = true")

    composer = card.locator("textarea[name=content]")
    await composer.fill("Linha 1\nLinha 2")
    await card.get_by_role("button", name="Responder").click()
    # Stored as the dashboard stores it, shown as the dashboard shows it.
    await expect(card.locator(".msgs li.outgoing .text")).to_have_text("Linha 1\nLinha 2")
    assert api.sb.state.conversations[cid].messages[-1].content == "Linha 1\\\nLinha 2"
    await expect(composer).to_have_value("")
    await card.locator("input[type=file]").set_input_files(
        files=[{"name": "tela.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    await card.get_by_role("button", name="Responder").click()
    await expect(card.locator(".msgs li.outgoing .files img")).to_have_count(1)
    sent = api.sb.state.conversations[cid].messages[-1]
    assert sent.content is None and len(sent.attachments) == 1

    await card.locator("summary").first.click()
    await card.locator("textarea[name=question]").fill("Qual sistema?")
    await card.locator("textarea[name=options]").fill("Windows\nmacOS")
    await card.get_by_role("button", name="Enviar pergunta").click()
    await expect(card.locator(".options span")).to_have_text(["Windows", "macOS"])
    question = api.sb.state.conversations[cid].messages[-1]
    assert question.content_type == "input_select" and question.sender is None

    status, _ = await api.control(
        "POST", f"/conversations/{cid}/messages", {"content": "Chegou pela API", "agent": "Sam"}
    )
    assert status == 200
    await expect(card.locator(".msgs li").last).to_contain_text("Chegou pela API")
    assert await page.evaluate("window.notReloaded") is True

    async def answer(dialog: Dialog) -> None:
        await dialog.accept("Texto corrigido" if dialog.type == "prompt" else None)

    page.on("dialog", answer)
    last = card.locator(".msgs li").last
    await last.get_by_role("button", name="Editar").click()
    await expect(last.locator(".text")).to_have_text("Texto corrigido")
    await last.get_by_role("button", name="Apagar").click()
    await expect(card.locator(".msgs li").last.locator(".text")).to_have_text(
        "This message was deleted"
    )
    assert api.sb.state.conversations[cid].messages[-1].content_attributes == {"deleted": True}

    labels_panel = card.locator("details").nth(1)
    await labels_panel.locator("summary").click()
    await labels_panel.locator("input[name=labels]").fill("hardware, urgente")
    await labels_panel.get_by_role("button", name="Trocar etiquetas").click()
    await labels_panel.locator("select[name=priority]").select_option("high")
    await expect(card.locator(".head")).to_contain_text("Prioridade: alta")
    await expect(card.locator(".head")).to_contain_text("Etiquetas: hardware, urgente")
    conv = api.sb.state.conversations[cid]
    assert (conv.labels, conv.priority) == (["hardware", "urgente"], "high")

    inbox = page.locator("#inbox")
    await inbox.locator("summary").click()
    await inbox.locator("input[name=greeting_message]").fill("Olá! Já vamos atender.")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await inbox.locator("input[name=greeting_message]").press("Tab")
    async with page.expect_response(lambda r: r.request.method == "PATCH"):
        await inbox.get_by_label("Saudação", exact=True).check()
    assert api.sb.state.settings.greeting_enabled is True
    assert api.sb.state.settings.greeting_message == "Olá! Já vamos atender."
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "console-1280.png"), full_page=True)


async def test_console_at_375_px_and_in_english(chromium: Browser, api: Api) -> None:
    cid = await seed(api)
    await api.control("POST", f"/conversations/{cid}/messages", {"content": "x" * 300})
    page = await open_console(chromium, api, 375, "?lang=en")
    card = page.locator(f"#conv-{cid}")
    await expect(page.locator("h1")).to_have_text("Chatwoot sandbox — agent console")
    await expect(card.get_by_role("button", name="Reply")).to_be_visible()
    await expect(card.locator(".badge")).to_have_text("open")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    box = await card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "console-375-en.png"), full_page=True)
    await page.select_option("#lang", "pt-BR")
    await expect(card.get_by_role("button", name="Responder")).to_be_visible()
    await expect(card.locator(".badge")).to_have_text("aberta")
    await page.screenshot(path=str(ARTIFACTS / "console-375-pt.png"), full_page=True)


async def test_console_and_mailbox_speak_pt_br_first_then_english(
    chromium: Browser, api: Api
) -> None:
    async with api.http.get(f"{api.sb.url}/sandbox/") as response:
        shell = await response.text()
    # The first paint is already in the language, before the script runs.
    assert '<html lang="pt-BR">' in shell
    assert "<h1>Sandbox do Chatwoot — console do agente</h1>" in shell
    assert 'href="/sandbox/mail?lang=pt-BR">Caixa de e-mail</a>' in shell
    async with api.http.get(f"{api.sb.url}/sandbox/?lang=en") as response:
        assert "<h1>Chatwoot sandbox — agent console</h1>" in await response.text()

    page = await open_console(chromium, api, 1280)
    link = page.locator("#mail-link")
    await expect(link).to_have_text("Caixa de e-mail")
    await page.select_option("#lang", "en")
    await expect(link).to_have_text("Mailbox")
    await expect(link).to_have_attribute("href", "/sandbox/mail?lang=en")
    await link.click()
    await expect(page.locator("h1")).to_have_text("Sandbox — mailbox")
    await expect(page.locator("main")).to_have_text("No mail yet.")
    await page.get_by_role("link", name="Agent console").click()
    await expect(page.locator("h1")).to_have_text("Chatwoot sandbox — agent console")
    await page.goto(f"{api.sb.url}/sandbox/mail")
    await expect(page.locator("h1")).to_have_text("Sandbox — caixa de e-mail")
    await expect(page.locator("main")).to_have_text("Nenhum e-mail ainda.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "mailbox-empty-pt.png"))


async def test_console_relays_agent_typing_and_shows_the_contacts(
    chromium: Browser, api: Api
) -> None:
    cid = await seed(api)
    page = await open_console(chromium, api, 1280)
    card = page.locator(f"#conv-{cid}")
    composer = card.locator("textarea[name=content]")

    def typing(status: str) -> object:
        return lambda r: r.url.endswith("/typing") and f'"status":"{status}"' in (r.post_data or "")

    # As the dashboard does: "on" at the first key, "off" after a pause.
    async with page.expect_request(typing("on")):
        await composer.press_sequentially("Já vou")
    async with page.expect_request(typing("off")):
        await composer.press_sequentially("!")
    base = f"/contacts/teams-jane/conversations/{cid}"
    status, _ = await api.call("POST", f"{base}/toggle_typing", json={"typing_status": "on"})
    assert status == 200
    await expect(card.locator(".head .typing")).to_have_text("o contato está digitando…")
    status, _ = await api.call("POST", f"{base}/update_last_seen")
    assert status == 200
    await expect(card.locator(".head")).to_contain_text("visto pelo contato:")
    conv = api.sb.state.conversations[cid]
    assert [entry["status"] for entry in conv.contact_typing_log] == ["on"]
    assert conv.contact_seen_calls == 1
