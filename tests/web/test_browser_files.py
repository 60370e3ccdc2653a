"""Agent files in Chromium: a live image thumbnail and a PDF row, under the page's strict CSP."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from sandbox import SandboxServer
from tests.web.conftest import MakeWeb, browser_signup, shot_path
from tests.web.files import PDF, agent_files, png
from tests.web.test_browser import NewPage, _conversation_id, _open_ticket

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
WORDS = {
    "pt-BR": {"download": "Baixar relatório.pdf", "size": "1,2 KB"},
    "en": {"download": "Download relatório.pdf", "size": "1.2 KB"},
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_agent_image_and_pdf_show_live_and_after_reload(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await browser_signup(page, base, f"ana.files.{locale.lower()}@example.com")
    ticket_id = await _open_ticket(page, base, "Erro na tela de login")
    conversation = await _conversation_id(page, ticket_id)
    image = png(160, 90)
    document = PDF + b"%" * (1230 - len(PDF))
    await agent_files(
        sandbox,
        conversation,
        "Veja a captura e o relatório.",
        [("captura.png", image, "image/png"), ("relatório.pdf", document, "application/pdf")],
    )
    await agent_files(sandbox, conversation, "", [("só-imagem.png", png(40, 40), "image/png")])

    for phase in ("live", "reload"):
        if phase == "reload":
            await page.reload()
        bubbles = page.locator(".msg.theirs .bubble")
        await expect(bubbles).to_have_count(2)
        thumb = bubbles.nth(0).locator(".file-image img")
        await expect(thumb).to_have_attribute("alt", "captura.png")
        await expect(thumb).to_have_js_property("complete", True)
        assert await thumb.evaluate("(img) => img.naturalWidth") == 160
        link = bubbles.nth(0).locator(".file-image a")
        assert (await link.get_attribute("href") or "").startswith(f"/tickets/{ticket_id}/")
        row = bubbles.nth(0).locator(".file-row a")
        await expect(row).to_have_attribute("title", WORDS[locale]["download"])
        await expect(row.locator(".file-name")).to_have_text("relatório.pdf")
        await expect(row.locator(".file-size")).to_have_text(WORDS[locale]["size"])
        await expect(row.locator(".file-icon")).to_have_text("PDF")
        # The attachment-only message is a message with its image, not an empty bubble.
        only = bubbles.nth(1)
        await expect(only.locator(".text")).to_have_count(0)
        await expect(only.locator(".file-image img")).to_have_attribute("alt", "só-imagem.png")
        await page.screenshot(path=shot_path(f"files_{phase}.{locale}.png"), full_page=True)

    fetched = await page.evaluate(
        "(url) => fetch(url).then(async (r) => [r.status, (await r.arrayBuffer()).byteLength])",
        await row.get_attribute("href"),
    )
    assert fetched == [200, len(document)]
    assert refused == []
