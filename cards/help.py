"""Help Center cards: articles suggested before a ticket, search results, and "glad it's solved"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from cards.actions import ActionData, Verb
from cards.elements import Json, card, execute, one_line, rich, text
from i18n import t

MAX_ARTICLES: Final = 3
_TITLE_CHARS: Final = 150
_SNIPPET_CHARS: Final = 300


@dataclass(frozen=True, slots=True)
class SuggestedArticle:
    """One Help Center article: title and snippet (written by agents: untrusted) and its URL."""

    title: str
    snippet: str
    url: str


@dataclass(frozen=True, slots=True)
class SuggestionsView:
    """Articles for a submitted form (``form_id`` + the typed ``inputs``) or for a typed search.

    With a ``form_id`` the card offers "that solved it" and "open the ticket anyway", and the
    latter carries every typed input back, so nothing typed is lost.
    """

    articles: Sequence[SuggestedArticle]
    form_id: str | None = None
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    query: str = ""


def suggestions_card(view: SuggestionsView, locale: str | None) -> Json:
    """Build the card listing up to three articles with their buttons."""
    if view.form_id is not None:
        body: list[Json] = [
            text(t("card.suggest.title", locale), size="Large", weight="Bolder"),
            text(t("card.suggest.body", locale), spacing="Small"),
        ]
    else:
        heading = t("card.suggest.search.title", locale, query=one_line(view.query, 80))
        body = [rich(heading, size="Large", weight="Bolder")]
    for article in list(view.articles)[:MAX_ARTICLES]:
        body.append(_article(article, locale))
    if view.form_id is None:
        return card(body, [_new(locale)], locale)
    body.append(text(t("card.suggest.kept", locale), isSubtle=True, size="Small", spacing="Medium"))
    actions = [
        execute(
            t("card.suggest.solved", locale),
            ActionData(Verb.HELP_SOLVED, form_id=view.form_id),
            style="positive",
            inputs=False,
        ),
        execute(
            t("card.suggest.open_anyway", locale),
            ActionData(
                Verb.HELP_OPEN_ANYWAY,
                form_id=view.form_id,
                inputs=MappingProxyType(dict(view.inputs)),
            ),
            inputs=False,
        ),
    ]
    return card(body, actions, locale)


def no_articles_card(query: str, locale: str | None) -> Json:
    """Build the answer to a search that found nothing: say so and offer a new ticket."""
    body = [
        rich(t("card.suggest.search.none", locale, query=one_line(query, 80)), weight="Bolder"),
        text(t("card.suggest.search.none_hint", locale), spacing="Small"),
    ]
    return card(body, [_new(locale)], locale)


def solved_card(locale: str | None) -> Json:
    """Build the card that replaces the suggestions once an article solved the problem."""
    body = [
        text("✅ " + t("card.suggest.done.title", locale), size="Large", weight="Bolder"),
        text(t("card.suggest.done.body", locale), spacing="Small"),
    ]
    actions = [
        execute(t("card.action.new", locale), ActionData(Verb.NEW), inputs=False),
        execute(t("card.action.list", locale), ActionData(Verb.LIST, page=1), inputs=False),
    ]
    return card(body, actions, locale)


def _article(article: SuggestedArticle, locale: str | None) -> Json:
    items: list[Json] = [rich(one_line(article.title, _TITLE_CHARS), weight="Bolder")]
    if article.snippet:
        items.append(
            rich(one_line(article.snippet, _SNIPPET_CHARS), isSubtle=True, spacing="Small")
        )
    items.append(
        {
            "type": "ActionSet",
            "spacing": "Small",
            "actions": [
                {
                    "type": "Action.OpenUrl",
                    "title": t("card.suggest.open", locale),
                    "url": article.url,
                }
            ],
        }
    )
    return {"type": "Container", "style": "emphasis", "spacing": "Medium", "items": items}


def _new(locale: str | None) -> Json:
    return execute(
        t("card.action.new", locale), ActionData(Verb.NEW), style="positive", inputs=False
    )
