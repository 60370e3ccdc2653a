"""Chromium: the survey, a bot question with options and "Problema resolvido" on the chat page."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from sandbox import SandboxServer
from tests.web.conftest import MakeWeb, accessibility_problems, browser_signup, shot_path

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]

WORDS = {
    "pt-BR": {
        "resolve": "Problema resolvido",
        "resolved_by": "Ana Souza marcou o chamado como resolvido",
        "prompt": "Como foi o atendimento? Dê uma nota de 1 a 5.",
        "send": "Enviar avaliação",
        "thanks": "Obrigado! Sua nota: 4 de 5.",
        "thanks5": "Obrigado! Sua nota: 5 de 5.",
        "change": "Alterar avaliação",
        "answer": "Sua resposta: VPN",
        "answered": "Ana Souza respondeu: VPN",
        "rated": "Ana Souza avaliou o atendimento: 4 de 5",
        "closed": "Esta pesquisa foi encerrada: as avaliações ficam abertas por 14 dias.",
    },
    "en": {
        "resolve": "Problem solved",
        "resolved_by": "Ana Souza marked the ticket as resolved",
        "prompt": "How was the help? Rate it from 1 to 5.",
        "send": "Send rating",
        "thanks": "Thank you! Your rating: 4 out of 5.",
        "thanks5": "Thank you! Your rating: 5 out of 5.",
        "change": "Change rating",
        "answer": "Your answer: VPN",
        "answered": "Ana Souza answered: VPN",
        "rated": "Ana Souza rated the help: 4 out of 5",
        "closed": "This survey is closed: ratings stay open for 14 days.",
    },
}
# A fetch outside answers.js: only the live event can update the page's control.
OTHER_TAB = """([ticket, message]) => fetch(
  `/api/conversations/${ticket}/messages/${message}/submit`, {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json',
              'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
    body: JSON.stringify({values: ['2']})
  }).then((r) => r.status)"""
SELECT = {"items": [{"title": "E-mail", "value": "email"}, {"title": "VPN", "value": "vpn"}]}


async def _control(sandbox: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient() as http:
        answer = await http.request(method, f"{sandbox.url}/sandbox/api{path}", json=body)
        answer.raise_for_status()
        return answer.json()


async def _open(page: Page, base: str) -> tuple[int, int]:
    await page.goto(f"{base}/tickets/new")
    await page.locator("#title").fill("VPN cai a cada 10 minutos")
    await page.locator("#description").fill("Desde segunda.")
    await page.locator("#complexity").select_option("alta")
    await page.locator("#sector").select_option("TI")
    await page.locator("#ticket-form button[type=submit]").click()
    await page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    ticket_id = int(page.url.rsplit("/", 1)[1])
    answer = await page.evaluate(
        "(id) => fetch('/api/conversations/' + id).then((r) => r.json())", ticket_id
    )
    return ticket_id, int(answer["chatwootConversationId"])


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_question_survey_and_resolve_in_the_browser(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    words = WORDS[locale]
    page = await new_page(locale=locale, height=1200)
    await browser_signup(page, base, f"ana.{locale.lower()}@example.com")
    ticket_id, conversation = await _open(page, base)

    # A bot question with options, live: one tap answers, then the buttons are disabled.
    await _control(
        sandbox,
        "POST",
        f"/conversations/{conversation}/messages",
        {
            "content": "Qual sistema está com problema?",
            "message_type": "template",
            "content_type": "input_select",
            "content_attributes": SELECT,
        },
    )
    choice = page.locator(".answer-box.question .choice", has_text="VPN")
    await expect(choice).to_be_enabled()
    await page.screenshot(path=shot_path(f"question.{locale}.png"), full_page=True)
    await choice.click()
    await expect(page.locator(".answer-box.question .answer")).to_have_text(words["answer"])
    await expect(choice).to_be_disabled()
    await expect(choice).to_have_attribute("aria-pressed", "true")
    await expect(page.locator(".sys", has_text=words["answered"])).to_have_count(1)
    await page.screenshot(path=shot_path(f"question_answered.{locale}.png"), full_page=True)
    truth = await _control(sandbox, "GET", f"/conversations/{conversation}")
    asked = next(m for m in truth["messages"] if m["content_type"] == "input_select")
    assert asked["content_attributes"]["submitted_values"] == [{"title": "VPN", "value": "vpn"}]

    # Answered elsewhere (another tab, Teams): the control here shows it live, disabled.
    await _control(
        sandbox,
        "POST",
        f"/conversations/{conversation}/messages",
        {
            "content": "Qual andar?",
            "message_type": "template",
            "content_type": "input_select",
            "content_attributes": {
                "items": [{"title": "1º", "value": "1"}, {"title": "2º", "value": "2"}]
            },
        },
    )
    second = page.locator(".answer-box.question").nth(1)
    await expect(second.locator(".choice", has_text="2º")).to_be_enabled()
    message_id = int(await second.get_attribute("data-message") or 0)
    status = await page.evaluate(OTHER_TAB, [ticket_id, message_id])
    assert status == 200
    await expect(second.locator(".choice", has_text="2º")).to_be_disabled()
    await expect(second.locator(".choice", has_text="2º")).to_have_attribute("aria-pressed", "true")
    await expect(second.locator(".answer")).to_contain_text("2º")

    # "Problema resolvido": resolves in Chatwoot, the timeline says who; CSAT follows.
    await _control(sandbox, "PATCH", "/inbox", {"csat_survey_enabled": True})
    await page.get_by_role("button", name=words["resolve"]).click()
    await expect(page.locator(".sys", has_text=words["resolved_by"])).to_have_count(1)
    await expect(page.locator("#resolve-form")).to_be_hidden()
    survey = page.locator(".answer-box.survey")
    await expect(survey.locator("legend")).to_have_text(words["prompt"])
    # The webhook copy of the survey carries a link, the cable copy none: never shown either way.
    await expect(survey.locator("xpath=..").locator(".text")).to_have_count(0)
    assert not await accessibility_problems(page)
    await page.screenshot(path=shot_path(f"survey.{locale}.png"), full_page=True)
    await survey.locator("label.star", has_text="4").click()
    await survey.locator("textarea").fill("Rápido e gentil")
    await survey.get_by_role("button", name=words["send"]).click()
    await expect(survey.locator(".answer")).to_have_text(words["thanks"])
    await expect(page.locator(".sys", has_text=words["rated"])).to_have_count(1)
    await expect(survey.locator(".feedback")).to_have_text("“Rápido e gentil”")
    await page.screenshot(path=shot_path(f"survey_thanks.{locale}.png"), full_page=True)
    truth = await _control(sandbox, "GET", f"/conversations/{conversation}")
    assert truth["status"] == "resolved"
    assert truth["csat_survey_response"]["rating"] == 4
    assert truth["csat_survey_response"]["feedback_message"] == "Rápido e gentil"

    # A second answer changes it; after a reload the page shows the same state.
    await survey.get_by_role("button", name=words["change"]).click()
    await survey.locator("label.star", has_text="5").click()
    await survey.get_by_role("button", name=words["send"]).click()
    await expect(survey.locator(".answer")).to_have_text(words["thanks5"])
    await page.reload()
    await expect(page.locator(".answer-box.survey .answer")).to_have_text(words["thanks5"])
    await expect(page.locator(".answer-box.question .choice", has_text="VPN")).to_be_disabled()
    truth = await _control(sandbox, "GET", f"/conversations/{conversation}")
    assert truth["csat_survey_response"]["rating"] == 5

    # Chatwoot's 14-day lock (its clock says the survey is 15 days old): the prompt says closed.
    record = sandbox.state.conversations[conversation]
    asked = next(m for m in record.messages if m.content_type == "input_csat")
    asked.created_at -= 15 * 86400
    survey = page.locator(".answer-box.survey")
    await survey.get_by_role("button", name=words["change"]).click()
    await survey.locator("label.star", has_text="2").click()
    await survey.get_by_role("button", name=words["send"]).click()
    await expect(survey.locator(".closed")).to_have_text(words["closed"])
    await expect(survey.get_by_role("button", name=words["change"])).to_have_count(0)
    truth = await _control(sandbox, "GET", f"/conversations/{conversation}")
    assert truth["csat_survey_response"]["rating"] == 5


FORM = {
    "items": [
        {"name": "host", "label": "Computador", "type": "text", "required": True},
        {"name": "details", "label": "Detalhes", "type": "text_area"},
        {
            "name": "urgency",
            "label": "Urgência",
            "type": "select",
            "options": [{"label": "Alta", "value": "high"}, {"label": "Baixa", "value": "low"}],
        },
    ]
}
CARDS = {
    "items": [
        {
            "title": "Reiniciar o roteador",
            "description": "Desligue por 30 segundos e ligue de novo.",
            "actions": [
                {"type": "link", "text": "Guia", "uri": "https://example.com/guia"},
                {"type": "postback", "text": "Funcionou", "payload": "ok"},
            ],
        }
    ]
}


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_form_and_cards_questions_in_the_browser(
    make_web: MakeWeb, sandbox: SandboxServer, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale=locale, height=1300)
    await browser_signup(page, base, f"bia.{locale.lower()}@example.com", name="Bia Lima")
    _ticket_id, conversation = await _open(page, base)
    for content_type, attributes, text in (
        ("form", FORM, "Preciso de alguns dados"),
        ("cards", CARDS, "Tente isto"),
    ):
        await _control(
            sandbox,
            "POST",
            f"/conversations/{conversation}/messages",
            {
                "content": text,
                "message_type": "template",
                "content_type": content_type,
                "content_attributes": attributes,
            },
        )
    form = page.locator(".answer-box.question form")
    await expect(form.get_by_label("Computador *")).to_be_visible()
    await expect(page.get_by_role("link", name="Guia")).to_have_attribute(
        "href", "https://example.com/guia"
    )
    assert not await accessibility_problems(page)
    await page.screenshot(path=shot_path(f"question_form.{locale}.png"), full_page=True)
    await form.get_by_label("Computador *").fill("PC-042")
    await form.locator("select").select_option("high")
    await form.locator("button[type=submit]").click()
    await expect(form.locator("input").first).to_be_disabled()
    await expect(page.locator(".answer-box.question .answer").first).to_contain_text("PC-042")
    await page.get_by_role("button", name="Funcionou").click()
    await expect(page.get_by_role("button", name="Funcionou")).to_be_disabled()
    await expect(page.locator(".answer-box.question").nth(1).locator(".answer")).to_contain_text(
        "Funcionou"
    )
    await page.screenshot(path=shot_path(f"question_form_answered.{locale}.png"), full_page=True)
    truth = await _control(sandbox, "GET", f"/conversations/{conversation}")
    answers = {
        m["content_type"]: m["content_attributes"].get("submitted_values")
        for m in truth["messages"]
    }
    assert answers["form"] == [
        {"name": "host", "title": "Computador", "value": "PC-042"},
        {"name": "urgency", "title": "Urgência", "value": "high"},
    ]
    assert answers["cards"] == [{"title": "Funcionou", "value": "ok"}]
