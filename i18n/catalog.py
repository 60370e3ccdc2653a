"""The one catalog: every surface's strings merged, looked up by ``t(key, locale)``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from i18n import answers, bot, cards, common, files, mail, pages, profile
from i18n.locales import DEFAULT_LOCALE, normalize_locale


def _merge(*parts: Mapping[str, str]) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for part in parts:
        clash = merged.keys() & part.keys()
        if clash:
            raise RuntimeError(f"i18n keys defined twice: {sorted(clash)}")
        merged.update(part)
    return MappingProxyType(merged)


_CATALOGS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {
        "pt-BR": _merge(
            common.PT, pages.PT, cards.PT, bot.PT, mail.PT, files.PT, profile.PT, answers.PT
        ),
        "en": _merge(
            common.EN, pages.EN, cards.EN, bot.EN, mail.EN, files.EN, profile.EN, answers.EN
        ),
    }
)
_DEFAULT: Final = _CATALOGS[DEFAULT_LOCALE]
# The page scripts get only the web's strings: the shared words and the pages' own keys.
_CLIENT_KEYS: Final = tuple(
    key
    for key in (*common.PT, *pages.PT, *files.PT, *answers.PT)
    if key.startswith(("event.", "status.", "ticket.", "err.content.", "list.", "app.name"))
)


def t(key: str, locale: str | None, **values: Any) -> str:
    """Translate `key`, falling back to pt-BR, then to the key itself (a visible miss)."""
    catalog = _CATALOGS[normalize_locale(locale, DEFAULT_LOCALE)]
    text = catalog.get(key) or _DEFAULT.get(key) or key
    return text.format(**values) if values else text


def has_key(key: str) -> bool:
    """Tell whether the catalog knows `key`."""
    return key in _DEFAULT


def status_label(status: str, locale: str | None) -> str:
    """Name a ticket status for people (an unknown status reads as itself)."""
    key = f"status.{status}"
    return t(key, locale) if has_key(key) else status


def event_line(kind: str, data: Mapping[str, Any], locale: str | None) -> str:
    """Render a timeline event (assigned, resolved, ...) as one sentence."""
    actor = str(data.get("actor") or "")
    if actor and has_key(f"event.{kind}.by"):
        # The employee did it here (e.g. "resolved, thanks"): say who.
        return t(f"event.{kind}.by", locale, actor=actor)
    if kind in ("rated", "answered"):
        values = {"actor": actor, "rating": data.get("rating"), "answer": data.get("answer")}
        return t(f"event.{kind}", locale, **{k: str(v or "") for k, v in values.items()})
    key = f"event.{kind}" if has_key(f"event.{kind}") else "event.other"
    assignee = str(data.get("assignee") or "")
    return t(key, locale, assignee=assignee) if kind == "assigned" else t(key, locale)


def client_catalog(locale: str | None) -> dict[str, str]:
    """Return the strings the page scripts need (timeline lines, statuses, live state)."""
    return {key: t(key, locale) for key in _CLIENT_KEYS}
