"""The Help Center: one portal with published articles, Chatwoot's public routes, a control API.

Public routes as Chatwoot serves them (no auth): ``GET /hc/{slug}/{locale}/articles.json``
(search with ``query``; without it, full article objects), ``GET /hc/{slug}/articles/{article}``
(the article page) and ``.../{article}.md``. Control: ``GET``/``POST /sandbox/api/portal/articles``
and ``GET``/``POST /sandbox/api/portal/faults``. Search keeps, as Chatwoot's ``pg_search``
scope does (``tsearch`` with ``prefix``, the ``simple`` configuration), the articles whose
title, description or content hold **every** word of the query as a word prefix, case ignored
and accents kept; they are ranked by where the words matched (title, then description).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from sandbox.portal_articles import DEFAULT_ARTICLES

DEFAULT_PORTAL_SLUG: Final = "ti"
PORTAL_NAME: Final = "Central de ajuda de TI"
CONTROL: Final = "/sandbox/api/portal"
SNIPPET_RADIUS: Final = 110
SNIPPET_LENGTH: Final = 220
DEFAULT_PER_PAGE: Final = 25
MAX_PER_PAGE: Final = 100
_LOCALE: Final = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
_WORD: Final = re.compile(r"\w+")
# Words too common to say anything about an article.
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Article:
    """One Help Center article."""

    id: int
    slug: str
    title: str
    content: str
    description: str
    locale: str
    status: str = "published"
    position: int = 0
    views: int = 0
    updated_at: float = field(default_factory=time.time)


@dataclass
class PortalFaults:
    """Help Center faults: an error status, a delay, or the help-center feature turned off."""

    http_status: int | None = None
    delay_ms: int = 0
    disabled: bool = False


@dataclass
class Portal:
    """The portal's articles and faults (in memory, like the rest of the sandbox)."""

    slug: str = DEFAULT_PORTAL_SLUG
    account_id: int = 1
    articles: dict[int, Article] = field(default_factory=dict)
    faults: PortalFaults = field(default_factory=PortalFaults)

    def add(self, title: str, content: str, locale: str, description: str = "") -> Article:
        """Publish an article and return it."""
        number = max(self.articles, default=0) + 1
        article = Article(
            id=number,
            slug=f"{number}-{_parameterize(title)}",
            title=title,
            content=content,
            description=description,
            locale=locale,
            position=number * 10,
        )
        self.articles[number] = article
        return article


PORTAL = web.AppKey("sandbox_portal", Portal)


def default_portal(slug: str = DEFAULT_PORTAL_SLUG) -> Portal:
    """Return a portal holding the default IT articles."""
    portal = Portal(slug=slug)
    for locale, title, description, content in DEFAULT_ARTICLES:
        portal.add(title, content, locale, description)
    return portal


def add_portal(app: web.Application, portal: Portal | None = None) -> None:
    """Serve a Help Center portal (the default one unless given) from the sandbox app."""
    app[PORTAL] = portal or default_portal()
    app.middlewares.append(portal_fault_middleware)
    app.router.add_get("/hc/{slug}/{locale}/articles.json", search_articles)
    app.router.add_get("/hc/{slug}/articles/{article_slug}", article_page)
    app.router.add_get(CONTROL + "/articles", list_articles)
    app.router.add_post(CONTROL + "/articles", create_article)
    app.router.add_get(CONTROL + "/faults", faults)
    app.router.add_post(CONTROL + "/faults", faults)


def _not_found() -> web.Response:
    return web.json_response({"status": 404, "error": "Not Found"}, status=404)


@web.middleware
async def portal_fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the Help Center faults to the public ``/hc/`` routes only."""
    if not request.path.startswith("/hc/"):
        return await handler(request)
    faults = request.app[PORTAL].faults
    if faults.delay_ms:
        await asyncio.sleep(faults.delay_ms / 1000)
    if faults.disabled:
        return _not_found()
    if faults.http_status is not None:
        status = faults.http_status
        return web.json_response({"status": status, "error": "Error"}, status=status)
    return await handler(request)


def _portal(request: web.Request) -> Portal:
    portal = request.app[PORTAL]
    if request.match_info["slug"] != portal.slug:
        raise web.HTTPNotFound()
    return portal


async def search_articles(request: web.Request) -> web.Response:
    """Answer Chatwoot's portal article list: a search with ``query``, else every article."""
    try:
        portal = _portal(request)
    except web.HTTPNotFound:
        return _not_found()
    locale = request.match_info["locale"]
    query = request.query.get("query", "")
    published = [
        a for a in portal.articles.values() if a.locale == locale and a.status == "published"
    ]
    if query.strip():
        ranked = _rank(published, query)
    else:
        ranked = sorted(published, key=lambda a: a.position)
    page, per_page = _paging(request)
    shown = ranked[(page - 1) * per_page : page * per_page]
    if query.strip():
        payload = [_search_record(portal, a, query) for a in shown]
    else:
        payload = [_full_record(portal, a) for a in shown]
    return web.json_response({"payload": payload, "meta": {"articles_count": len(ranked)}})


