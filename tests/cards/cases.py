"""Every card the bot sends, in both languages, built from fixed view data."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cards
from bot.views import agent_message
from cards import CardMessage, FormView, HistoryView, TicketSummary, TicketView
from tests.cards.answer_cases import answer_builders
from tests.web.files import png

LOCALES = ("pt-BR", "en")
FILES = "https://chamados.example.com/tickets/42/attachments"
T0 = datetime(2025, 3, 5, 17, 7, tzinfo=UTC)
SAO_PAULO = timezone(timedelta(hours=-3))
COMPLEXITIES = ("Baixa", "Média", "Alta")
SECTORS = ("Financeiro", "RH", "TI", "Operações")
# What an agent types in Chatwoot's editor (hard breaks already normalised at ingest).
MARKDOWN = (
    "**Importante:** reinicie o _roteador_ antes.\n"
    "- rode `ipconfig /renew`\n"
    "- veja https://intranet.example/vpn\n"
    "Guia completo: [Guia da VPN](https://intranet.example/guia) · 2 * 3 = 6 · <b>sem HTML</b>"
)
HUGE = "Linha longa com acentuação e emoji 🙂 [link](https://evil.example) **negrito** " * 400


def _summaries(count: int, start: int) -> list[TicketSummary]:
    statuses = ("open", "pending", "resolved", "snoozed")
    titles = (
        "Impressora do 2º andar não imprime",
        "VPN cai a cada 10 minutos",
        "Acesso ao sistema de folha",
        "Troca de monitor",
    )
    return [
        TicketSummary(
            id=start + i,
            title=titles[i % len(titles)],
            status=statuses[i % len(statuses)],
            assignee=None if i % 3 == 0 else ("Ana Souza", "Bruno Lima")[i % 2],
            updated_at=T0 - timedelta(hours=5 * i),
        )
        for i in range(count)
    ]


def _messages(long: bool) -> list[CardMessage]:
    body = HUGE if long else None
    return [
        CardMessage("requester", "Carla Dias", "A impressora mostra erro 49.", T0),
        CardMessage("system", "", "Ana Souza assumiu o chamado", T0 + timedelta(minutes=3)),
        agent_message(
            "Ana Souza",
            body or "Olá Carla! Pode **desligar e ligar** de novo, por favor?",
            T0 + timedelta(minutes=9),
        ),
        CardMessage(
            "requester",
            "Carla Dias",
            body or "Fiz isso, continua igual.",
            T0 + timedelta(minutes=20),
        ),
        agent_message(
            "Ana Souza",
            body or "Troquei o fusor. Consegue testar? [Clique aqui](https://evil.example)",
            T0 + timedelta(hours=2),
        ),
        CardMessage("requester", "Carla Dias", "Funcionou, obrigada!", T0 + timedelta(hours=3)),
    ]


def ticket_view_with_reply(reply: str) -> TicketView:
    """Return an open ticket whose newest message is an agent's reply."""
    return TicketView(
        id=42,
        title="Impressora do 2º andar não imprime",
        status="open",
        assignee="Ana Souza",
        sector="TI",
        complexity="Média",
        created_at=T0,
        updated_at=T0 + timedelta(hours=2),
        messages=[
            CardMessage("requester", "Carla Dias", "A impressora mostra erro 49.", T0),
            agent_message("Ana Souza", reply, T0 + timedelta(hours=2)),
        ],
    )


def _ticket(status: str, long: bool = False) -> TicketView:
    return TicketView(
        id=42,
        title="Impressora do 2º andar não imprime" if not long else "Título " * 60,
        status=status,
        assignee=None if status == "open" and not long else "Ana Souza",
        sector="TI",
        complexity="Média",
        created_at=T0,
        updated_at=T0 + timedelta(hours=3),
        messages=_messages(long) if status != "pending" else _messages(long)[:1],
        beneficiary_name="Carla Dias" if status == "resolved" else None,
    )


