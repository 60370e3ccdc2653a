"""Help before a ticket: suggest Help Center articles and count what the suggestions achieved.

A suggestion round is one form (the web form's key, the Teams card's form id). Its outcomes
are counted once each: ``shown`` when articles appeared, ``resolved`` when the employee said an
article solved it, ``opened`` when a ticket was opened anyway after seeing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.help import MAX_QUERY, MIN_QUERY, Article, HelpCenter
from db import help as help_repo
from db.models import HelpOutcomeKind

Surface = Literal["web", "teams"]
SURFACES: Final[tuple[Surface, ...]] = ("web", "teams")
STATS_DAYS: Final = 30
MAX_SUGGESTIONS: Final = 3

__all__ = [
    "MAX_QUERY",
    "MAX_SUGGESTIONS",
    "MIN_QUERY",
    "Article",
    "HelpService",
    "HelpStats",
    "clean_form_key",
    "is_admin",
]


def clean_form_key(value: object) -> str | None:
    """Accept a form key a client sent back (printable, at most 100 characters), else None."""
    if not isinstance(value, str) or not 1 <= len(value) <= 100 or not value.isprintable():
        return None
    return value


def is_admin(admin_emails: Sequence[str], email: str | None) -> bool:
    """Tell whether the e-mail is one of the configured administrators (case-insensitive)."""
    if not email:
        return False
    wanted = email.strip().casefold()
    return any(wanted == admin.strip().casefold() for admin in admin_emails)


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """How many forms were shown suggestions, resolved by one, or opened a ticket anyway."""

    shown: int = 0
    resolved: int = 0
    opened: int = 0

    @property
    def deflection_rate(self) -> float | None:
        """Share of decided rounds that needed no ticket; None before any decision."""
        decided = self.resolved + self.opened
        return round(self.resolved / decided, 4) if decided else None

    def to_json(self) -> dict[str, Any]:
        """Describe the counts for the admin JSON."""
        return {
            "suggestionsShown": self.shown,
            "resolved": self.resolved,
            "ticketsAfterSuggestion": self.opened,
            "deflectionRate": self.deflection_rate,
        }


@dataclass(frozen=True, slots=True)
class HelpStats:
    """The last days' outcomes, overall and per surface."""

    days: int
    since: datetime
    total: OutcomeCounts
    by_surface: dict[str, OutcomeCounts] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Describe the stats for the admin JSON."""
        return {
            "days": self.days,
            "since": self.since.isoformat(),
            **self.total.to_json(),
            "bySurface": {name: counts.to_json() for name, counts in self.by_surface.items()},
        }


class HelpService:
    """Search the Help Center for a form's text and count the outcomes of each round."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], center: HelpCenter | None
    ) -> None:
        self._sessions = sessions
        self._center = center

    @property
    def enabled(self) -> bool:
        """Tell whether a Help Center portal is configured."""
        return self._center is not None

    async def suggest(
        self,
        query: str,
        locale: str,
        *,
        user_id: int,
        surface: Surface,
        form_key: str | None = None,
    ) -> list[Article]:
        """Return up to three articles for ``query`` ([] when off or failing); count the round."""
        if self._center is None:
            return []
        articles = await self._center.search(query, locale, limit=MAX_SUGGESTIONS)
        if articles and form_key:
            await self._record(user_id, surface, form_key, HelpOutcomeKind.SHOWN)
        return articles

    async def was_shown(self, *, user_id: int, surface: Surface, form_key: str) -> bool:
        """Tell whether the form was already shown suggestions."""
        async with self._sessions() as session:
            return await help_repo.has_outcome(
                session,
                user_id=user_id,
                surface=surface,
                form_key=form_key,
                outcome=HelpOutcomeKind.SHOWN,
            )

    async def resolved(self, *, user_id: int, surface: Surface, form_key: str) -> bool:
        """Count that an article solved the form's problem (only after it was shown one)."""
        return await self._record_if_shown(user_id, surface, form_key, HelpOutcomeKind.RESOLVED)

    async def ticket_opened(self, *, user_id: int, surface: Surface, form_key: str) -> bool:
        """Count a ticket opened from a form that was shown suggestions (else nothing)."""
        return await self._record_if_shown(user_id, surface, form_key, HelpOutcomeKind.OPENED)

    async def stats(self, days: int = STATS_DAYS) -> HelpStats:
        """Return the outcomes of the last ``days`` days."""
        since = datetime.now(UTC) - timedelta(days=days)
        async with self._sessions() as session:
            counts = await help_repo.outcome_counts(session, since)
        by_surface: dict[str, OutcomeCounts] = {
            surface: OutcomeCounts(
                shown=counts.get((surface, HelpOutcomeKind.SHOWN.value), 0),
                resolved=counts.get((surface, HelpOutcomeKind.RESOLVED.value), 0),
                opened=counts.get((surface, HelpOutcomeKind.OPENED.value), 0),
            )
            for surface in SURFACES
        }
        total = OutcomeCounts(
            shown=sum(c.shown for c in by_surface.values()),
            resolved=sum(c.resolved for c in by_surface.values()),
            opened=sum(c.opened for c in by_surface.values()),
        )
        return HelpStats(days=days, since=since, total=total, by_surface=by_surface)

    async def _record(
        self, user_id: int, surface: Surface, form_key: str, outcome: HelpOutcomeKind
    ) -> bool:
        async with self._sessions.begin() as session:
            return await help_repo.record_outcome(
                session, user_id=user_id, surface=surface, form_key=form_key, outcome=outcome
            )

    async def _record_if_shown(
        self, user_id: int, surface: Surface, form_key: str, outcome: HelpOutcomeKind
    ) -> bool:
        async with self._sessions.begin() as session:
            return await help_repo.record_if_shown(
                session, user_id=user_id, surface=surface, form_key=form_key, outcome=outcome
            )
