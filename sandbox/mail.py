"""A local mail server (SMTP through aiosmtpd) and its mailbox, read at ``/sandbox/mail``.

It stands in for a real mail server when no ``SMTP_URL`` is set: every message it accepts is
kept in memory (the newest ``MAILBOX_SIZE``) and shown in the sandbox console, and
``GET /sandbox/api/mail`` lists them as JSON for tests and scripts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

MAILBOX_SIZE = 500
MAILBOX: web.AppKey[Mailbox] = web.AppKey("sandbox_mailbox")
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the mailbox shows it."""

    to: str
    subject: str
    text: str
    html: str
    received_at: datetime

    def as_json(self) -> dict[str, str]:
        """Render the message in the control API's shape."""
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "receivedAt": self.received_at.isoformat().replace("+00:00", "Z"),
        }


class Mailbox:
    """The messages the local mail server accepted, oldest first."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._arrived = asyncio.Condition()

    async def add(self, mail: ReceivedMail) -> None:
        """Keep a message (dropping the oldest past the size) and wake whoever waits."""
        async with self._arrived:
            self.messages.append(mail)
            del self.messages[:-MAILBOX_SIZE]
            self._arrived.notify_all()

    async def wait_for(self, found: Callable[[list[ReceivedMail]], bool]) -> list[ReceivedMail]:
        """Wait until `found` holds for the messages (wrap in a timeout); return them."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: found(self.messages))
            return list(self.messages)


def parse(raw: bytes, recipients: list[str]) -> ReceivedMail:
    """Read the headers and the plain-text and HTML parts of a received message."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return ReceivedMail(
        to=str(message.get("To") or ", ".join(recipients)),
        subject=str(message.get("Subject") or ""),
        text=_lines(text.get_content()) if text is not None else "",
        html=_lines(html.get_content()) if html is not None else "",
        received_at=datetime.now(UTC),
    )


def _lines(content: str) -> str:
    """Turn SMTP's CRLF line ends back into the newlines the sender wrote."""
    return content.replace("\r\n", "\n")


class _Handler:
    """aiosmtpd handler: accept every message into the mailbox."""

    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message; a message we cannot read is refused, not lost silently."""
        content = envelope.original_content or b""
        try:
            mail = parse(content, [str(rcpt) for rcpt in envelope.rcpt_tos])
        except (ValueError, LookupError, AssertionError):
            return "554 Message could not be parsed"
        await self._mailbox.add(mail)
        return "250 Message accepted for delivery"


class MailServer:
    """Serve SMTP on a real socket into a mailbox; ``url`` is what ``SMTP_URL`` takes."""

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox = mailbox or Mailbox()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; return ``smtp://host:port``."""
        loop = asyncio.get_running_loop()
        handler = _Handler(self.mailbox)
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="sandbox.localhost", loop=loop), host, port
        )
        bound = self._server.sockets[0].getsockname()[1]
        self.url = f"smtp://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def add_routes(app: web.Application, mailbox: Mailbox) -> None:
    """Serve the mailbox in the console and in the control API."""
    app[MAILBOX] = mailbox
    app.router.add_get("/sandbox/mail", mailbox_page)
    app.router.add_get("/sandbox/api/mail", mailbox_json)


async def mailbox_json(request: web.Request) -> web.Response:
    """List every message in the mailbox, oldest first."""
    return web.json_response([mail.as_json() for mail in request.app[MAILBOX].messages])


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1f2328}
header{background:#1f93ff;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center}
header h1{font-size:16px;margin:0}header a{color:#fff}main{padding:16px;display:grid;gap:16px}
.mail{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}
.mail h2{font-size:15px;margin:0 0 4px}.meta{color:#57606a;font-size:12px}
pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:6px}
iframe{width:100%;height:420px;border:1px solid #d0d7de;border-radius:6px;background:#fff}
.empty{color:#57606a}
"""


def _linked(text: str) -> str:
    """Escape a plain-text part and make its links clickable."""
    parts: list[str] = []
    last = 0
    for found in _URL.finditer(text):
        parts.append(escape(text[last : found.start()]))
        url = escape(found.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = found.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


# The mailbox page's words, in the console's two languages (``?lang=en``, else pt-BR).
WORDS = {
    "pt-BR": {
        "title": "Sandbox — caixa de e-mail",
        "console": "Console do agente",
        "to": "para",
        "empty": "Nenhum e-mail ainda.",
        "html": "Versão HTML",
    },
    "en": {
        "title": "Sandbox — mailbox",
        "console": "Agent console",
        "to": "to",
        "empty": "No mail yet.",
        "html": "HTML version",
    },
}


def _article(number: int, mail: ReceivedMail, words: dict[str, str]) -> str:
    html = ""
    if mail.html:
        # A sandboxed frame without scripts: the message's HTML cannot reach this page.
        html = (
            f"<details open><summary>{words['html']}</summary><iframe sandbox "
            f'title="{words["html"]} {number}" srcdoc="{escape(mail.html, quote=True)}">'
            "</iframe></details>"
        )
    return (
        f'<article class="mail" id="mail-{number}" data-to="{escape(mail.to)}">'
        f"<h2>{escape(mail.subject)}</h2>"
        f'<div class="meta">{words["to"]} {escape(mail.to)} · '
        f"{mail.received_at:%Y-%m-%d %H:%M:%S} UTC</div>"
        f'<pre class="text">{_linked(mail.text)}</pre>{html}</article>'
    )


async def mailbox_page(request: web.Request) -> web.Response:
    """Show the mailbox, newest first, in pt-BR (``?lang=en``: English)."""
    lang = "en" if request.query.get("lang", "").lower().startswith("en") else "pt-BR"
    words = WORDS[lang]
    messages: list[Any] = list(enumerate(request.app[MAILBOX].messages, start=1))
    body = "".join(_article(number, mail, words) for number, mail in reversed(messages))
    empty = f"<p class=empty>{words['empty']}</p>"
    page = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{words['title']}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{words['title']}</h1>"
        f'<a href="/sandbox/?lang={lang}">{words["console"]}</a></header>'
        f"<main>{body or empty}</main></body></html>"
    )
    return web.Response(text=page, content_type="text/html")
