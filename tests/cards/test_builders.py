"""Behaviour of the builders and the text helpers beyond what the goldens pin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import cards
from bot.views import agent_message
from cards import CardMessage, FormView, HistoryView, TicketSummary, TicketView
from cards.elements import clip, plain
from cards.text import field_error
from tests.cards.cases import COMPLEXITIES, HUGE, SECTORS, T0
from tests.cards.test_schema import _walk


def _texts(card: dict[str, Any]) -> list[str]:
    return [n["text"] for n in _walk(card) if n.get("type") in ("TextBlock", "TextRun")]


def _verbs(card: dict[str, Any]) -> list[str]:
    return [n["verb"] for n in _walk(card) if n.get("type") == "Action.Execute"]


def _ticket(status: str, messages: list[CardMessage]) -> TicketView:
    return TicketView(42, "Printer", status, None, "TI", "Alta", T0, T0, messages)


def test_status_lines_are_plain_text_per_locale() -> None:
    assert cards.status_line(7, "VPN", "resolved", "pt-BR") == "✅ Chamado #7 “VPN” foi resolvido."
    assert cards.status_line(7, "VPN", "resolved", "en", agent="Ana") == (
        "✅ Ticket #7 “VPN” was resolved by Ana."
    )
    assert (
        cards.status_line(7, "VPN", "open", "en", reopened=True)
        == "🔄 Ticket #7 “VPN” was reopened."
    )
    assert cards.status_line(7, "V\nPN  x", "weird", "en") == "📬 Ticket #7 “V PN x” is open."
    assert cards.assignment_line(7, "VPN", None, "pt-BR").startswith("👤 O chamado #7")
    assert cards.assignment_line(7, "VPN", "Ana", "en") == "👤 Ana took ticket #7 “VPN”."
    assert "#9" in cards.created_line(9, "x" * 500, "en")
    assert len(cards.created_line(9, "x" * 500, "en")) < 200


def test_error_codes_translate_without_leaking_codes() -> None:
    assert field_error("title", "too_short", "en") == "The title must be 3 to 120 characters long."
    assert field_error("sector", "invalid_choice", "pt-BR") == "Escolha uma das opções da lista."
    assert field_error("beneficiary_email", "invalid_email", "en").startswith(
        "Enter a valid e-mail"
    )
    assert field_error("description", "mystery_code", "pt-BR") == "Valor inválido."


def test_form_keeps_values_shows_errors_and_drops_stale_choice() -> None:
    view = FormView(
        complexities=COMPLEXITIES,
        sectors=SECTORS,
        form_id="f-1",
        values={"title": "Impressora", "sector": "Setor removido", "complexity": "Alta"},
        errors={"sector": "invalid_choice"},
    )
    card = cards.ticket_form_card(view, "pt-BR")
    inputs = {n["id"]: n for n in _walk(card) if str(n.get("type", "")).startswith("Input.")}
    assert inputs["title"]["value"] == "Impressora"
    assert inputs["complexity"]["value"] == "Alta"
    assert "value" not in inputs["sector"]
    assert inputs["for_other"]["value"] == "false"
    assert "⚠ Escolha uma das opções da lista." in _texts(card)
    create = next(
        n for n in _walk(card) if n.get("type") == "Action.Execute" and n["verb"] == "ticket.create"
    )
    assert create["data"] == {"formId": "f-1"}


def test_form_needs_choices() -> None:
    with pytest.raises(ValueError, match="complexity"):
        cards.ticket_form_card(FormView((), SECTORS, "f"), "en")


def test_ticket_card_shows_last_five_and_reopen_or_resolve_by_status() -> None:
    messages = [
        CardMessage("requester", "Carla", f"message {i}", T0 + timedelta(minutes=i))
        for i in range(8)
    ]
    open_card = cards.ticket_card(_ticket("open", messages), "en")
    texts = _texts(open_card)
    assert [t for t in texts if t.startswith("message ")] == [f"message {i}" for i in range(3, 8)]
    assert "Latest 5 of 8 messages" in texts
    # Open: "Problema resolvido" (the employee resolves); resolved: reopen instead.
    assert _verbs(open_card) == ["ticket.reply", "ticket.resolve", "ticket.refresh"]
    resolved = cards.ticket_card(_ticket("resolved", messages), "en")
    assert _verbs(resolved) == ["ticket.reply", "ticket.reopen", "ticket.refresh"]
    assert "Resolved" in _texts(resolved)


def test_huge_message_is_truncated_and_card_stays_small() -> None:
    messages = [CardMessage("agent", HUGE, HUGE * 10, T0) for _ in range(5)]
    view = TicketView(1, HUGE, "open", HUGE, HUGE, HUGE, T0, T0, messages, HUGE)
    card = cards.ticket_card(view, "pt-BR")
    assert cards.card_size(card) < cards.MAX_CARD_BYTES
    assert _texts(card).count("[mensagem cortada; veja a íntegra na página web]") == 5
    huge_reply = CardMessage("agent", HUGE, "🙂" * 100_000, None)
    reply = cards.agent_reply_card(cards.ReplyView(1, HUGE, huge_reply), "en")
    assert cards.card_size(reply) < cards.MAX_CARD_BYTES


def test_untrusted_text_is_only_in_text_runs() -> None:
    evil = "**boss** [Reset password](https://evil.example) {{DATE(2017-02-14T06:08:39Z)}}\u202e"
    view = TicketView(
        1, evil, "open", evil, evil, evil, T0, T0, [CardMessage("agent", evil, evil, T0)], evil
    )
    card = cards.ticket_card(view, "en")
    blocks = [n["text"] for n in _walk(card) if n.get("type") == "TextBlock"]
    assert not any("evil.example" in b for b in blocks)
    runs = [n["text"] for n in _walk(card) if n.get("type") == "TextRun" and "evil" in n["text"]]
    assert runs
    assert all("{{" not in r and "\u202e" not in r for r in runs)
    history = cards.history_card(HistoryView([TicketSummary(1, evil, "open", evil, T0)]), "en")
    assert not any(
        "evil.example" in n["text"] for n in _walk(history) if n.get("type") == "TextBlock"
    )


def test_plain_and_clip() -> None:
    assert plain("a\x00b\r\nc\u200bd") == "ab\ncd"
    assert clip("ação", 100) == ("ação", False)
    cut, was_cut = clip("🙂" * 10, 10)
    assert was_cut
    assert cut == "🙂…"
    assert len(cut.encode()) <= 10


def test_history_paging_buttons_and_limits() -> None:
    row = TicketSummary(1, "VPN", "pending", None, T0)
    first = cards.history_card(HistoryView([row], 1, 3), "en")
    middle = cards.history_card(HistoryView([row], 2, 3), "en")
    last = cards.history_card(HistoryView([row], 3, 3), "en")
    pages = lambda card: [  # noqa: E731
        n["data"]["page"] for n in card["actions"] if n["verb"] == "ticket.list"
    ]
    assert pages(first) == [2]
    assert pages(middle) == [1, 3]
    assert pages(last) == [2]
    opens = [
        n for n in _walk(middle) if n.get("type") == "Action.Execute" and n["verb"] == "ticket.open"
    ]
    assert [o["data"] for o in opens] == [{"ticketId": 1}]
    empty = cards.history_card(HistoryView([], 1, 0), "pt-BR")
    assert "Você ainda não abriu nenhum chamado." in _texts(empty)
    with pytest.raises(ValueError, match="at most"):
        cards.history_card(HistoryView([row] * 16), "en")
    with pytest.raises(ValueError, match="page"):
        cards.history_card(HistoryView([row], 4, 3), "en")


def test_builders_do_not_share_state() -> None:
    first = cards.welcome_card("en")
    first["body"].clear()
    first["actions"][0]["data"] = {"tampered": True}
    assert cards.welcome_card("en")["body"]
    assert "data" not in cards.welcome_card("en")["actions"][0]


LABELS = {
    "complexity": {"media": {"pt-BR": "Média", "en": "Medium"}},
    "sector": {"RH": {"pt-BR": "RH", "en": "HR"}},
}


@pytest.mark.parametrize(
    ("locale", "medium", "hr"), [("pt-BR", "Média", "RH"), ("en", "Medium", "HR")]
)
def test_choices_show_their_labels_and_keep_their_values(locale: str, medium: str, hr: str) -> None:
    form = cards.ticket_form_card(
        FormView(("baixa", "media"), ("TI", "RH"), "f", labels=LABELS), locale
    )
    sets = {n["id"]: n["choices"] for n in _walk(form) if n.get("type") == "Input.ChoiceSet"}
    assert sets["complexity"] == [
        {"title": "baixa", "value": "baixa"},
        {"title": medium, "value": "media"},
    ]
    assert {"title": hr, "value": "RH"} in sets["sector"]
    view = TicketView(42, "Printer", "open", None, "RH", "media", T0, T0, labels=LABELS)
    texts = _texts(cards.ticket_card(view, locale))
    assert medium in texts and hr in texts
    assert "media" not in texts


@pytest.mark.parametrize("microsoft", [True, False])
def test_help_card_links_the_web_page_and_says_how_to_get_in(microsoft: bool) -> None:
    card = cards.help_card("pt-BR", web_url="https://chamados.example.com", microsoft=microsoft)
    texts = " ".join(_texts(card))
    assert "https://chamados.example.com" in texts
    assert ("conta Microsoft" in texts) is microsoft
    assert ("Criar conta" in texts) is not microsoft
    links = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert links == [
        {
            "type": "Action.OpenUrl",
            "title": "Abrir a página web",
            "url": "https://chamados.example.com",
        }
    ]
    # Without a known address the card keeps its plain sentence and offers no link.
    plain_card = cards.help_card("en")
    assert not [a for a in plain_card["actions"] if a["type"] == "Action.OpenUrl"]


def test_ticket_card_shows_the_survey_in_our_words_and_answers() -> None:
    messages = [
        CardMessage(
            "agent", "", "Please rate this conversation, https://cw.example/x", T0, survey=True
        ),
        CardMessage("agent", "", "Qual sistema?", T0, answer="VPN"),
        CardMessage("agent", "", "Avalie", T0, survey=True, rating=4),
    ]
    texts = " ".join(_texts(cards.ticket_card(_ticket("resolved", messages), "pt-BR")))
    assert "cw.example" not in texts
    assert texts.count("Como foi o atendimento? Dê uma nota de 1 a 5.") == 2
    assert "Sua resposta: VPN" in texts and "4 de 5" in texts


def test_agent_markdown_becomes_styled_runs_that_are_never_parsed_again() -> None:
    content = "**Reinicie** o _modem_ e rode `ping 1.1.1.1` {{DATE(2017-02-14T06:08:39Z)}}"
    reply = agent_message("Ana", content, T0)
    runs = [
        n for n in _walk(cards.ticket_card(_one("open", reply), "en")) if n.get("type") == "TextRun"
    ]
    styled = {run["text"]: run for run in runs}
    assert styled["Reinicie"]["weight"] == "Bolder"
    assert styled["modem"]["italic"] is True
    assert styled["ping 1.1.1.1"]["fontType"] == "Monospace"
    assert not any("{{" in run["text"] for run in runs)
    assert not any("**" in run["text"] or "`" in run["text"] for run in runs)


def test_a_link_opens_its_own_address_which_the_card_shows() -> None:
    reply = agent_message("Ana", "[Reset password](https://evil.example/x)", T0)
    card = cards.ticket_card(_one("open", reply), "en")
    [link] = [n for n in _walk(card) if n.get("selectAction")]
    assert link["text"] == "Reset password"
    assert link["selectAction"] == {"type": "Action.OpenUrl", "url": "https://evil.example/x"}
    assert " (https://evil.example/x)" in _texts(card)
    javascript = agent_message("Ana", "[click](javascript:alert(1))", T0)
    card = cards.ticket_card(_one("open", javascript), "en")
    assert not [n for n in _walk(card) if n.get("selectAction")]


def test_a_deleted_agent_message_shows_only_the_marker() -> None:
    gone = agent_message("Ana", "**secret**", T0)
    deleted = CardMessage("agent", "Ana", "", T0, deleted=True, spans=gone.spans)
    texts = _texts(cards.ticket_card(_one("open", deleted), "en"))
    assert "(message deleted)" in texts and not any("secret" in text for text in texts)


def test_styled_markdown_is_cut_to_the_budget_and_says_so() -> None:
    reply = agent_message("Ana", "**negrito** e texto " * 2_000, T0)
    card = cards.ticket_card(_one("open", reply), "pt-BR")
    assert cards.card_size(card) < cards.MAX_CARD_BYTES
    assert "[mensagem cortada; veja a íntegra na página web]" in _texts(card)


def _one(status: str, message: CardMessage) -> TicketView:
    return TicketView(1, "VPN", status, None, None, None, T0, T0, [message])


def test_an_agent_message_without_a_name_is_the_support_teams() -> None:
    nameless = agent_message("", "Olá! Respondemos em até 2 horas.", T0)
    assert "Suporte" in _texts(cards.ticket_card(_one("open", nameless), "pt-BR"))
    assert "Support" in _texts(cards.ticket_card(_one("open", nameless), "en"))


def test_list_markers_become_bullets_only_at_the_start_of_a_line() -> None:
    reply = agent_message("Ana", "**Passos** - leia\n- reinicie\n* teste 2 - 1", T0)
    texts = "".join(_texts(cards.ticket_card(_one("open", reply), "pt-BR")))
    assert "Passos - leia\n• reinicie\n• teste 2 - 1" in texts
