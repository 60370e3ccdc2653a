"""Repository functions for Help Center suggestion outcomes; they take the session, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import HelpOutcome, HelpOutcomeKind


async def record_outcome(
    session: AsyncSession, *, user_id: int, surface: str, form_key: str, outcome: HelpOutcomeKind
) -> bool:
    """Count one outcome of a form once; return whether it was new."""
    statement = (
        insert(HelpOutcome)
        .values(user_id=user_id, surface=surface, form_key=form_key, outcome=outcome.value)
        .on_conflict_do_nothing(constraint="uq_help_outcomes_form_outcome")
        .returning(HelpOutcome.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def record_if_shown(
    session: AsyncSession, *, user_id: int, surface: str, form_key: str, outcome: HelpOutcomeKind
) -> bool:
    """Count ``outcome`` only for a form that was shown suggestions; return whether it counted."""
    shown = exists().where(
        HelpOutcome.user_id == user_id,
        HelpOutcome.surface == surface,
        HelpOutcome.form_key == form_key,
        HelpOutcome.outcome == HelpOutcomeKind.SHOWN.value,
    )
    rows = select(
        literal(user_id), literal(surface), literal(form_key), literal(outcome.value)
    ).where(shown)
    statement = (
        insert(HelpOutcome)
        .from_select(["user_id", "surface", "form_key", "outcome"], rows)
        .on_conflict_do_nothing(constraint="uq_help_outcomes_form_outcome")
        .returning(HelpOutcome.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def has_outcome(
    session: AsyncSession, *, user_id: int, surface: str, form_key: str, outcome: HelpOutcomeKind
) -> bool:
    """Tell whether the form already has this outcome."""
    found = await session.execute(
        select(HelpOutcome.id).where(
            HelpOutcome.user_id == user_id,
            HelpOutcome.surface == surface,
            HelpOutcome.form_key == form_key,
            HelpOutcome.outcome == outcome.value,
        )
    )
    return found.first() is not None


async def outcome_counts(session: AsyncSession, since: datetime) -> dict[tuple[str, str], int]:
    """Count outcomes since ``since``, keyed by (surface, outcome)."""
    result = await session.execute(
        select(HelpOutcome.surface, HelpOutcome.outcome, func.count())
        .where(HelpOutcome.created_at >= since)
        .group_by(HelpOutcome.surface, HelpOutcome.outcome)
    )
    return {(surface, outcome): int(count) for surface, outcome, count in result.all()}
