"""The bot's own sentences (pt-BR default, en); card wording lives in `cards.text`."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from cards import normalize_locale

_PT: Final = MappingProxyType(
    {
        "sent": "✉️ Mensagem enviada no chamado #{id} “{title}”.",
        "no_current": (
            "Você ainda não tem um chamado em andamento. Digite “novo chamado” para abrir um, "
            "“meus chamados” para ver os seus ou “ajuda”."
        ),
        "unavailable": (
            "O suporte está indisponível no momento e nada foi enviado. Tente de novo em instantes."
        ),
        "rejected": "O suporte recusou o pedido: {reason}",
        "not_found": "Não encontrei esse chamado entre os seus.",
        "too_long": "Sua mensagem é longa demais (máximo de 10.000 caracteres).",
        "empty_reply": "Escreva uma mensagem antes de enviar.",
        "reopen_note": "Chamado reaberto pelo solicitante no Teams.",
        "invalid_action": "Não entendi esse botão. Digite “ajuda” para ver o que sei fazer.",
        "no_identity": (
            "Não consegui identificar sua conta do Teams; tente pelo chat pessoal com o bot."
        ),
        "error": "Desculpe, algo deu errado do nosso lado. Tente de novo em instantes.",
    }
)

_EN: Final = MappingProxyType(
    {
        "sent": "✉️ Message sent to ticket #{id} “{title}”.",
        "no_current": (
            "You have no ticket in progress yet. Type “new ticket” to open one, “my tickets” to "
            "see yours, or “help”."
        ),
        "unavailable": (
            "The helpdesk is unavailable right now and nothing was sent. Please try again shortly."
        ),
        "rejected": "The helpdesk refused the request: {reason}",
        "not_found": "I could not find that ticket among yours.",
        "too_long": "Your message is too long (10,000 characters at most).",
        "empty_reply": "Write a message before sending.",
        "reopen_note": "Ticket reopened by the requester in Teams.",
        "invalid_action": "I did not understand that button. Type “help” to see what I can do.",
        "no_identity": (
            "I could not identify your Teams account; try the personal chat with the bot."
        ),
        "error": "Sorry, something went wrong on our side. Please try again shortly.",
    }
)


def say(key: str, locale: str | None, **values: object) -> str:
    """Return the bot sentence ``key`` in ``locale``."""
    catalog = _EN if normalize_locale(locale) == "en" else _PT
    template = catalog[key]
    return template.format(**values) if values else template
