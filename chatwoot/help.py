"""Chatwoot Help Center search: one portal's published articles, fast or not at all.

Suggestions are a courtesy, never a gate: every failure (timeout, 4xx, 5xx, junk JSON, a
disabled portal) becomes "no articles" here, so callers never wait long and never see an error.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, urljoin

import httpx

log = logging.getLogger(__name__)

# Chatwoot names portal locales with an underscore; a pt-BR reader also gets the portal's plain
# `pt` articles when it has no `pt_BR` ones.
PORTAL_LOCALES: Final[Mapping[str, tuple[str, ...]]] = {
    "pt-BR": ("pt_BR", "pt"),
    "en": ("en",),
}
MIN_QUERY: Final = 3
MAX_QUERY: Final = 200
SNIPPET_CHARS: Final = 220
_WORD: Final = re.compile(r"\w+")
# Words that find everything or nothing; the rest of a sentence is worth asking about.
_FILLER: Final = frozenset(
    {"uma", "uns", "umas", "para", "por", "com", "sem", "que", "não", "nao", "meu", "minha"}
    | {"está", "esta", "estou", "aos", "mais", "muito", "toda", "todo", "todos", "hora", "dia"}
    | {"quando", "desde", "ontem", "hoje", "consigo", "the", "and", "for", "with", "not", "can"}
    | {"cannot", "does", "doesn", "don", "from", "since", "today", "yesterday"}
    | {"all", "every", "time", "hour", "day", "my", "your", "this", "that", "isso", "esse"}
)


@dataclass(frozen=True, slots=True)
class Article:
    """One suggested article: its title, a plain-text snippet and its public URL."""

    title: str
    snippet: str
    url: str


def clean_query(query: str) -> str:
    """Collapse whitespace and cut the query to what the Help Center is asked."""
    return " ".join(query.split())[:MAX_QUERY]


def portal_locales(locale: str) -> tuple[str, ...]:
    """Return the portal locales to search, in order, for one of our locales."""
    return PORTAL_LOCALES.get(locale) or PORTAL_LOCALES["pt-BR"]


class HelpCenter:
    """Search one Chatwoot portal with a short timeout, a brief per-query cache and a breaker."""

    def __init__(
        self,
        base_url: str,
        portal_slug: str,
        *,
        timeout: float = 1.5,
        cache_seconds: float = 60.0,
        cache_size: int = 500,
        pause_seconds: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._slug = portal_slug
        self._timeout = timeout
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, tuple[Article, ...]]] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[tuple[Article, ...]]] = {}
        # After a failure the portal is left alone for a while: a slow Help Center must not
        # add its timeout to every keystroke or every Teams submit.
        self._paused_until = 0.0
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    @property
    def portal_slug(self) -> str:
        """Return the portal searched."""
        return self._slug

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def search(self, query: str, locale: str, *, limit: int = 3) -> list[Article]:
        """Return up to ``limit`` articles matching ``query`` ([] on any trouble)."""
        text = clean_query(query)
        if len(text) < MIN_QUERY:
            return []
        key = (locale, text.casefold())
        cached = self._cache.get(key)
        now = self._clock()
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(key)
            return list(cached[1][:limit])
        if now < self._paused_until:
            return []
        pending = self._inflight.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(key, text, locale))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(key, None))
        # A caller that gives up (the next keystroke) must not cancel the shared fetch.
        articles = await asyncio.shield(pending)
        return list(articles[:limit])

    async def _fetch(self, key: tuple[str, str], text: str, locale: str) -> tuple[Article, ...]:
        try:
            async with asyncio.timeout(self._timeout * 2):
                articles = await self._search(text, locale)
        except (TimeoutError, httpx.HTTPError, _Unusable) as exc:
            log.info("help center search skipped for a while: %s", _describe(exc))
            self._paused_until = self._clock() + self._pause_seconds
            return ()
        self._remember(key, articles)
        return articles

    async def _search(self, text: str, locale: str) -> tuple[Article, ...]:
        for portal_locale in portal_locales(locale):
            articles = await self._search_locale(text, portal_locale)
            if articles:
                return articles
        # Chatwoot's search wants every word in one article, so a whole sentence ("a VPN cai
        # toda hora") rarely matches: ask again for its telling words, one at a time.
        words = keywords(text)
        if len(_WORD.findall(text)) < 2 or not words:
            return ()
        for portal_locale in portal_locales(locale):
            found = await asyncio.gather(*(self._search_locale(w, portal_locale) for w in words))
            articles = _merge(found)
            if articles:
                return articles
        return ()

    async def _search_locale(self, text: str, portal_locale: str) -> tuple[Article, ...]:
        url = f"{self._base}/hc/{quote(self._slug, safe='')}/{quote(portal_locale)}/articles.json"
        answer = await self._http.get(url, params={"query": text})
        if answer.status_code == 404:
            # An unknown locale (or slug) is not a fault of the Help Center: just no articles.
            return ()
        if answer.status_code != 200:
            raise _Unusable(f"HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise _Unusable("not JSON") from None
        return tuple(self._parse(body))

    def _parse(self, body: Any) -> list[Article]:
        payload = body.get("payload") if isinstance(body, dict) else None
        if not isinstance(payload, list):
            raise _Unusable("no payload list")
        articles: list[Article] = []
        for item in payload:
            if not isinstance(item, dict):
                continue
            title, link = item.get("title"), item.get("link")
            if not isinstance(title, str) or not title.strip() or not isinstance(link, str):
                continue
            content = item.get("content")
            snippet = " ".join(content.split()) if isinstance(content, str) else ""
            if len(snippet) > SNIPPET_CHARS:
                snippet = snippet[: SNIPPET_CHARS - 1].rstrip() + "…"
            url = urljoin(self._base + "/", link)
            if not url.startswith(("https://", "http://")):
                continue
            articles.append(Article(" ".join(title.split())[:200], snippet, url))
        return articles

    def _remember(self, key: tuple[str, str], articles: tuple[Article, ...]) -> None:
        self._cache[key] = (self._clock() + self._cache_seconds, articles)
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def keywords(text: str, most: int = 4) -> list[str]:
    """Pick the longest words of a sentence that say something (no short or filler words)."""
    words = dict.fromkeys(w for w in _WORD.findall(text.casefold()) if len(w) >= 3)
    telling = [w for w in words if w not in _FILLER]
    return sorted(telling, key=len, reverse=True)[:most]


def _merge(results: list[tuple[Article, ...]]) -> tuple[Article, ...]:
    """Rank articles by how many words found them, then by how high they came."""
    hits: dict[str, int] = {}
    best: dict[str, tuple[int, int]] = {}
    by_url: dict[str, Article] = {}
    for order, found in enumerate(results):
        for place, article in enumerate(found):
            hits[article.url] = hits.get(article.url, 0) + 1
            best.setdefault(article.url, (place, order))
            by_url.setdefault(article.url, article)
    ranked = sorted(by_url, key=lambda url: (-hits[url], best[url]))
    return tuple(by_url[url] for url in ranked)


class _Unusable(Exception):
    """The Help Center answered, but not with a usable search result."""


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
