"""Strings of the web area in pt-BR (default) and English, locale choice and date formatting."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Literal

Locale = Literal["pt-BR", "en"]
LOCALES: Final[tuple[Locale, ...]] = ("pt-BR", "en")
DEFAULT_LOCALE: Final[Locale] = "pt-BR"

_PT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "app.name": "Chamados",
        "app.tagline": "Abra e acompanhe seus chamados do suporte.",
        "nav.tickets": "Meus chamados",
        "nav.new": "Novo chamado",
        "nav.profile": "Perfil",
        "nav.logout": "Sair",
        "nav.login": "Entrar",
        "nav.signup": "Criar conta",
        "nav.skip": "Pular para o conteúdo",
        "nav.main": "Navegação principal",
        "footer.privacy": "Privacidade",
        "footer.terms": "Termos de uso",
        "footer.language": "Idioma",
        "footer.apply": "Aplicar",
        "locale.pt-BR": "Português (Brasil)",
        "locale.en": "English",
        # accounts
        "login.title": "Entrar",
        "login.subtitle": "Use seu e-mail e senha ou sua conta Microsoft.",
        "login.submit": "Entrar",
        "login.no_account": "Ainda não tem conta?",
        "login.microsoft": "Entrar com Microsoft",
        "login.or": "ou",
        "login.failed": "E-mail ou senha incorretos.",
        "login.throttled": (
            "Muitas tentativas de entrada. Aguarde alguns minutos e tente de novo."
        ),
        "login.microsoft_failed": "Não foi possível entrar com a Microsoft. Tente de novo.",
        "login.continue": "Continuar",
        "signup.title": "Criar conta",
        "signup.subtitle": "Leva menos de um minuto.",
        "signup.submit": "Criar conta",
        "signup.have_account": "Já tem conta?",
        "field.name": "Nome",
        "field.email": "E-mail",
        "field.password": "Senha",
        "field.password.hint": "Pelo menos 10 caracteres.",
        "err.name.required": "Informe seu nome.",
        "err.name.too_long": "Use no máximo 200 caracteres.",
        "err.email.required": "Informe seu e-mail.",
        "err.email.invalid_email": "Informe um e-mail válido, como nome@empresa.com.",
        "err.email.taken": "Já existe uma conta com este e-mail. Entre com ela.",
        "err.password.required": "Informe uma senha.",
        "err.password.too_short": "A senha precisa ter pelo menos 10 caracteres.",
        "err.password.too_long": "A senha pode ter no máximo 1.024 caracteres.",
        "err.password.weak": "Escolha uma senha que não repita um só caractere.",
        "form.fix_errors": "Corrija os campos destacados e envie de novo.",
        # ticket list
        "list.title": "Meus chamados",
        "list.filter": "Filtrar chamados",
        "list.filter.open": "Abertos",
        "list.filter.resolved": "Resolvidos",
        "list.filter.all": "Todos",
        "list.empty.title": "Nenhum chamado por aqui.",
        "list.empty.body": (
            "Quando precisar do suporte, abra um chamado e acompanhe por esta página."
        ),
        "list.assignee": "Responsável",
        "list.unassigned": "Aguardando atendente",
        "list.last_activity": "Última atividade",
        "list.count": "{count} chamado(s)",
        "list.prev": "Anterior",
        "list.next": "Próxima",
        "list.page": "Página {page} de {pages}",
        # ticket form
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
        "form.for_other.label": "Este chamado é para outra pessoa",
        "form.for_other.hint": "Informe o nome e o e-mail de quem vai receber o atendimento.",
        "form.beneficiary_name.label": "Nome da pessoa",
        "form.beneficiary_email.label": "E-mail da pessoa",
        "form.submit": "Enviar chamado",
        "form.cancel": "Cancelar",
        "form.optional": "opcional",
        "err.title.required": "Informe um título.",
        "err.title.too_short": "O título precisa ter pelo menos 3 caracteres.",
        "err.title.too_long": "O título pode ter no máximo 120 caracteres.",
        "err.description.too_long": "A descrição pode ter no máximo 5.000 caracteres.",
        "err.complexity.required": "Escolha a complexidade.",
        "err.complexity.invalid_choice": "Escolha uma complexidade da lista.",
        "err.sector.required": "Escolha o setor.",
        "err.sector.invalid_choice": "Escolha um setor da lista.",
        "err.beneficiary_name.required": "Informe o nome da pessoa.",
        "err.beneficiary_name.too_long": "Use no máximo 200 caracteres.",
        "err.beneficiary_email.required": "Informe o e-mail da pessoa.",
        "err.beneficiary_email.invalid_email": "Informe um e-mail válido, como nome@empresa.com.",
        "err.content.required": "Escreva uma mensagem.",
        "err.content.too_long": "A mensagem pode ter no máximo 10.000 caracteres.",
        "err.helpdesk_unavailable": (
            "O sistema de suporte não respondeu agora. Nada foi perdido: "
            "seus dados continuam no formulário, tente enviar de novo em instantes."
        ),
        "err.helpdesk_rejected": "O sistema de suporte recusou o pedido: {reason}",
        # ticket page
        "ticket.back": "Voltar aos chamados",
        "ticket.number": "Chamado nº {id}",
        "ticket.opened_at": "Aberto em {when}",
        "ticket.sector": "Setor",
        "ticket.complexity": "Complexidade",
        "ticket.for": "Para",
        "ticket.assignee": "Responsável",
        "ticket.conversation": "Conversa",
        "ticket.composer.label": "Sua mensagem",
        "ticket.composer.placeholder": "Escreva uma mensagem para o suporte…",
        "ticket.composer.send": "Enviar",
        "ticket.composer.hint": "Enter envia · Shift+Enter quebra a linha",
        "ticket.composer.sending": "Enviando…",
        "ticket.composer.failed": "Não foi possível enviar. Tente de novo.",
        "ticket.resolved_note": "Este chamado foi resolvido. Responder reabre o chamado.",
        "ticket.live.connecting": "Conectando…",
        "ticket.live.online": "Atualizações ao vivo",
        "ticket.live.offline": "Sem conexão — tentando de novo…",
        "ticket.you": "Você",
        "ticket.agent": "Suporte",
        "ticket.typing": "{name} está digitando…",
        # statuses
        "status.open": "Aberto",
        "status.pending": "Aguardando",
        "status.resolved": "Resolvido",
        "status.snoozed": "Adiado",
        # timeline lines
        "event.assigned": "{assignee} assumiu o chamado",
        "event.unassigned": "O chamado está sem responsável",
        "event.resolved": "Chamado resolvido",
        "event.reopened": "Chamado reaberto",
        "event.opened": "Chamado aberto",
        "event.pending": "Chamado aguardando retorno",
        "event.snoozed": "Chamado adiado",
        "event.updated": "Os detalhes do chamado foram atualizados",
        "event.other": "O chamado foi atualizado",
        # profile
        "profile.title": "Perfil",
        "profile.account": "Sua conta",
        "profile.language": "Idioma das páginas",
        "profile.save": "Salvar",
        "profile.saved": "Preferências salvas.",
        "profile.microsoft": "Conta Microsoft",
        "profile.microsoft.linked": "Sua conta está ligada à Microsoft.",
        "profile.microsoft.not_linked": (
            "Ligue sua conta Microsoft para entrar com ela e ver aqui os chamados abertos "
            "pelo Teams."
        ),
        "profile.microsoft.link": "Ligar conta Microsoft",
        "profile.microsoft.done": "Conta Microsoft ligada.",
        "profile.microsoft.taken": "Esta conta Microsoft já está ligada a outro usuário.",
        "profile.microsoft.other": "Sua conta já está ligada a outra conta Microsoft.",
        # static pages
        "privacy.title": "Privacidade",
        "privacy.body": (
            "Guardamos apenas o necessário para atender seus chamados: nome, e-mail, as mensagens "
            "dos chamados e, se você entrar pela Microsoft ou pelo Teams, o identificador da sua "
            "conta. As mensagens são enviadas à equipe de suporte pelo sistema de atendimento da "
            "empresa. Sessões expiram sozinhas; ao sair, a sessão é encerrada no servidor."
        ),
        "terms.title": "Termos de uso",
        "terms.body": (
            "Este serviço é para pedidos de suporte internos. Não compartilhe senhas nem dados "
            "sensíveis nas mensagens. A equipe de suporte pode fechar chamados sem resposta; "
            "responder um chamado resolvido o reabre."
        ),
        # errors
        "error.title": "Algo deu errado",
        "error.400": "O pedido veio incompleto ou malformado.",
        "error.401": "Entre para continuar.",
        "error.403": "Acesso negado. Recarregue a página e tente de novo.",
        "error.404": "Não encontramos esta página.",
        "error.405": "Esta ação não é permitida aqui.",
        "error.413": "O conteúdo enviado é grande demais.",
        "error.429": "Muitas tentativas. Aguarde alguns minutos e tente de novo.",
        "error.500": "Tivemos um problema do nosso lado. Tente de novo em instantes.",
        "error.503": "O serviço está indisponível no momento. Tente de novo em instantes.",
        "error.id": "Código do erro: {id}",
        "error.home": "Ir para o início",
    }
)

_EN: Final[Mapping[str, str]] = MappingProxyType(
    {
        "app.name": "Tickets",
        "app.tagline": "Open and follow your helpdesk tickets.",
        "nav.tickets": "My tickets",
        "nav.new": "New ticket",
        "nav.profile": "Profile",
        "nav.logout": "Sign out",
        "nav.login": "Sign in",
        "nav.signup": "Create account",
        "nav.skip": "Skip to content",
        "nav.main": "Main navigation",
        "footer.privacy": "Privacy",
        "footer.terms": "Terms of use",
        "footer.language": "Language",
        "footer.apply": "Apply",
        "locale.pt-BR": "Português (Brasil)",
        "locale.en": "English",
        "login.title": "Sign in",
        "login.subtitle": "Use your e-mail and password or your Microsoft account.",
        "login.submit": "Sign in",
        "login.no_account": "No account yet?",
        "login.microsoft": "Sign in with Microsoft",
        "login.or": "or",
        "login.failed": "Wrong e-mail or password.",
        "login.throttled": "Too many sign-in attempts. Wait a few minutes and try again.",
        "login.microsoft_failed": "Signing in with Microsoft did not work. Please try again.",
        "login.continue": "Continue",
        "signup.title": "Create account",
        "signup.subtitle": "It takes less than a minute.",
        "signup.submit": "Create account",
        "signup.have_account": "Already have an account?",
        "field.name": "Name",
        "field.email": "E-mail",
        "field.password": "Password",
        "field.password.hint": "At least 10 characters.",
        "err.name.required": "Enter your name.",
        "err.name.too_long": "Use at most 200 characters.",
        "err.email.required": "Enter your e-mail.",
        "err.email.invalid_email": "Enter a valid e-mail, like name@company.com.",
        "err.email.taken": "An account with this e-mail already exists. Sign in instead.",
        "err.password.required": "Enter a password.",
        "err.password.too_short": "The password needs at least 10 characters.",
        "err.password.too_long": "The password can have at most 1,024 characters.",
        "err.password.weak": "Choose a password that is not one character repeated.",
        "form.fix_errors": "Fix the highlighted fields and send again.",
        "list.title": "My tickets",
        "list.filter": "Filter tickets",
        "list.filter.open": "Open",
        "list.filter.resolved": "Resolved",
        "list.filter.all": "All",
        "list.empty.title": "No tickets here.",
        "list.empty.body": "When you need support, open a ticket and follow it on this page.",
        "list.assignee": "Assignee",
        "list.unassigned": "Waiting for an agent",
        "list.last_activity": "Last activity",
        "list.count": "{count} ticket(s)",
        "list.prev": "Previous",
        "list.next": "Next",
        "list.page": "Page {page} of {pages}",
        "form.title": "New ticket",
        "form.subtitle": "Describe the problem. The support team answers here.",
        "form.title.label": "Title",
        "form.title.placeholder": "E.g.: 2nd floor printer does not print",
        "form.description.label": "Description",
        "form.description.placeholder": "What happened, since when, what you already tried…",
        "form.complexity.label": "Complexity",
        "form.complexity.placeholder": "Choose the complexity",
        "form.sector.label": "Sector",
        "form.sector.placeholder": "Choose the sector",
        "form.for_other.label": "This ticket is for someone else",
        "form.for_other.hint": "Give the name and e-mail of the person who needs the help.",
        "form.beneficiary_name.label": "Their name",
        "form.beneficiary_email.label": "Their e-mail",
        "form.submit": "Submit ticket",
        "form.cancel": "Cancel",
        "form.optional": "optional",
        "err.title.required": "Enter a title.",
        "err.title.too_short": "The title needs at least 3 characters.",
        "err.title.too_long": "The title can have at most 120 characters.",
        "err.description.too_long": "The description can have at most 5,000 characters.",
        "err.complexity.required": "Choose the complexity.",
        "err.complexity.invalid_choice": "Choose a complexity from the list.",
        "err.sector.required": "Choose the sector.",
        "err.sector.invalid_choice": "Choose a sector from the list.",
        "err.beneficiary_name.required": "Enter their name.",
        "err.beneficiary_name.too_long": "Use at most 200 characters.",
        "err.beneficiary_email.required": "Enter their e-mail.",
        "err.beneficiary_email.invalid_email": "Enter a valid e-mail, like name@company.com.",
        "err.content.required": "Write a message.",
        "err.content.too_long": "A message can have at most 10,000 characters.",
        "err.helpdesk_unavailable": (
            "The helpdesk did not answer just now. Nothing was lost: your input is still in the "
            "form, try sending again in a moment."
        ),
        "err.helpdesk_rejected": "The helpdesk refused the request: {reason}",
        "ticket.back": "Back to tickets",
        "ticket.number": "Ticket #{id}",
        "ticket.opened_at": "Opened {when}",
        "ticket.sector": "Sector",
        "ticket.complexity": "Complexity",
        "ticket.for": "For",
        "ticket.assignee": "Assignee",
        "ticket.conversation": "Conversation",
        "ticket.composer.label": "Your message",
        "ticket.composer.placeholder": "Write a message to support…",
        "ticket.composer.send": "Send",
        "ticket.composer.hint": "Enter sends · Shift+Enter adds a line",
        "ticket.composer.sending": "Sending…",
        "ticket.composer.failed": "Could not send. Please try again.",
        "ticket.resolved_note": "This ticket is resolved. Replying reopens it.",
        "ticket.live.connecting": "Connecting…",
        "ticket.live.online": "Live updates",
        "ticket.live.offline": "Offline — retrying…",
        "ticket.you": "You",
        "ticket.agent": "Support",
        "ticket.typing": "{name} is typing…",
        "status.open": "Open",
        "status.pending": "Pending",
        "status.resolved": "Resolved",
        "status.snoozed": "Snoozed",
        "event.assigned": "{assignee} took the ticket",
        "event.unassigned": "The ticket has no assignee",
        "event.resolved": "Ticket resolved",
        "event.reopened": "Ticket reopened",
        "event.opened": "Ticket opened",
        "event.pending": "Ticket waiting for a reply",
        "event.snoozed": "Ticket snoozed",
        "event.updated": "The ticket details were updated",
        "event.other": "The ticket was updated",
        "profile.title": "Profile",
        "profile.account": "Your account",
        "profile.language": "Page language",
        "profile.save": "Save",
        "profile.saved": "Preferences saved.",
        "profile.microsoft": "Microsoft account",
        "profile.microsoft.linked": "Your account is linked to Microsoft.",
        "profile.microsoft.not_linked": (
            "Link your Microsoft account to sign in with it and see tickets opened from Teams here."
        ),
        "profile.microsoft.link": "Link Microsoft account",
        "profile.microsoft.done": "Microsoft account linked.",
        "profile.microsoft.taken": "This Microsoft account is already linked to another user.",
        "profile.microsoft.other": "Your account is already linked to another Microsoft account.",
        "privacy.title": "Privacy",
        "privacy.body": (
            "We keep only what is needed to handle your tickets: name, e-mail, the ticket "
            "messages and, if you sign in with Microsoft or Teams, your account identifier. "
            "Messages go to the support team through the company's helpdesk. Sessions expire on "
            "their own; signing out ends the session on the server."
        ),
        "terms.title": "Terms of use",
        "terms.body": (
            "This service is for internal support requests. Do not share passwords or sensitive "
            "data in messages. Support may close tickets left unanswered; replying to a resolved "
            "ticket reopens it."
        ),
        "error.title": "Something went wrong",
        "error.400": "The request was incomplete or malformed.",
        "error.401": "Sign in to continue.",
        "error.403": "Access denied. Reload the page and try again.",
        "error.404": "We could not find this page.",
        "error.405": "This action is not allowed here.",
        "error.413": "What you sent is too large.",
        "error.429": "Too many attempts. Wait a few minutes and try again.",
        "error.500": "Something failed on our side. Please try again in a moment.",
        "error.503": "The service is unavailable right now. Please try again in a moment.",
        "error.id": "Error code: {id}",
        "error.home": "Go to the start page",
    }
)

CATALOGS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({"pt-BR": _PT, "en": _EN})

_MONTHS_PT: Final = (
    "jan",
    "fev",
    "mar",
    "abr",
    "mai",
    "jun",
    "jul",
    "ago",
    "set",
    "out",
    "nov",
    "dez",
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


def normalize_locale(value: str | None) -> Locale | None:
    """Map a language tag (pt, pt-br, en-US, ...) to a supported locale, or None."""
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    if tag.startswith("pt"):
        return "pt-BR"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(accept_language: str | None, default: Locale = DEFAULT_LOCALE) -> Locale:
    """Pick the best supported locale of an Accept-Language header, else `default`."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        locale = normalize_locale(tag)
        if locale is not None and weight > 0:
            ranked.append((-weight, position, locale))
    return min(ranked)[2] if ranked else default


