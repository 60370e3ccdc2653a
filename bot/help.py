"""Help before a ticket in Teams: articles after the form is sent, and "ajuda com <texto>"."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import cards
from bot.identity import Caller
from tickets.help import MAX_QUERY, Article, HelpService

log = logging.getLogger(__name__)

SURFACE: Final = "teams"
# Longer lines are messages, never commands (and never reach the pattern).
_MAX_LINE: Final = 1000
_MENTION: Final = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_SEARCH: Final = re.compile(r"(?:ajuda|help)\s+(?:com|with)\s+(\S.*)", re.IGNORECASE | re.DOTALL)

Card = dict[str, Any]


def search_query(text: str | None) -> str | None:
    """Return the text of an "ajuda com <texto>" / "help with <text>" line, else None."""
    if not text or len(text) > _MAX_LINE:
        return None
    line = " ".join(_MENTION.sub(" ", text).split()).lstrip(" /!")
    found = _SEARCH.fullmatch(line)
    if found is None:
        return None
    return found.group(1).strip(" ?!.")[:MAX_QUERY] or None


def _articles(found: Sequence[Article]) -> list[cards.SuggestedArticle]:
    return [cards.SuggestedArticle(a.title, a.snippet, a.url) for a in found]


class TeamsHelp:
    """Offer Help Center articles to a Teams caller and count what came of them."""

    def __init__(self, help_service: HelpService) -> None:
        self._help = help_service

    async def before_create(
        self, caller: Caller, form_id: str, inputs: Mapping[str, str]
    ) -> Card | None:
        """Return a suggestions card for a valid form's title, or None to open the ticket now."""
        if not self._help.enabled:
            return None
        try:
            # A form already shown articles (sent again after a helpdesk error) goes straight on.
            if await self._help.was_shown(
                user_id=caller.user_id, surface=SURFACE, form_key=form_id
            ):
                return None
            found = await self._help.suggest(
                inputs.get("title", ""),
                caller.locale,
                user_id=caller.user_id,
                surface=SURFACE,
                form_key=form_id,
            )
        except Exception:  # suggestions are a courtesy: never lose the submit over them
            log.exception("help center suggestions failed; opening the ticket")
            return None
        if not found:
            return None
        view = cards.SuggestionsView(_articles(found), form_id=form_id, inputs=dict(inputs))
        card = cards.suggestions_card(view, caller.locale)
        # The card carries every typed field back; one that would not fit goes straight on.
        return card if cards.card_size(card) < cards.MAX_CARD_BYTES else None

    async def solved(self, caller: Caller, form_id: str) -> Card:
        """Count that an article solved it and return the closing card."""
        await self._help.resolved(user_id=caller.user_id, surface=SURFACE, form_key=form_id)
        return cards.solved_card(caller.locale)

    async def opened(self, caller: Caller, form_id: str) -> None:
        """Count a ticket opened from a form that had been shown articles."""
        if not self._help.enabled:
            return
        try:
            await self._help.ticket_opened(
                user_id=caller.user_id, surface=SURFACE, form_key=form_id
            )
        except Exception:  # the ticket is open; a lost count must not turn that into an error
            log.exception("could not count a ticket opened after suggestions")

    async def search(self, caller: Caller, query: str) -> Card:
        """Answer "ajuda com <texto>": the articles found, or a card saying there are none."""
        found = await self._help.suggest(
            query, caller.locale, user_id=caller.user_id, surface=SURFACE
        )
        if not found:
            return cards.no_articles_card(query, caller.locale)
        view = cards.SuggestionsView(_articles(found), query=query)
        return cards.suggestions_card(view, caller.locale)
