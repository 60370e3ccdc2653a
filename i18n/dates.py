"""Moments written the way a person of each locale writes them."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Final

from i18n.locales import DEFAULT_LOCALE, normalize_locale

_MONTHS_EN: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def format_datetime(moment: datetime, locale: str | None, tz: tzinfo = UTC) -> str:
    """Format an aware datetime for display in ``tz`` (UTC unless the caller knows the user's).

    pt-BR gives ``05/03/2025 14:07``; en gives ``Mar 5, 2025 2:07 PM``. A naive datetime is a
    programming error (we cannot know what clock it was read from), so it raises ``ValueError``.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes shown to people must be timezone-aware")
    local = moment.astimezone(tz)
    if normalize_locale(locale, DEFAULT_LOCALE) == "en":
        hour = local.hour % 12 or 12
        meridiem = "AM" if local.hour < 12 else "PM"
        month = _MONTHS_EN[local.month - 1]
        return f"{month} {local.day}, {local.year} {hour}:{local.minute:02d} {meridiem}"
    return local.strftime("%d/%m/%Y %H:%M")