def _form(errors: bool = False, notice: bool = False) -> FormView:
    values = (
        {
            "title": "ab",
            "description": "Sem acesso ao sistema.",
            "complexity": "Média",
            "sector": "TI",
            "for_other": "true",
            "beneficiary_name": "",
            "beneficiary_email": "carla@",
        }
        if errors or notice
        else {}
    )
    return FormView(
        complexities=COMPLEXITIES,
        sectors=SECTORS,
        form_id="form-7f3a",
        values=values,
        errors=(
            {
                "title": "too_short",
                "beneficiary_name": "required",
                "beneficiary_email": "invalid_email",
            }
            if errors
            else {}
        ),
        notice=(
            "O helpdesk está indisponível no momento. Seus dados foram mantidos; tente de novo."
            if notice
            else None
        ),
    )


def _prefilled() -> FormView:
    """The message action's form, filled from someone else's message."""
    return FormView(
        complexities=COMPLEXITIES,
        sectors=SECTORS,
        form_id="msg-5b1e",
        values={
            "title": "A impressora do 2º andar não imprime",
            "description": (
                "A impressora do 2º andar não imprime\n\nDesde ontem a fila trava.\n\n"
                "— De uma mensagem de Bruno Lima no chat “Suporte 2º andar”, 05/03/2025 17:07 UTC."
            ),
            "for_other": "true",
            "beneficiary_name": "Bruno Lima",
            "beneficiary_email": "bruno@contoso.example",
        },
        notice="A mensagem é longa: cortamos o texto para caber na descrição.",
    )


# Dialog cards (message action): submitted by Action.Submit, which Teams turns into an invoke.
DIALOGS = frozenset({"dialog_prefilled", "dialog_errors"})


def _articles(locale: str) -> list[cards.SuggestedArticle]:
    base = "https://help.contoso.example/hc/ti/articles"
    if locale == "en":
        return [
            cards.SuggestedArticle(
                "How to connect to the company VPN",
                "To reach internal systems away from the office, use the corporate VPN. Open the "
                "GlobalProtect app, enter the portal vpn.company.example and sign in...",
                f"{base}/1-how-to-connect-to-the-company-vpn",
            ),
            cards.SuggestedArticle(
                "Reset your network password",
                "Your network password is used by your computer, e-mail and the VPN...",
                f"{base}/2-reset-your-network-password",
            ),
        ]
    return [
        cards.SuggestedArticle(
            "Como conectar à VPN da empresa",
            "Para acessar os sistemas internos fora do escritório, use a VPN corporativa. Abra o "
            "aplicativo GlobalProtect, informe o portal vpn.empresa.com.br e entre...",
            f"{base}/1-como-conectar-a-vpn-da-empresa",
        ),
        cards.SuggestedArticle(
            "Redefinir a senha de rede [aqui](https://evil.example) {{DATE(x)}}",
            "A senha de rede vale para o computador, o e-mail e a VPN...",
            f"{base}/2-redefinir-a-senha-de-rede",
        ),
    ]


def _suggestions(locale: str) -> dict[str, Any]:
    view = cards.SuggestionsView(
        _articles(locale),
        form_id="form-7f3a",
        inputs={"title": "VPN cai toda hora", "description": "Desde ontem.", "sector": "TI"},
    )
    return cards.suggestions_card(view, locale)


