"""Survey and bot-question cards, in every state, from fixed view data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cards
from cards import Field, Option, QuestionView, RichItem, SurveyView

TITLE = "VPN cai a cada 10 minutos"


def _question(kind: str, answer: str | None = None, **parts: Any) -> QuestionView:
    return QuestionView(
        ticket_id=42,
        message_id=4201,
        title=TITLE,
        author="",
        prompt="Qual sistema está com problema?",
        kind=kind,
        answer=answer,
        **parts,
    )


CHOICES = [Option("E-mail", "email"), Option("VPN", "vpn"), Option("Impressora", "printer")]
ITEMS = [
    RichItem(
        "Reiniciar o roteador",
        "Desligue por 30 segundos e ligue de novo.",
        "https://example.com/router.png",
        links=[Option("Guia passo a passo", "https://example.com/guia")],
        answers=[Option("Funcionou", "ok"), Option("Não funcionou", "nok")],
    )
]
FIELDS = [
    Field("host", "Computador", required=True, placeholder="PC-042"),
    Field("mail", "E-mail", "email"),
    Field("details", "Detalhes", "text_area"),
    Field(
        "urgency", "Urgência", "select", options=[Option("Alta", "high"), Option("Baixa", "low")]
    ),
]


def answer_builders(locale: str) -> dict[str, Callable[[], dict[str, Any]]]:
    """Return the survey and question cases of one locale."""
    survey = SurveyView(ticket_id=42, message_id=4200, title=TITLE)
    return {
        "survey_open": lambda: cards.survey_card(survey, locale),
        "survey_rated": lambda: cards.survey_card(
            SurveyView(42, 4200, TITLE, rating=4, feedback="Rápido e gentil"), locale
        ),
        "survey_closed": lambda: cards.survey_card(
            SurveyView(42, 4200, TITLE, closed=True), locale
        ),
        "question_select": lambda: cards.question_card(
            _question("input_select", choices=CHOICES), locale
        ),
        "question_answered": lambda: cards.question_card(
            _question("input_select", "VPN", choices=CHOICES), locale
        ),
        "question_cards": lambda: cards.question_card(_question("cards", items=ITEMS), locale),
        "question_form": lambda: cards.question_card(_question("form", fields=FIELDS), locale),
        "question_email": lambda: cards.question_card(_question("input_email"), locale),
    }