def _paging(request: web.Request) -> tuple[int, int]:
    try:
        page = max(1, int(request.query.get("page", "1")))
        per_page = int(request.query.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        return 1, DEFAULT_PER_PAGE
    return page, min(max(1, per_page), MAX_PER_PAGE)


def _search_record(portal: Portal, article: Article, query: str) -> dict[str, Any]:
    return {
        "id": article.id,
        "category_id": None,
        "title": article.title,
        "content": snippet(article.content, query),
        "link": f"/hc/{portal.slug}/articles/{article.slug}",
    }


def _full_record(portal: Portal, article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "category_id": None,
        "title": article.title,
        "content": article.content,
        "description": article.description,
        "status": article.status,
        "account_id": portal.account_id,
        "last_updated_at": int(article.updated_at),
        "views": article.views,
        "author": {"id": 1, "name": "Sandbox", "available_name": "Sandbox"},
    }


def snippet(content: str, query: str) -> str:
    """Cut the squished content around the query (radius 110), else its first 220 characters."""
    text = " ".join(content.split())
    phrase = " ".join(query.split())
    at = text.casefold().find(phrase.casefold()) if phrase else -1
    if at >= 0:
        start = max(0, at - SNIPPET_RADIUS)
        end = min(len(text), at + len(phrase) + SNIPPET_RADIUS)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(text) else ""
        return prefix + text[start:end] + suffix
    if len(text) <= SNIPPET_LENGTH:
        return text
    cut = text[: SNIPPET_LENGTH - 3]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut) + "..."


def _words(text: str) -> list[str]:
    # PostgreSQL's `simple` configuration: lower-cased words, accents kept, no stop words.
    return _WORD.findall(text.casefold())


def _rank(articles: list[Article], query: str) -> list[Article]:
    """Keep articles holding every query word (as a word prefix), best title matches first."""
    terms = list(dict.fromkeys(_words(query)))
    scored: list[tuple[int, int, Article]] = []
    for article in articles:
        fields = [
            (3, _words(article.title)),
            (2, _words(article.description)),
            (1, _words(article.content)),
        ]
        weights = [_weight(fields, term) for term in terms]
        if terms and all(weights):
            scored.append((-sum(weights), article.position, article))
    return [article for _, _, article in sorted(scored, key=lambda row: row[:2])]


def _weight(fields: list[tuple[int, list[str]]], term: str) -> int:
    hits = (weight for weight, words in fields if any(w.startswith(term) for w in words))
    return max(hits, default=0)


async def article_page(request: web.Request) -> web.Response:
    """Show a published article (``.md`` suffix: its Markdown)."""
    try:
        portal = _portal(request)
    except web.HTTPNotFound:
        return _not_found()
    wanted = request.match_info["article_slug"]
    markdown = wanted.endswith(".md")
    wanted = wanted.removesuffix(".md")
    article = next((a for a in portal.articles.values() if a.slug == wanted), None)
    if article is None or article.status != "published":
        return _not_found()
    article.views += 1
    if markdown:
        return web.Response(text=article.content, content_type="text/markdown")
    body = (
        f'<!doctype html><html lang="{html.escape(article.locale.replace("_", "-"))}">'
        f'<head><meta charset="utf-8"><title>{html.escape(article.title)}</title></head>'
        f"<body><p>{html.escape(PORTAL_NAME)}</p><h1>{html.escape(article.title)}</h1>"
        f"<p><em>{html.escape(article.description)}</em></p>"
        f"<p>{html.escape(article.content)}</p></body></html>"
    )
    return web.Response(text=body, content_type="text/html")


def _control_record(portal: Portal, article: Article) -> dict[str, Any]:
    return {
        **_full_record(portal, article),
        "slug": article.slug,
        "locale": article.locale,
        "link": f"/hc/{portal.slug}/articles/{article.slug}",
    }


async def list_articles(request: web.Request) -> web.Response:
    """List every article of the portal, all locales."""
    portal = request.app[PORTAL]
    return web.json_response([_control_record(portal, a) for a in portal.articles.values()])


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(reason="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="body must be a JSON object")
    return body


def _invalid(message: str, attribute: str) -> web.Response:
    return web.json_response({"message": message, "attributes": [attribute]}, status=422)


async def create_article(request: web.Request) -> web.Response:
    """Publish an article: ``{"title", "content", "locale", "description"?}``."""
    body = await _json_body(request)
    title, content = body.get("title"), body.get("content")
    locale, description = body.get("locale"), body.get("description", "")
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= 255:
        return _invalid("Title can't be blank (255 characters at most)", "title")
    if not isinstance(content, str) or not content.strip() or len(content) > 100_000:
        return _invalid("Content can't be blank (100,000 characters at most)", "content")
    if not isinstance(locale, str) or not _LOCALE.match(locale):
        return _invalid("Locale must look like en or pt_BR", "locale")
    if not isinstance(description, str) or len(description) > 1000:
        return _invalid("Description must be text (1,000 characters at most)", "description")
    portal = request.app[PORTAL]
    article = portal.add(title.strip(), content, locale, description)
    return web.json_response(_control_record(portal, article), status=201)


async def faults(request: web.Request) -> web.Response:
    """Show, or replace, the Help Center faults (``{}`` clears them)."""
    portal = request.app[PORTAL]
    if request.method == "POST":
        body = await _json_body(request)
        status, delay = body.get("http_status"), body.get("delay_ms", 0)
        if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
            return _invalid("http_status must be a 4xx or 5xx status", "http_status")
        if not isinstance(delay, int) or not 0 <= delay <= 60_000:
            return _invalid("delay_ms must be 0 to 60000", "delay_ms")
        portal.faults = PortalFaults(
            http_status=status, delay_ms=delay, disabled=body.get("disabled") is True
        )
    current = portal.faults
    return web.json_response(
        {
            "http_status": current.http_status,
            "delay_ms": current.delay_ms,
            "disabled": current.disabled,
        }
    )


def _parameterize(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    words = _WORD.findall("".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    return "-".join(words)[:80] or "article"