def _builders(locale: str) -> dict[str, Callable[[], dict[str, Any]]]:
    return {
        "welcome": lambda: cards.welcome_card(locale),
        "help": lambda: cards.help_card(locale),
        "help_web": lambda: cards.help_card(
            locale, web_url="https://chamados.example.com", microsoft=True
        ),
        "form_empty": lambda: cards.ticket_form_card(_form(), locale),
        "form_errors": lambda: cards.ticket_form_card(_form(errors=True), locale),
        "form_notice": lambda: cards.ticket_form_card(_form(notice=True), locale),
        "dialog_prefilled": lambda: cards.message_ticket_card(_prefilled(), locale),
        "dialog_errors": lambda: cards.message_ticket_card(_form(errors=True), locale),
        "history_empty": lambda: cards.history_card(HistoryView([], 1, 1), locale),
        "history_one_page": lambda: cards.history_card(
            HistoryView(_summaries(4, 101), 1, 1), locale, tz=SAO_PAULO
        ),
        "history_middle": lambda: cards.history_card(
            HistoryView(_summaries(10, 201), 2, 3), locale
        ),
        "history_full_page": lambda: cards.history_card(
            HistoryView(
                [
                    TicketSummary(i, HUGE, "pending", HUGE, T0)
                    for i in range(1, cards.history.MAX_ROWS + 1)
                ],
                1,
                2,
            ),
            locale,
        ),
        "history_unread": lambda: cards.history_card(
            HistoryView(
                [
                    replace(summary, unread=unread)
                    for summary, unread in zip(_summaries(3, 301), (2, 1, 0), strict=True)
                ],
                1,
                1,
            ),
            locale,
        ),
        "choose_ticket": lambda: cards.choose_ticket_card(
            "A impressora voltou a travar, mesmo depois da troca do fusor.",
            [replace(s, unread=i % 2) for i, s in enumerate(_summaries(3, 401)) if i != 2],
            locale,
        ),
        "choose_ticket_huge": lambda: cards.choose_ticket_card(
            HUGE, [TicketSummary(i, HUGE, "open", None, T0, 9) for i in range(1, 20)], locale
        ),
        "ticket_open": lambda: cards.ticket_card(_ticket("open"), locale, tz=SAO_PAULO),
        "ticket_pending": lambda: cards.ticket_card(_ticket("pending"), locale),
        "ticket_resolved": lambda: cards.ticket_card(_ticket("resolved"), locale),
        "ticket_long": lambda: cards.ticket_card(_ticket("snoozed", long=True), locale),
        "agent_reply_files": lambda: cards.agent_reply_card(
            cards.ReplyView(
                42,
                "Impressora do 2º andar não imprime",
                CardMessage(
                    "agent",
                    "Ana Souza",
                    "",
                    T0,
                    files=(
                        cards.CardFile(
                            "painel.png",
                            f"{FILES}/7?expires=1&sig=ab",
                            # The renderer here is offline: the picture comes inline.
                            "data:image/png;base64," + b64encode(png(160, 90)).decode(),
                        ),
                        cards.CardFile("manual [v2].pdf", f"{FILES}/8?expires=1&sig=cd"),
                    ),
                ),
            ),
            locale,
        ),
        "ticket_summary": lambda: cards.ticket_summary_card(_ticket("pending"), locale),
        "agent_reply": lambda: cards.agent_reply_card(
            cards.ReplyView(
                42,
                "Impressora do 2º andar não imprime",
                CardMessage(
                    "agent",
                    "Ana Souza",
                    "Olá Carla!\nTroquei o fusor da impressora. "
                    "Pode testar e me dizer se resolveu?",
                    T0,
                ),
            ),
            locale,
        ),
        "agent_reply_markdown": lambda: cards.agent_reply_card(
            cards.ReplyView(
                42, "VPN cai a cada 10 minutos", agent_message("Ana Souza", MARKDOWN, T0)
            ),
            locale,
        ),
        "agent_reply_huge": lambda: cards.agent_reply_card(
            cards.ReplyView(42, HUGE, agent_message(HUGE, HUGE * 3, None)), locale
        ),
        "suggestions": lambda: _suggestions(locale),
        "suggestions_search": lambda: cards.suggestions_card(
            cards.SuggestionsView(_articles(locale), query="vpn"), locale
        ),
        "suggestions_none": lambda: cards.no_articles_card("xyzzy", locale),
        "suggestions_solved": lambda: cards.solved_card(locale),
        "error": lambda: cards.error_card(
            "Não consegui falar com o helpdesk agora. Tente de novo em alguns minutos."
            if locale == "pt-BR"
            else "I could not reach the helpdesk right now. Try again in a few minutes.",
            "E-5F2C9A",
            locale,
        ),
        **answer_builders(locale),
    }


def all_cards() -> dict[str, dict[str, Any]]:
    """Return ``{"<case>.<locale>": card}`` for every case in both languages."""
    built: dict[str, dict[str, Any]] = {}
    for locale in LOCALES:
        for name, build in _builders(locale).items():
            built[f"{name}.{locale}"] = build()
    return built
