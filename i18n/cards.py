"""Strings of the Adaptive Cards (keys under ``card.``), pt-BR and en."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

PT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "card.welcome.title": "Olá! Eu abro e acompanho seus chamados do suporte.",
        "card.welcome.body": (
            "Abra um chamado aqui mesmo no Teams. As respostas da equipe de suporte chegam "
            "nesta conversa e você pode responder direto no cartão."
        ),
        "card.help.title": "Como posso ajudar",
        "card.help.body": "Use os botões abaixo ou digite um destes comandos:",
        "card.help.cmd.new": "abre o formulário de um novo chamado",
        "card.help.cmd.list": "mostra os seus chamados",
        "card.help.cmd.help": "mostra esta ajuda",
        "card.help.footer": "Você também acompanha os chamados pela página web.",
        "card.help.web": "Você também acompanha os chamados pela página web: {url}",
        "card.help.web.microsoft": (
            "Quem usa só o Teams entra lá com a mesma conta Microsoft, sem criar senha."
        ),
        "card.help.web.signup": (
            "Para entrar lá pela primeira vez, use Criar conta com o seu e-mail de trabalho."
        ),
        "card.help.web.open": "Abrir a página web",
        "card.help.cmd.search": "procura artigos da central de ajuda sobre o texto",
        "card.suggest.title": "Talvez isto resolva",
        "card.suggest.body": "Antes de abrir o chamado, veja estes artigos da central de ajuda.",
        "card.suggest.kept": "Guardei tudo o que você preencheu no formulário.",
        "card.suggest.open": "Abrir artigo",
        "card.suggest.solved": "Isso resolveu",
        "card.suggest.open_anyway": "Abrir o chamado mesmo assim",
        "card.suggest.search.title": "Artigos sobre “{query}”",
        "card.suggest.search.none": "Não encontrei artigos sobre “{query}”.",
        "card.suggest.search.none_hint": (
            "Se precisar, abra um chamado e a equipe de suporte ajuda."
        ),
        "card.suggest.done.title": "Que bom que resolveu!",
        "card.suggest.done.body": "Nenhum chamado foi aberto. Se precisar, é só chamar.",
        "card.action.new": "Abrir chamado",
        "card.action.list": "Meus chamados",
        "card.action.create": "Enviar chamado",
        "card.action.open": "Ver",
        "card.action.send": "Enviar",
        "card.action.refresh": "Atualizar",
        "card.action.reopen": "Reabrir",
        "card.action.prev": "\u2039 Anterior",
        "card.action.next": "Próxima \u203a",
        "card.action.view": "Ver chamado",
        "card.form.title.placeholder": "Ex.: Impressora do 2º andar não imprime",
        "card.form.for_other.heading": "Para outra pessoa",
        "card.form.for_other.show": "Abrir para outra pessoa",
        "card.form.for_other.hint": (
            "Se marcar, informe o nome e o e-mail de quem vai receber o atendimento."
        ),
        "card.form.beneficiary_email.placeholder": "nome@empresa.com",
        "card.form.fix_errors": "Corrija os campos destacados e envie de novo.",
        "card.extension.title": "Abrir chamado a partir da mensagem",
        "card.extension.subtitle": (
            "Confira os campos. As respostas do suporte chegam no seu chat pessoal com o app."
        ),
        "card.err.title.required": "Informe um título.",
        "card.err.title.length": "O título deve ter de 3 a 120 caracteres.",
        "card.err.description.required": "Descreva o problema.",
        "card.err.description.too_long": "A descrição pode ter no máximo 5.000 caracteres.",
        "card.err.complexity.required": "Escolha a complexidade.",
        "card.err.sector.required": "Escolha o setor.",
        "card.err.beneficiary_name.required": "Informe o nome da pessoa.",
        "card.err.beneficiary_email.required": "Informe o e-mail da pessoa.",
        "card.err.beneficiary_email.invalid_email": (
            "Informe um e-mail válido, como nome@empresa.com."
        ),
        "card.err.reply.required": "Escreva uma mensagem.",
        "card.err.required": "Campo obrigatório.",
        "card.err.too_short": "Texto curto demais.",
        "card.err.too_long": "Texto longo demais.",
        "card.err.invalid_choice": "Escolha uma das opções da lista.",
        "card.err.invalid_email": "Informe um e-mail válido.",
        "card.err.invalid": "Valor inválido.",
        "card.history.title": "Meus chamados",
        "card.history.page": "Página {page} de {pages}",
        "card.history.empty": "Você ainda não abriu nenhum chamado.",
        "card.history.empty.hint": "Quando abrir um, ele aparece aqui com o status atualizado.",
        "card.history.updated": "Atualizado em {date}",
        "card.history.unread.one": "1 nova",
        "card.choose.title": "Para qual chamado é esta mensagem?",
        "card.choose.hint": (
            "Você tem mais de um chamado aberto. Escolha onde enviar; dá para ajustar o texto "
            "antes."
        ),
        "card.choose.message": "Sua mensagem",
        "card.choose.send": "Enviar aqui",
        "card.choose.new": "Novo chamado com esta mensagem",
        "card.history.unread.other": "{count} novas",
        "card.ticket.number": "Chamado #{id}",
        "card.ticket.unassigned": "Aguardando atendente",
        "card.message.deleted": "(mensagem apagada)",
        "card.ticket.beneficiary": "Para",
        "card.ticket.created": "Aberto em",
        "card.ticket.updated": "Atualizado em",
        "card.ticket.messages": "Mensagens",
        "card.ticket.messages.latest": "As {shown} mensagens mais recentes de {total}",
        "card.ticket.no_messages": "Nenhuma mensagem ainda.",
        "card.ticket.reply.label": "Sua resposta",
        "card.ticket.reply.placeholder": "Escreva uma mensagem para o suporte",
        "card.ticket.resolved.hint": "Este chamado foi resolvido. Se o problema voltou, reabra-o.",
        "card.message.truncated": "[mensagem cortada; veja a íntegra na página web]",
        "card.reply.title": "Nova resposta no chamado #{id}",
        "card.reply.from": "{agent} respondeu",
        "card.summary.below": "A conversa deste chamado continua no cartão mais recente, abaixo.",
        "card.error.id": "Código do erro: {error_id}",
        "card.error.hint": "Se o problema continuar, envie este código ao suporte.",
        "card.line.resolved": "✅ Chamado #{id} “{title}” foi resolvido.",
        "card.line.resolved.by": "✅ Chamado #{id} “{title}” foi resolvido por {agent}.",
        "card.line.reopened": "🔄 Chamado #{id} “{title}” foi reaberto.",
        "card.line.pending": "⏳ Chamado #{id} “{title}” está pendente.",
        "card.line.snoozed": "💤 Chamado #{id} “{title}” foi adiado.",
        "card.line.open": "📬 Chamado #{id} “{title}” está aberto.",
        "card.line.assigned": "👤 {agent} assumiu o chamado #{id} “{title}”.",
        "card.line.unassigned": "👤 O chamado #{id} “{title}” está aguardando um atendente.",
        "card.line.created": (
            "📨 Chamado #{id} “{title}” aberto. Avisaremos aqui quando houver resposta."
        ),
        "card.fallback": "Este cartão precisa de uma versão mais nova do Teams.",
    }
)

EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "card.welcome.title": "Hi! I open and follow your helpdesk tickets.",
        "card.welcome.body": (
            "Open a ticket right here in Teams. Replies from the support team arrive in "
            "this chat and you can answer them straight from the card."
        ),
        "card.help.title": "How I can help",
        "card.help.body": "Use the buttons below or type one of these commands:",
        "card.help.cmd.new": "opens the form for a new ticket",
        "card.help.cmd.list": "shows your tickets",
        "card.help.cmd.help": "shows this help",
        "card.help.footer": "You can also follow your tickets on the web page.",
        "card.help.web": "You can also follow your tickets on the web page: {url}",
        "card.help.web.microsoft": (
            "If you only use Teams, sign in there with the same Microsoft account, no password."
        ),
        "card.help.web.signup": (
            "To get in the first time, use Sign up there with your work e-mail."
        ),
        "card.help.web.open": "Open the web page",
        "card.help.cmd.search": "searches the Help Center for articles about the text",
        "card.suggest.title": "This might solve it",
        "card.suggest.body": "Before opening the ticket, look at these Help Center articles.",
        "card.suggest.kept": "I kept everything you filled in on the form.",
        "card.suggest.open": "Open article",
        "card.suggest.solved": "That solved it",
        "card.suggest.open_anyway": "Open the ticket anyway",
        "card.suggest.search.title": "Articles about “{query}”",
        "card.suggest.search.none": "I found no articles about “{query}”.",
        "card.suggest.search.none_hint": (
            "If you need to, open a ticket and the helpdesk will help."
        ),
        "card.suggest.done.title": "Glad that solved it!",
        "card.suggest.done.body": "No ticket was opened. Just call if you need anything.",
        "card.action.new": "New ticket",
        "card.action.list": "My tickets",
        "card.action.create": "Submit ticket",
        "card.action.open": "View",
        "card.action.send": "Send",
        "card.action.refresh": "Refresh",
        "card.action.reopen": "Reopen",
        "card.action.prev": "\u2039 Previous",
        "card.action.next": "Next \u203a",
        "card.action.view": "View ticket",
        "card.form.title.placeholder": "E.g. 2nd floor printer does not print",
        "card.form.for_other.heading": "For someone else",
        "card.form.for_other.show": "Open it for someone else",
        "card.form.for_other.hint": (
            "If ticked, enter the name and e-mail of the person to be helped."
        ),
        "card.form.beneficiary_email.placeholder": "name@company.com",
        "card.form.fix_errors": "Fix the highlighted fields and submit again.",
        "card.extension.title": "Open a ticket from this message",
        "card.extension.subtitle": (
            "Check the fields. Replies from support arrive in your personal chat with the app."
        ),
        "card.err.title.required": "Enter a title.",
        "card.err.title.length": "The title must be 3 to 120 characters long.",
        "card.err.description.required": "Describe the problem.",
        "card.err.description.too_long": "The description can be at most 5,000 characters long.",
        "card.err.complexity.required": "Choose the complexity.",
        "card.err.sector.required": "Choose the sector.",
        "card.err.beneficiary_name.required": "Enter the person's name.",
        "card.err.beneficiary_email.required": "Enter the person's e-mail.",
        "card.err.beneficiary_email.invalid_email": "Enter a valid e-mail, like name@company.com.",
        "card.err.reply.required": "Write a message.",
        "card.err.required": "This field is required.",
        "card.err.too_short": "Too short.",
        "card.err.too_long": "Too long.",
        "card.err.invalid_choice": "Pick one of the listed options.",
        "card.err.invalid_email": "Enter a valid e-mail.",
        "card.err.invalid": "Invalid value.",
        "card.history.title": "My tickets",
        "card.history.page": "Page {page} of {pages}",
        "card.history.empty": "You have not opened any tickets yet.",
        "card.history.empty.hint": "Once you open one, it shows up here with its current status.",
        "card.history.updated": "Updated {date}",
        "card.history.unread.one": "1 new",
        "card.choose.title": "Which ticket is this message for?",
        "card.choose.hint": (
            "You have more than one open ticket. Choose where to send it; you can edit the text "
            "first."
        ),
        "card.choose.message": "Your message",
        "card.choose.send": "Send here",
        "card.choose.new": "New ticket with this message",
        "card.history.unread.other": "{count} new",
        "card.ticket.number": "Ticket #{id}",
        "card.ticket.unassigned": "Waiting for an agent",
        "card.message.deleted": "(message deleted)",
        "card.ticket.beneficiary": "For",
        "card.ticket.created": "Opened",
        "card.ticket.updated": "Updated",
        "card.ticket.messages": "Messages",
        "card.ticket.messages.latest": "Latest {shown} of {total} messages",
        "card.ticket.no_messages": "No messages yet.",
        "card.ticket.reply.label": "Your reply",
        "card.ticket.reply.placeholder": "Write a message to support",
        "card.ticket.resolved.hint": "This ticket was resolved. If the problem is back, reopen it.",
        "card.message.truncated": "[message cut short; read it in full on the web page]",
        "card.reply.title": "New reply on ticket #{id}",
        "card.reply.from": "{agent} replied",
        "card.summary.below": "This ticket's conversation continues on the newest card below.",
        "card.error.id": "Error id: {error_id}",
        "card.error.hint": "If it keeps happening, send this id to support.",
        "card.line.resolved": "✅ Ticket #{id} “{title}” was resolved.",
        "card.line.resolved.by": "✅ Ticket #{id} “{title}” was resolved by {agent}.",
        "card.line.reopened": "🔄 Ticket #{id} “{title}” was reopened.",
        "card.line.pending": "⏳ Ticket #{id} “{title}” is pending.",
        "card.line.snoozed": "💤 Ticket #{id} “{title}” was snoozed.",
        "card.line.open": "📬 Ticket #{id} “{title}” is open.",
        "card.line.assigned": "👤 {agent} took ticket #{id} “{title}”.",
        "card.line.unassigned": "👤 Ticket #{id} “{title}” is waiting for an agent.",
        "card.line.created": "📨 Ticket #{id} “{title}” opened. You will hear from us here.",
        "card.fallback": "This card needs a newer version of Teams.",
    }
)
