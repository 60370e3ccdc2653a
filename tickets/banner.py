"""The lines `tickets serve` prints once it listens: where to go next, in pt-BR and English."""

from __future__ import annotations

from tickets.entropy import mask
from tickets.settings import Settings


def redact(url: str) -> str:
    """Drop the password from a database URL."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def _mail(settings: Settings, mailbox: bool) -> str:
    """Say where account e-mail goes (the local mailbox, a server, or nowhere yet)."""
    smtp = settings.smtp
    if smtp is None:
        return "SMTP_URL unset: account e-mail waits in the outbox"
    if mailbox:
        return f"{settings.CHATWOOT_BASE_URL}/sandbox/mail  (local mailbox, {smtp.display})"
    return smtp.display


def banner(
    settings: Settings, local: str, *, sandbox: bool | None = None, mailbox: bool = False
) -> str:
    """Render the start-up banner: web page, agent console, bot endpoint, Playground hint."""
    # Once the sandbox runs, the settings name its URL: the caller says whether it is ours.
    sandbox = settings.sandbox_mode if sandbox is None else sandbox
    if sandbox:
        helpdesk = ("console do agente / agent console", f"{settings.CHATWOOT_BASE_URL}/sandbox/")
    else:
        helpdesk = ("Chatwoot", settings.CHATWOOT_BASE_URL)
    # The banner lands in terminals and log collectors: name the setting, never its value.
    token = mask(settings.CHATWOOT_WEBHOOK_TOKEN.get_secret_value())
    hint = "" if sandbox else "  (token: your CHATWOOT_WEBHOOK_TOKEN)"
    rows = [
        ("página web / web page", f"{local}/"),
        helpdesk,
        ("endpoint do bot / bot endpoint", f"{local}/api/messages"),
        (
            "testar o bot / try the bot",
            "make playground  (Microsoft 365 Agents Playground; pare este / stop this one first)",
        ),
        ("webhook", f"{settings.base_url}/api/chatwoot/webhook?token={token}{hint}"),
        ("saúde / health", f"{local}/healthz  {local}/readyz"),
        ("banco / database", redact(settings.DATABASE_URL or "")),
        ("e-mail", _mail(settings, mailbox)),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"Tickets for Teams: {local}"]
    lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    lines.append("Ctrl+C para parar / to stop")
    return "\n".join(lines)