def choose_locale(
    user_locale: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE
) -> Locale:
    """Use the user's setting, else the browser's Accept-Language, else the default."""
    fallback = normalize_locale(default) or DEFAULT_LOCALE
    return normalize_locale(user_locale) or negotiate(accept_language, fallback)


def t(locale: str, key: str, **values: Any) -> str:
    """Translate `key`, falling back to pt-BR, then to the key itself (a visible miss)."""
    catalog = CATALOGS.get(locale, _PT)
    text = catalog.get(key) or _PT.get(key) or key
    return text.format(**values) if values else text


def status_label(locale: str, status: str) -> str:
    """Name a ticket status for people."""
    return t(locale, f"status.{status}") if f"status.{status}" in _PT else status


def event_line(locale: str, kind: str, data: Mapping[str, Any]) -> str:
    """Render a timeline event (assigned, resolved, ...) as one sentence."""
    key = f"event.{kind}" if f"event.{kind}" in _PT else "event.other"
    assignee = str(data.get("assignee") or "")
    return t(locale, key, assignee=assignee) if kind == "assigned" else t(locale, key)


def format_datetime(value: datetime, locale: str) -> str:
    """Format a moment as a person of `locale` writes it (UTC; the page shows local time)."""
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if locale == "en":
        hour = moment.hour % 12 or 12
        suffix = "AM" if moment.hour < 12 else "PM"
        month = _MONTHS_EN[moment.month - 1]
        return f"{month} {moment.day}, {moment.year}, {hour}:{moment.minute:02d} {suffix} UTC"
    month = _MONTHS_PT[moment.month - 1]
    return f"{moment.day:02d} {month} {moment.year}, {moment.hour:02d}:{moment.minute:02d} UTC"


def client_catalog(locale: str) -> dict[str, str]:
    """Return the strings the page scripts need (timeline lines, statuses, live state)."""
    prefixes = ("event.", "status.", "ticket.", "err.content.", "list.unassigned")
    return {key: t(locale, key) for key in _PT if key.startswith(prefixes)}
