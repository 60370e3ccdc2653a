"""The inbox settings Chatwoot keeps per inbox (auto-assignment, CSAT, greeting, hours, lock)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BOOLEANS = (
    "enable_auto_assignment",
    "csat_survey_enabled",
    "greeting_enabled",
    "lock_to_single_conversation",
    "working_hours_enabled",
)
_TEXTS = ("greeting_message", "out_of_office_message")
_HOUR_KEYS = ("open_hour", "open_minutes", "close_hour", "close_minutes")


class SettingsInvalid(ValueError):
    """Raise for a settings body that names an unknown key or holds a wrong type."""


def default_working_hours() -> list[dict[str, Any]]:
    """Return the sandbox's first week: Monday to Friday 08:00-18:00, weekend closed."""
    closed = {0, 6}
    return [
        {
            "day_of_week": day,
            "closed_all_day": day in closed,
            "open_hour": None if day in closed else 8,
            "open_minutes": None if day in closed else 0,
            "close_hour": None if day in closed else 18,
            "close_minutes": None if day in closed else 0,
            "open_all_day": False,
        }
        for day in range(7)
    ]


@dataclass
class InboxSettings:
    """Hold the settings of the sandbox's own inbox (Chatwoot's defaults unless configured)."""

    enable_auto_assignment: bool = True
    csat_survey_enabled: bool = False
    greeting_enabled: bool = False
    greeting_message: str = ""
    lock_to_single_conversation: bool = False
    working_hours_enabled: bool = False
    out_of_office_message: str = ""
    timezone: str = "UTC"
    working_hours: list[dict[str, Any]] = field(default_factory=default_working_hours)

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as JSON."""
        return asdict(self)

    def apply(self, body: dict[str, Any]) -> None:
        """Apply a PATCH body; raise ``SettingsInvalid`` (and change nothing) on a bad one."""
        unknown = set(body) - set(self.as_dict())
        if unknown:
            raise SettingsInvalid(f"unknown settings: {', '.join(sorted(unknown))}")
        for key in _BOOLEANS:
            if key in body and not isinstance(body[key], bool):
                raise SettingsInvalid(f"{key} must be true or false")
        for key in (*_TEXTS, "timezone"):
            if key in body and not isinstance(body[key], str):
                raise SettingsInvalid(f"{key} must be a string")
        if "timezone" in body:
            _zone(body["timezone"])
        hours = _check_hours(body["working_hours"]) if "working_hours" in body else None
        for key, value in body.items():
            setattr(self, key, value)
        if hours is not None:
            self.working_hours = hours

    def out_of_office(self, now: float) -> bool:
        """Tell whether ``now`` falls outside the working hours (never when they are off)."""
        if not self.working_hours_enabled:
            return False
        local = datetime.fromtimestamp(now, UTC).astimezone(_zone(self.timezone))
        # Chatwoot numbers days from Sunday = 0; Python's weekday() has Monday = 0.
        day = (local.weekday() + 1) % 7
        entry = next((h for h in self.working_hours if h["day_of_week"] == day), None)
        if entry is None or entry["closed_all_day"]:
            return True
        if entry["open_all_day"]:
            return False
        minute = local.hour * 60 + local.minute
        opens = entry["open_hour"] * 60 + entry["open_minutes"]
        closes = entry["close_hour"] * 60 + entry["close_minutes"]
        return not opens <= minute < closes


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsInvalid(f"unknown timezone {name!r}") from None


def _check_hours(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) != 7:
        raise SettingsInvalid("working_hours must be a list of 7 days")
    days: list[dict[str, Any]] = []
    for entry in value:
        if not isinstance(entry, dict) or entry.get("day_of_week") not in range(7):
            raise SettingsInvalid("each working_hours entry needs day_of_week 0-6")
        closed = bool(entry.get("closed_all_day"))
        all_day = bool(entry.get("open_all_day"))
        day = {"day_of_week": entry["day_of_week"], "closed_all_day": closed}
        for key in _HOUR_KEYS:
            number = entry.get(key)
            limit = 24 if key.endswith("hour") else 60
            if closed or all_day:
                number = None
            elif isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < limit:
                raise SettingsInvalid(f"working_hours {key} must be an integer 0-{limit - 1}")
            day[key] = number
        day["open_all_day"] = all_day
        days.append(day)
    if sorted(d["day_of_week"] for d in days) != list(range(7)):
        raise SettingsInvalid("working_hours must name each day once")
    return days
