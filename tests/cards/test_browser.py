"""Render every card with the real adaptivecards renderer in headless Chromium and click it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

import cards
from cards import Verb
from tests.cards import cases
from tests.cards.cases import all_cards
from tests.cards.conftest import ARTIFACTS, render

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.mark.parametrize("name", sorted(all_cards()))
async def test_card_renders_cleanly_and_is_screenshotted(
    harness: Page, built_cards: dict[str, dict[str, Any]], name: str
) -> None:
    events = await render(harness, built_cards[name])
    assert events == []
    box = harness.locator("#card")
    assert await box.locator(".ac-adaptiveCard").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    await box.screenshot(path=str(shot))
    assert shot.stat().st_size > 1000


async def test_form_submit_sends_create_verb_with_inputs(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    await render(harness, built_cards["form_empty.en"])
    await harness.get_by_label("Title").fill("VPN drops every 10 minutes")
    await harness.get_by_label("Description").fill("Since Monday, on Wi-Fi and cable.")
    await harness.locator("select").nth(0).select_option("Alta")
    await harness.locator("select").nth(1).select_option("TI")
    # The "for someone else" fields stay folded until the person opens them.
    await expect(harness.get_by_label("Their name")).to_be_hidden()
    await harness.get_by_role("button", name="Open it for someone else").click()
    await harness.get_by_text("This ticket is for someone else").click()
    await harness.get_by_label("Their name").fill("Carla Dias")
    await harness.get_by_label("Their e-mail").fill("carla@example.com")
    await harness.get_by_role("button", name="Submit ticket").click()

    executed = await harness.evaluate("window.executed")
    assert executed == [
        {"type": "Action.ToggleVisibility", "verb": None, "data": None},
        {
            "type": "Action.Execute",
            "verb": Verb.CREATE.value,
            "data": {
                "formId": "form-7f3a",
                "title": "VPN drops every 10 minutes",
                "description": "Since Monday, on Wi-Fi and cable.",
                "complexity": "Alta",
                "sector": "TI",
                "for_other": "true",
                "beneficiary_name": "Carla Dias",
                "beneficiary_email": "carla@example.com",
            },
        },
    ]


async def test_empty_form_is_stopped_by_client_validation(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    await render(harness, built_cards["form_empty.pt-BR"])
    await harness.get_by_role("button", name="Enviar chamado").click()
    assert await harness.evaluate("window.executed") == []
    assert await harness.get_by_text("O título deve ter de 3 a 120 caracteres.").is_visible()
    # The description is optional here as on the web page: no error under it.
    assert await harness.get_by_text("Descreva o problema.", exact=True).count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await harness.locator("#card").screenshot(path=str(ARTIFACTS / "form_client_errors.pt-BR.png"))


async def test_refresh_skips_the_required_reply_box(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    await render(harness, built_cards["ticket_resolved.en"])
    await harness.get_by_role("button", name="Reopen").click()
    assert await harness.evaluate("window.executed") == [
        {"type": "Action.Execute", "verb": "ticket.reopen", "data": {"ticketId": 42}}
    ]


async def test_reply_sends_text_and_ticket_id(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    await render(harness, built_cards["agent_reply.pt-BR"])
    await harness.get_by_label("Sua resposta").fill("Testei, funcionou!")
    await harness.get_by_role("button", name="Enviar").click()
    assert await harness.evaluate("window.executed") == [
        {
            "type": "Action.Execute",
            "verb": "ticket.reply",
            "data": {"ticketId": 42, "reply": "Testei, funcionou!"},
        }
    ]


async def test_agent_links_open_where_they_say_and_people_markdown_is_never_parsed(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    # Control: the harness does turn markdown links into anchors in a plain TextBlock ...
    control = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "[x](https://evil.example)"}],
    }
    await render(harness, control)
    assert await harness.locator('#card a[href="https://evil.example"]').count() == 1
    # ... the agent's "[Clique aqui](https://evil.example)" is a link whose address is shown.
    await render(harness, built_cards["ticket_open.pt-BR"])
    [link] = await harness.locator("#card a").all()
    assert await link.inner_text() == "Clique aqui"
    assert "Clique aqui (https://evil.example)" in await harness.locator("#card").inner_text()
    await link.click()
    assert [e["type"] for e in await harness.evaluate("window.executed")] == ["Action.OpenUrl"]
    # Styled agent Markdown: bold, italics, code, bullets; nothing typed shows as markup.
    await render(harness, built_cards["agent_reply_markdown.en"])
    shown = await harness.locator("#card").inner_text()
    assert "**" not in shown and "`" not in shown and "_roteador_" not in shown
    assert "• rode ipconfig /renew" in shown and "2 * 3 = 6 · <b>sem HTML</b>" in shown
    assert await harness.locator("#card b").count() == 0
    bold = harness.get_by_text("Importante:", exact=True)
    assert await bold.evaluate("e => getComputedStyle(e).fontWeight") in ("600", "700", "bold")
    italic = harness.get_by_text("roteador", exact=True)
    assert await italic.evaluate("e => getComputedStyle(e).fontStyle") == "italic"
    code = harness.get_by_text("ipconfig /renew", exact=True)
    assert "mono" in (await code.evaluate("e => getComputedStyle(e).fontFamily")).lower()
    hrefs = await harness.locator("#card a").all_inner_texts()
    assert hrefs == ["https://intranet.example/vpn", "Guia da VPN"]


async def test_which_ticket_sends_the_kept_text_to_the_chosen_ticket(
    harness: Page, built_cards: dict[str, dict[str, Any]]
) -> None:
    await render(harness, built_cards["choose_ticket.pt-BR"])
    box = harness.get_by_label("Sua mensagem")
    await expect(box).to_have_value("A impressora voltou a travar, mesmo depois da troca do fusor.")
    await box.fill("Travou de novo.")
    await harness.get_by_role("button", name="Enviar aqui").nth(1).click()
    await harness.get_by_role("button", name="Novo chamado com esta mensagem").click()
    assert await harness.evaluate("window.executed") == [
        {
            "type": "Action.Execute",
            "verb": "ticket.reply",
            "data": {"ticketId": 402, "reply": "Travou de novo."},
        },
        {"type": "Action.Execute", "verb": "ticket.new", "data": {"reply": "Travou de novo."}},
    ]


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_a_reply_shows_once_in_the_chat_after_and_twice_before(
    harness: Page, locale: str
) -> None:
    """Screenshot the chat around an agent reply: the old way (twice) and the new way (once)."""
    reply = "Troquei o fusor. Consegue testar?"
    ticket = cases.ticket_view_with_reply(reply)
    reply_card = cards.agent_reply_card(
        cards.ReplyView(ticket.id, ticket.title, ticket.messages[-1]), locale
    )
    chats = {
        # Before: the ticket's card was updated with the reply, and the reply came as a card too.
        "before": [cards.ticket_card(ticket, locale), reply_card],
        # After: the full card collapsed to its summary; the new card carries the reply.
        "after": [cards.ticket_summary_card(ticket, locale), reply_card],
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, chat in chats.items():
        await harness.evaluate("document.getElementById('chat')?.remove()")
        for card in chat:
            assert await render(harness, card) == []
            await harness.evaluate(
                """() => {
                  let chat = document.getElementById('chat');
                  if (!chat) {
                    chat = document.createElement('div');
                    chat.id = 'chat';
                    chat.style.cssText = 'display:flex;flex-direction:column;gap:12px;width:560px';
                    document.body.appendChild(chat);
                  }
                  const bubble = document.getElementById('card').cloneNode(true);
                  bubble.removeAttribute('id');
                  chat.appendChild(bubble);
                }"""
            )
        await harness.evaluate("document.getElementById('card').replaceChildren()")
        shown = await harness.locator("#chat").inner_text()
        assert shown.count(reply) == (2 if name == "before" else 1)
        await harness.locator("#chat").screenshot(path=str(ARTIFACTS / f"chat_{name}.{locale}.png"))
    await harness.evaluate("document.getElementById('chat')?.remove()")
