"""Employee files in Chromium: the file input and a pasted screenshot reach Chatwoot whole."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from sandbox import SandboxServer
from tests.web.conftest import MakeWeb, browser_signup, shot_path
from tests.web.files import PDF, png
from tests.web.test_browser import NewPage, _conversation_id, _open_ticket

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
WORDS = {
    "pt-BR": {
        "attach": "Anexar arquivos",
        "remove": "Remover relatório.pdf",
        "pasted": "captura-de-tela-",
        "refused": "setup.exe: tipo de arquivo não aceito.",
        "failed": "Não enviada: o suporte não respondeu.",
        "retry": "Tentar de novo",
    },
    "en": {
        "attach": "Attach files",
        "remove": "Remove relatório.pdf",
        "pasted": "screenshot-",
        "refused": "setup.exe: this type of file is not accepted.",
        "failed": "Not sent: the helpdesk did not answer.",
        "retry": "Try again",
    },
}
PASTE = """(b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "image.png", { type: "image/png" }));
  const init = { clipboardData: data, bubbles: true, cancelable: true };
  const event = new ClipboardEvent("paste", init);
  document.getElementById("content").dispatchEvent(event);
}"""


async def _sent(sandbox: SandboxServer, conversation: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(follow_redirects=True) as http:
        record = (await http.get(f"{sandbox.url}/sandbox/api/conversations/{conversation}")).json()
        messages = [m for m in record["messages"] if m["message_type"] == "incoming"]
        for message in messages:
            message["bytes"] = [
                (await http.get(a["data_url"])).content for a in message.get("attachments", [])
            ]
        return messages


async def _faults(sandbox: SandboxServer, switches: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{sandbox.url}/sandbox/api/faults", json=switches)).raise_for_status()


async def _mine(page: Page, count: int) -> Any:
    bubbles = page.locator(".msg.mine .bubble")
    await expect(bubbles).to_have_count(count)
    return bubbles.nth(count - 1)


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_file_input_and_paste_send_the_same_bytes(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await browser_signup(page, base, f"ana.up.{locale.lower()}@example.com")
    ticket_id = await _open_ticket(page, base, "Erro ao exportar")
    conversation = await _conversation_id(page, ticket_id)
    words = WORDS[locale]

    # By the file input: two files chosen, one removed, text and the image sent together.
    image = png(160, 90)
    await expect(page.get_by_role("button", name=words["attach"])).to_be_visible()
    await page.locator("input[type=file][name=attachments]").set_input_files(
        [
            {"name": "tela.png", "mimeType": "image/png", "buffer": image},
            {"name": "relatório.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ]
    )
    chips = page.locator("#composer-chosen .chip")
    await expect(chips).to_have_count(2)
    await expect(chips.nth(0).locator("img")).to_have_js_property("complete", True)
    await page.locator("#content").fill("Segue a tela do erro")
    await page.screenshot(path=shot_path(f"uploads_chosen.{locale}.png"), full_page=True)
    await page.get_by_role("button", name=words["remove"]).click()
    await expect(chips).to_have_count(1)
    await page.locator("#composer button[type=submit]").click()
    bubble = await _mine(page, 2)
    await expect(bubble.locator(".text")).to_have_text("Segue a tela do erro")
    thumb = bubble.locator(".file-image img")
    await expect(thumb).to_have_attribute("alt", "tela.png")
    await expect(thumb).to_have_js_property("complete", True)
    assert await thumb.evaluate("(img) => img.naturalWidth") == 160
    await expect(chips).to_have_count(0)
    await expect(page.locator("#content")).to_have_value("")

    # By paste: a screenshot alone, named for people, sent without text.
    shot = png(64, 48)
    await page.locator("#content").focus()
    await page.evaluate(PASTE, base64.b64encode(shot).decode())
    await expect(chips).to_have_count(1)
    await expect(chips.nth(0).locator(".chip-name")).to_contain_text(words["pasted"])
    await page.keyboard.press("Enter")
    pasted = await _mine(page, 3)
    await expect(pasted.locator(".text")).to_have_count(0)
    await expect(pasted.locator(".file-image img")).to_have_js_property("complete", True)

    sent = await _sent(sandbox, conversation)
    assert [m["bytes"] for m in sent[-2:]] == [[image], [shot]]
    assert sent[-2]["content"] == "Segue a tela do erro"
    await page.screenshot(path=shot_path(f"uploads_sent.{locale}.png"), full_page=True)
    assert refused == []


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_refusals_and_a_failed_send_keep_the_message(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    await browser_signup(page, base, f"ana.fail.{locale.lower()}@example.com")
    ticket_id = await _open_ticket(page, base, "Arquivo recusado")
    conversation = await _conversation_id(page, ticket_id)
    words = WORDS[locale]
    files = page.locator("input[type=file][name=attachments]")
    error = page.locator("#composer-error")

    await files.set_input_files(
        [{"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}]
    )
    await expect(error).to_contain_text(words["refused"])
    await expect(page.locator("#composer-chosen .chip")).to_have_count(0)

    await files.set_input_files([{"name": "log.txt", "mimeType": "text/plain", "buffer": b"ok"}])
    await page.locator("#content").fill("Não perca isto")
    await _faults(sandbox, {"http_status": 503})
    await page.locator("#composer button[type=submit]").click()
    await expect(error).to_contain_text(words["failed"])
    await _faults(sandbox, {})
    await expect(page.locator("#content")).to_have_value("Não perca isto")
    await expect(page.locator("#composer-chosen .chip")).to_have_count(1)
    await page.screenshot(path=shot_path(f"uploads_failed.{locale}.png"), full_page=True)
    await page.get_by_role("button", name=words["retry"]).click()
    bubble = await _mine(page, 2)
    await expect(bubble.locator(".text")).to_have_text("Não perca isto")
    await expect(bubble.locator(".file-row .file-name")).to_have_text("log.txt")
    sent = await _sent(sandbox, conversation)
    assert [m["content"] for m in sent].count("Não perca isto") == 1
    assert sent[-1]["bytes"] == [b"ok"]


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_the_new_ticket_form_takes_files(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale)
    await browser_signup(page, base, f"ana.form.{locale.lower()}@example.com")
    await page.goto(f"{base}/tickets/new")
    await page.locator("#title").fill("Tela azul ao ligar")
    await page.locator("#complexity").select_option("alta")
    await page.locator("#sector").select_option("TI")
    image = png(120, 80)
    await page.locator("#attachments").set_input_files(
        [{"name": "tela-azul.png", "mimeType": "image/png", "buffer": image}]
    )
    await page.screenshot(path=shot_path(f"uploads_new_ticket.{locale}.png"), full_page=True)
    await page.locator("#ticket-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    first = await _mine(page, 1)
    thumb = first.locator(".file-image img")
    await expect(thumb).to_have_attribute("alt", "tela-azul.png")
    await expect(thumb).to_have_js_property("complete", True)
    assert await thumb.evaluate("(img) => img.naturalWidth") == 120
    conversation = await _conversation_id(page, int(page.url.rsplit("/", 1)[1]))
    assert (await _sent(sandbox, conversation))[0]["bytes"] == [image]
