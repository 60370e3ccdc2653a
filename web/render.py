"""Page rendering: Jinja2 with autoescape, the request's locale and the shared page context."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

import i18n
from tickets import keys
from tickets.attachments import format_size
from web import keys as web_keys
from web.sessions import ANON_CSRF, current

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LOCALE = web.RequestKey("web_locale", str)


def setup_rendering(app: web.Application) -> None:
    """Configure Jinja2 (autoescape on) and fingerprint the static files for caching."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    app[web_keys.STATIC_VERSION] = digest.hexdigest()[:10]


def locale_of(request: web.Request) -> str:
    """Pick the page language: the user's setting, the session's choice, Accept-Language."""
    cached: str | None = request.get(LOCALE)
    if cached is not None:
        return cached
    session = current(request)
    chosen: str | None = None
    if session is not None:
        if session.user is not None:
            chosen = session.user.locale
        chosen = chosen or session.data.get("locale")
    locale = i18n.choose_locale(
        chosen,
        request.headers.get("Accept-Language"),
        request.app[keys.SETTINGS].DEFAULT_LOCALE,
    )
    request[LOCALE] = locale
    return locale


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a page with the shared context (user, CSRF token, translations)."""
    locale = locale_of(request)
    session = current(request)
    settings = request.app[keys.SETTINGS]
    version = request.app[web_keys.STATIC_VERSION]

    def tr(key: str, **values: Any) -> str:
        return i18n.t(key, locale, **values)

    def when(value: datetime) -> Markup:
        # The page script rewrites this in the reader's own zone; without it, say the zone.
        text = f"{i18n.format_datetime(value, locale)} UTC"
        return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), text)

    base: dict[str, Any] = {
        "t": tr,
        "when": when,
        "status_label": lambda status: i18n.status_label(status, locale),
        "event_line": lambda kind, data: i18n.event_line(kind, data, locale),
        "sector_label": lambda value: settings.TICKET_SECTORS.label(value, locale),
        "complexity_label": lambda value: settings.TICKET_COMPLEXITIES.label(value, locale),
        "file_size": lambda size: format_size(size, locale),
        "locale": locale,
        "locales": i18n.LOCALES,
        "user": session.user if session is not None else None,
        # Anonymous pages get a token only when their handler asked for one (a form).
        "csrf_token": session.csrf_token if session is not None else request.get(ANON_CSRF, ""),
        "ms_enabled": settings.microsoft_login_enabled,
        "static": lambda name: f"/static/{name}?v={version}",
        "path": request.path_qs,
        "nav": "",
    }
    base.update(context)
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def json_script(value: Any) -> Markup:
    """Serialize data for a `<script type="application/json">` block, safe against `</script>`."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 (every <, > and & is escaped above)
