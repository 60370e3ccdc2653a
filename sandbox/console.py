"""The agent console at ``/sandbox/``: a static page that renders and polls the control API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"

# The shell's own words, so the first paint is already in the chosen language (the script
# takes over from there and switches language without a reload).
WORDS = {
    "pt-BR": {
        "title": "Sandbox do Chatwoot — console do agente",
        "agent": "Agente",
        "language": "Idioma",
        "mailbox": "Caixa de e-mail",
        "loading": "Carregando as conversas…",
    },
    "en": {
        "title": "Chatwoot sandbox — agent console",
        "agent": "Agent",
        "language": "Language",
        "mailbox": "Mailbox",
        "loading": "Loading the conversations…",
    },
}

_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/sandbox/static/console.css"></head>
<body><header><h1>{title}</h1>
<label><span id="agent-label">{agent}</span> <input id="agent" size="14"></label>
<label><span id="lang-label">{language}</span> <select id="lang">
<option value="pt-BR">Português (Brasil)</option><option value="en">English</option>
</select></label><a id="mail-link" href="/sandbox/mail?lang={lang}">{mailbox}</a>
<span id="live" role="status"></span>
<details id="inbox"></details></header>
<main><p class="empty">{loading}</p></main>
<script src="/sandbox/static/console.js"></script></body></html>
"""


def language(request: web.Request) -> str:
    """Pick the language: ``?lang=en`` wins, else pt-BR (the project's first language)."""
    return "en" if request.query.get("lang", "").lower().startswith("en") else "pt-BR"


async def console_page(request: web.Request) -> web.Response:
    """Serve the console shell; the script fills it from ``/sandbox/api/conversations``."""
    lang = language(request)
    return web.Response(text=_PAGE.format(lang=lang, **WORDS[lang]), content_type="text/html")


async def static_file(request: web.Request) -> web.FileResponse:
    """Serve the console's script and style sheet."""
    name = request.match_info["name"]
    if name not in ("console.js", "console.css"):
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


def add_routes(app: web.Application) -> None:
    """Register the console page and its files."""
    app.router.add_get("/sandbox/", console_page)
    app.router.add_get("/sandbox", console_page)
    app.router.add_get("/sandbox/static/{name}", static_file)
