"""Card strings for pt-BR (default) and en, date formatting and plain-text status lines.

Cards may not import the core's i18n, so this is their own small catalog. Every builder takes a
locale; anything that is not English falls back to pt-BR, the product's default.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import Final, Literal

Locale = Literal["pt-BR", "en"]

DEFAULT_LOCALE: Final[Locale] = "pt-BR"

_PT: Final = MappingProxyType(
    {
        "app.name": "Chamados",
        "welcome.title": "Olá! Eu abro e acompanho seus chamados do suporte.",
        "welcome.body": (
            "Abra um chamado aqui mesmo no Teams. As respostas da equipe de suporte chegam nesta "
            "conversa e você pode responder direto no cartão."
        ),
        "help.title": "Como posso ajudar",
        "help.body": "Use os botões abaixo ou digite um destes comandos:",
        "help.cmd.new": "abre o formulário de um novo chamado",
        "help.cmd.list": "mostra os seus chamados",
        "help.cmd.help": "mostra esta ajuda",
        "help.footer": "Você também acompanha os chamados pela página web.",
        "action.new": "Abrir chamado",
        "action.list": "Meus chamados",
        "action.create": "Enviar chamado",
        "action.open": "Ver",
        "action.send": "Enviar",
        "action.refresh": "Atualizar",
        "action.reopen": "Reabrir",
        "action.prev": "\u2039 Anterior",
        "action.next": "Próxima \u203a",
        "action.view": "Ver chamado",
        "form.title": "Novo chamado",
        "form.subtitle": "Descreva o problema. A equipe de suporte responde por aqui.",
        "form.title.label": "Título",
        "form.title.placeholder": "Ex.: Impressora do 2º andar não imprime",
        "form.description.label": "Descrição",
        "form.description.placeholder": "O que aconteceu, desde quando, o que você já tentou…",
        "form.complexity.label": "Complexidade",
        "form.complexity.placeholder": "Escolha a complexidade",
        "form.sector.label": "Setor",
        "form.sector.placeholder": "Escolha o setor",
        "form.for_other.heading": "Para outra pessoa",
        "form.for_other.label": "Este chamado é para outra pessoa",
        "form.for_other.hint": (
            "Se marcar, informe o nome e o e-mail de quem vai receber o atendimento."
        ),
        "form.beneficiary_name.label": "Nome da pessoa",
        "form.beneficiary_email.label": "E-mail da pessoa",
        "form.beneficiary_email.placeholder": "nome@empresa.com",
        "form.fix_errors": "Corrija os campos destacados e envie de novo.",
        "err.title.required": "Informe um título.",
        "err.title.length": "O título deve ter de 3 a 120 caracteres.",
        "err.description.required": "Descreva o problema.",
        "err.description.too_long": "A descrição pode ter no máximo 5.000 caracteres.",
        "err.complexity.required": "Escolha a complexidade.",
        "err.sector.required": "Escolha o setor.",
        "err.beneficiary_name.required": "Informe o nome da pessoa.",
        "err.beneficiary_email.required": "Informe o e-mail da pessoa.",
        "err.beneficiary_email.invalid_email": "Informe um e-mail válido, como nome@empresa.com.",
        "err.reply.required": "Escreva uma mensagem.",
        "err.required": "Campo obrigatório.",
        "err.too_short": "Texto curto demais.",
        "err.too_long": "Texto longo demais.",
        "err.invalid_choice": "Escolha uma das opções da lista.",
        "err.invalid_email": "Informe um e-mail válido.",
        "err.invalid": "Valor inválido.",
        "history.title": "Meus chamados",
        "history.page": "Página {page} de {pages}",
        "history.empty": "Você ainda não abriu nenhum chamado.",
        "history.empty.hint": "Quando abrir um, ele aparece aqui com o status atualizado.",
        "history.updated": "Atualizado em {date}",
        "ticket.number": "Chamado #{id}",
        "ticket.assignee": "Responsável",
        "ticket.unassigned": "Aguardando atendente",
        "ticket.sector": "Setor",
        "ticket.complexity": "Complexidade",
        "ticket.beneficiary": "Para",
        "ticket.created": "Aberto em",
        "ticket.updated": "Atualizado em",
        "ticket.messages": "Mensagens",
        "ticket.messages.latest": "As {shown} mensagens mais recentes de {total}",
        "ticket.no_messages": "Nenhuma mensagem ainda.",
        "ticket.reply.label": "Sua resposta",
        "ticket.reply.placeholder": "Escreva uma mensagem para o suporte",
        "ticket.resolved.hint": "Este chamado foi resolvido. Se o problema voltou, reabra-o.",
        "message.truncated": "[mensagem cortada; veja a íntegra na página web]",
        "reply.title": "Nova resposta no chamado #{id}",
        "reply.from": "{agent} respondeu",
        "error.title": "Algo deu errado",
        "error.id": "Código do erro: {error_id}",
        "error.hint": "Se o problema continuar, envie este código ao suporte.",
        "status.open": "Aberto",
        "status.pending": "Pendente",
        "status.resolved": "Resolvido",
        "status.snoozed": "Adiado",
        "line.resolved": "✅ Chamado #{id} “{title}” foi resolvido.",
        "line.resolved.by": "✅ Chamado #{id} “{title}” foi resolvido por {agent}.",
        "line.reopened": "🔄 Chamado #{id} “{title}” foi reaberto.",
        "line.pending": "⏳ Chamado #{id} “{title}” está pendente.",
        "line.snoozed": "💤 Chamado #{id} “{title}” foi adiado.",
        "line.open": "📬 Chamado #{id} “{title}” está aberto.",
        "line.assigned": "👤 {agent} assumiu o chamado #{id} “{title}”.",
        "line.unassigned": "👤 O chamado #{id} “{title}” está aguardando um atendente.",
        "line.created": (
            "📨 Chamado #{id} “{title}” aberto. Avisaremos aqui quando houver resposta."
        ),
        "fallback": "Este cartão precisa de uma versão mais nova do Teams.",
    }
)

_EN: Final = MappingProxyType(
    {
        "app.name": "Tickets",
        "welcome.title": "Hi! I open and follow your helpdesk tickets.",
        "welcome.body": (
            "Open a ticket right here in Teams. Replies from the support team arrive in this chat "
            "and you can answer them straight from the card."
        ),
        "help.title": "How I can help",
        "help.body": "Use the buttons below or type one of these commands:",
        "help.cmd.new": "opens the form for a new ticket",
        "help.cmd.list": "shows your tickets",
        "help.cmd.help": "shows this help",
        "help.footer": "You can also follow your tickets on the web page.",
        "action.new": "New ticket",
        "action.list": "My tickets",
        "action.create": "Submit ticket",
        "action.open": "View",
        "action.send": "Send",
        "action.refresh": "Refresh",
        "action.reopen": "Reopen",
        "action.prev": "\u2039 Previous",
        "action.next": "Next \u203a",
        "action.view": "View ticket",
        "form.title": "New ticket",
        "form.subtitle": "Describe the problem. The support team answers here.",
        "form.title.label": "Title",
        "form.title.placeholder": "E.g. 2nd floor printer does not print",
        "form.description.label": "Description",
        "form.description.placeholder": "What happened, since when, what you already tried…",
        "form.complexity.label": "Complexity",
        "form.complexity.placeholder": "Choose the complexity",
        "form.sector.label": "Sector",
        "form.sector.placeholder": "Choose the sector",
        "form.for_other.heading": "For someone else",
        "form.for_other.label": "This ticket is for someone else",
        "form.for_other.hint": "If ticked, enter the name and e-mail of the person to be helped.",
        "form.beneficiary_name.label": "Their name",
        "form.beneficiary_email.label": "Their e-mail",
        "form.beneficiary_email.placeholder": "name@company.com",
        "form.fix_errors": "Fix the highlighted fields and submit again.",
        "err.title.required": "Enter a title.",
        "err.title.length": "The title must be 3 to 120 characters long.",
        "err.description.required": "Describe the problem.",
        "err.description.too_long": "The description can be at most 5,000 characters long.",
        "err.complexity.required": "Choose the complexity.",
        "err.sector.required": "Choose the sector.",
        "err.beneficiary_name.required": "Enter the person's name.",
        "err.beneficiary_email.required": "Enter the person's e-mail.",
        "err.beneficiary_email.invalid_email": "Enter a valid e-mail, like name@company.com.",
        "err.reply.required": "Write a message.",
        "err.required": "This field is required.",
        "err.too_short": "Too short.",
        "err.too_long": "Too long.",
        "err.invalid_choice": "Pick one of the listed options.",
        "err.invalid_email": "Enter a valid e-mail.",
        "err.invalid": "Invalid value.",
        "history.title": "My tickets",
        "history.page": "Page {page} of {pages}",
        "history.empty": "You have not opened any tickets yet.",
        "history.empty.hint": "Once you open one, it shows up here with its current status.",
        "history.updated": "Updated {date}",
        "ticket.number": "Ticket #{id}",
        "ticket.assignee": "Assignee",
        "ticket.unassigned": "Waiting for an agent",
        "ticket.sector": "Sector",
        "ticket.complexity": "Complexity",
        "ticket.beneficiary": "For",
        "ticket.created": "Opened",
        "ticket.updated": "Updated",
        "ticket.messages": "Messages",
        "ticket.messages.latest": "Latest {shown} of {total} messages",
        "ticket.no_messages": "No messages yet.",
        "ticket.reply.label": "Your reply",
        "ticket.reply.placeholder": "Write a message to support",
        "ticket.resolved.hint": "This ticket was resolved. If the problem is back, reopen it.",
        "message.truncated": "[message cut short; read it in full on the web page]",
        "reply.title": "New reply on ticket #{id}",
        "reply.from": "{agent} replied",
        "error.title": "Something went wrong",
        "error.id": "Error id: {error_id}",
        "error.hint": "If it keeps happening, send this id to support.",
        "status.open": "Open",
        "status.pending": "Pending",
        "status.resolved": "Resolved",
        "status.snoozed": "Snoozed",
        "line.resolved": "✅ Ticket #{id} “{title}” was resolved.",
        "line.resolved.by": "✅ Ticket #{id} “{title}” was resolved by {agent}.",
        "line.reopened": "🔄 Ticket #{id} “{title}” was reopened.",
        "line.pending": "⏳ Ticket #{id} “{title}” is pending.",
        "line.snoozed": "💤 Ticket #{id} “{title}” was snoozed.",
        "line.open": "📬 Ticket #{id} “{title}” is open.",
        "line.assigned": "👤 {agent} took ticket #{id} “{title}”.",
        "line.unassigned": "👤 Ticket #{id} “{title}” is waiting for an agent.",
        "line.created": "📨 Ticket #{id} “{title}” opened. You will hear from us here.",
        "fallback": "This card needs a newer version of Teams.",
    }
)

_CATALOGS: Final = MappingProxyType({"pt-BR": _PT, "en": _EN})

# Text commands listed on the help card: (command word, catalog key of its description).
HELP_COMMANDS: Final = MappingProxyType(
    {
        "pt-BR": (
            ("novo", "help.cmd.new"),
            ("chamados", "help.cmd.list"),
            ("ajuda", "help.cmd.help"),
        ),
        "en": (("new", "help.cmd.new"), ("tickets", "help.cmd.list"), ("help", "help.cmd.help")),
    }
)

_MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

STATUSES: Final = frozenset({"open", "pending", "resolved", "snoozed"})


def normalize_locale(locale: str | None) -> Locale:
    """Map any locale tag (``en-US``, ``pt_br``, ``None``) onto a supported one."""
    if locale and locale.replace("_", "-").lower().split("-")[0] == "en":
        return "en"
    return DEFAULT_LOCALE


def t(key: str, locale: str | None, **values: object) -> str:
    """Return the catalog string ``key`` in ``locale``, formatted with ``values``."""
    template = _CATALOGS[normalize_locale(locale)][key]
    return template.format(**values) if values else template


def has_key(key: str) -> bool:
    """Tell whether the catalog knows ``key``."""
    return key in _PT


def format_datetime(moment: datetime, locale: str | None, tz: tzinfo = UTC) -> str:
    """Format an aware datetime for display in ``tz`` (UTC unless the caller knows the user's).

    pt-BR gives ``05/03/2025 14:07``; en gives ``Mar 5, 2025 2:07 PM``. A naive datetime is a
    programming error (we cannot know what clock it was read from), so it raises ``ValueError``.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("card datetimes must be timezone-aware")
    local = moment.astimezone(tz)
    if normalize_locale(locale) == "en":
        hour = local.hour % 12 or 12
        meridiem = "AM" if local.hour < 12 else "PM"
        month = _MONTHS_EN[local.month - 1]
        return f"{month} {local.day}, {local.year} {hour}:{local.minute:02d} {meridiem}"
    return local.strftime("%d/%m/%Y %H:%M")


def status_label(status: str, locale: str | None) -> str:
    """Return the display name of a Chatwoot conversation status."""
    key = f"status.{status}"
    return t(key, locale) if has_key(key) else status


def field_error(field: str, code: str, locale: str | None) -> str:
    """Translate a form error code (``required``, ``too_short``…) for ``field`` into a sentence.

    Field-specific wording wins; then the generic code; an unknown code reads as "invalid value"
    so an English code never leaks onto a pt-BR card.
    """
    if field == "title" and code in ("too_short", "too_long"):
        return t("err.title.length", locale)
    for key in (f"err.{field}.{code}", f"err.{code}"):
        if has_key(key):
            return t(key, locale)
    return t("err.invalid", locale)


def status_line(
    ticket_id: int,
    title: str,
    status: str,
    locale: str | None,
    *,
    agent: str | None = None,
    reopened: bool = False,
) -> str:
    """Return the one-line plain-text notice for a status change (resolved, reopened…).

    ``reopened`` picks the "reopened" wording for a move back to ``open``.
    """
    title = _one_line(title, 120)
    if status == "resolved" and agent:
        return t("line.resolved.by", locale, id=ticket_id, title=title, agent=_one_line(agent, 80))
    key = "line.reopened" if reopened and status == "open" else f"line.{status}"
    if not has_key(key):
        key = "line.open"
    return t(key, locale, id=ticket_id, title=title)


def assignment_line(ticket_id: int, title: str, agent: str | None, locale: str | None) -> str:
    """Return the one-line plain-text notice for an assignment change."""
    title = _one_line(title, 120)
    if agent:
        return t("line.assigned", locale, id=ticket_id, title=title, agent=_one_line(agent, 80))
    return t("line.unassigned", locale, id=ticket_id, title=title)


def created_line(ticket_id: int, title: str, locale: str | None) -> str:
    """Return the one-line plain-text confirmation sent after a ticket is opened."""
    return t("line.created", locale, id=ticket_id, title=_one_line(title, 120))


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
