"""The bot's own chat sentences (keys under ``bot.``), pt-BR and en."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bot.sent": "✉️ Mensagem enviada no chamado #{id} “{title}”.",
        "bot.no_current": (
            "Você ainda não tem um chamado em andamento. Digite “novo chamado” para abrir "
            "um, “meus chamados” para ver os seus ou “ajuda”."
        ),
        "bot.unavailable": (
            "O suporte está indisponível no momento e nada foi enviado. Tente de novo em instantes."
        ),
        "bot.rejected": "O suporte recusou o pedido: {reason}",
        "bot.not_found": "Não encontrei esse chamado entre os seus.",
        "bot.too_long": "Sua mensagem é longa demais (máximo de 10.000 caracteres).",
        "bot.empty_reply": "Escreva uma mensagem antes de enviar.",
        "bot.reopen_note": "Chamado reaberto pelo solicitante no Teams.",
        "bot.invalid_action": "Não entendi esse botão. Digite “ajuda” para ver o que sei fazer.",
        "bot.no_identity": (
            "Não consegui identificar sua conta do Teams; tente pelo chat pessoal com o bot."
        ),
        "bot.error": "Desculpe, algo deu errado do nosso lado. Tente de novo em instantes.",
    }
)

EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bot.sent": "✉️ Message sent to ticket #{id} “{title}”.",
        "bot.no_current": (
            "You have no ticket in progress yet. Type “new ticket” to open one, “my "
            "tickets” to see yours, or “help”."
        ),
        "bot.unavailable": (
            "The helpdesk is unavailable right now and nothing was sent. Please try again shortly."
        ),
        "bot.rejected": "The helpdesk refused the request: {reason}",
        "bot.not_found": "I could not find that ticket among yours.",
        "bot.too_long": "Your message is too long (10,000 characters at most).",
        "bot.empty_reply": "Write a message before sending.",
        "bot.reopen_note": "Ticket reopened by the requester in Teams.",
        "bot.invalid_action": "I did not understand that button. Type “help” to see what I can do.",
        "bot.no_identity": (
            "I could not identify your Teams account; try the personal chat with the bot."
        ),
        "bot.error": "Sorry, something went wrong on our side. Please try again shortly.",
    }
)
