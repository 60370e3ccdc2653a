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
        "bot.error_id": (
            "Desculpe, algo deu errado do nosso lado (código {error_id}). Tente de novo."
        ),
        "bot.ext.dialog_title": "Abrir chamado",
        "bot.ext.source": "— De uma mensagem de {author} {place}, {date} UTC.",
        "bot.ext.source.undated": "— De uma mensagem de {author} {place}.",
        "bot.ext.author.unknown": "alguém",
        "bot.ext.place.channel": "no canal “{name}”",
        "bot.ext.place.channel.unnamed": "em um canal",
        "bot.ext.place.groupChat": "no chat “{name}”",
        "bot.ext.place.groupChat.unnamed": "em um chat em grupo",
        "bot.ext.place.meeting": "na reunião “{name}”",
        "bot.ext.place.meeting.unnamed": "em uma reunião",
        "bot.ext.place.personal": "em um chat",
        "bot.ext.link": "Link da mensagem: {url}",
        "bot.ext.cut": "[…] (mensagem cortada)",
        "bot.ext.notice.empty": "A mensagem não tem texto: descreva o problema nos campos abaixo.",
        "bot.ext.notice.long": (
            "A mensagem é longa: cortamos o texto para caber na descrição (até 5.000 caracteres)."
        ),
        "bot.ext.no_message": "Use esta ação pelo menu “…” de uma mensagem.",
        "bot.ext.created": (
            "Chamado #{id} “{title}” aberto. O cartão do chamado e as respostas do suporte chegam "
            "no seu chat com o app {app}."
        ),
        "bot.ext.created.no_chat": (
            "Chamado #{id} “{title}” aberto. Para receber as respostas no Teams, adicione o app "
            "{app}: em Apps, procure “{app}” e clique em Adicionar. Enquanto isso, acompanhe o "
            "chamado na página web: {url}"
        ),
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
        "bot.error_id": "Sorry, something went wrong on our side (error id {error_id}). Try again.",
        "bot.ext.dialog_title": "Open ticket",
        "bot.ext.source": "— From a message by {author} {place}, {date} UTC.",
        "bot.ext.source.undated": "— From a message by {author} {place}.",
        "bot.ext.author.unknown": "someone",
        "bot.ext.place.channel": "in the channel “{name}”",
        "bot.ext.place.channel.unnamed": "in a channel",
        "bot.ext.place.groupChat": "in the chat “{name}”",
        "bot.ext.place.groupChat.unnamed": "in a group chat",
        "bot.ext.place.meeting": "in the meeting “{name}”",
        "bot.ext.place.meeting.unnamed": "in a meeting",
        "bot.ext.place.personal": "in a chat",
        "bot.ext.link": "Message link: {url}",
        "bot.ext.cut": "[…] (message cut short)",
        "bot.ext.notice.empty": (
            "The message has no text: describe the problem in the fields below."
        ),
        "bot.ext.notice.long": (
            "The message is long: its text was cut to fit the description (5,000 characters)."
        ),
        "bot.ext.no_message": "Use this action from a message's “…” menu.",
        "bot.ext.created": (
            "Ticket #{id} “{title}” opened. Its card and the support team's replies arrive in "
            "your chat with the {app} app."
        ),
        "bot.ext.created.no_chat": (
            "Ticket #{id} “{title}” opened. To get the replies in Teams, add the {app} app: in "
            "Apps, search for “{app}” and select Add. Meanwhile, follow the ticket on the web "
            "page: {url}"
        ),
    }
)
