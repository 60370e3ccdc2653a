"""Card wording that is more than a lookup: form errors, help commands, plain-text status lines.

The strings themselves live in the one catalog (`i18n`, keys under ``card.``); every helper takes
a locale, and anything that is not English falls back to pt-BR, the product's default.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from cards.views import ChoiceLabels
from i18n import has_key, normalize_locale, t

# Text commands listed on the help card: (command word, catalog key of its description).
HELP_COMMANDS: Final = MappingProxyType(
    {
        "pt-BR": (
            ("novo", "card.help.cmd.new"),
            ("chamados", "card.help.cmd.list"),
            ("ajuda", "card.help.cmd.help"),
            ("ajuda com <texto>", "card.help.cmd.search"),
        ),
        "en": (
            ("new", "card.help.cmd.new"),
            ("tickets", "card.help.cmd.list"),
            ("help", "card.help.cmd.help"),
            ("help with <text>", "card.help.cmd.search"),
        ),
    }
)


def field_error(field: str, code: str, locale: str | None) -> str:
    """Translate a form error code (``required``, ``too_short``…) for ``field`` into a sentence.

    Field-specific wording wins; then the generic code; an unknown code reads as "invalid value"
    so an English code never leaks onto a pt-BR card.
    """
    if field == "title" and code in ("too_short", "too_long"):
        return t("card.err.title.length", locale)
    for key in (f"card.err.{field}.{code}", f"card.err.{code}"):
        if has_key(key):
            return t(key, locale)
    return t("card.err.invalid", locale)


def status_line(
    ticket_id: int,
    title: str,
    status: str,
    locale: str | None,
    *,
    agent: str | None = None,
    reopened: bool = False,
) -> str:
    """Return the one-line plain-text notice for a status change (resolved, reopened…).

    ``reopened`` picks the "reopened" wording for a move back to ``open``.
    """
    title = _one_line(title, 120)
    if status == "resolved" and agent:
        return t(
            "card.line.resolved.by", locale, id=ticket_id, title=title, agent=_one_line(agent, 80)
        )
    key = "card.line.reopened" if reopened and status == "open" else f"card.line.{status}"
    if not has_key(key):
        key = "card.line.open"
    return t(key, locale, id=ticket_id, title=title)


def assignment_line(ticket_id: int, title: str, agent: str | None, locale: str | None) -> str:
    """Return the one-line plain-text notice for an assignment change."""
    title = _one_line(title, 120)
    if agent:
        return t(
            "card.line.assigned", locale, id=ticket_id, title=title, agent=_one_line(agent, 80)
        )
    return t("card.line.unassigned", locale, id=ticket_id, title=title)


def created_line(ticket_id: int, title: str, locale: str | None) -> str:
    """Return the one-line plain-text confirmation sent after a ticket is opened."""
    return t("card.line.created", locale, id=ticket_id, title=_one_line(title, 120))


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def choice_label(labels: ChoiceLabels, field: str, value: str, locale: str | None) -> str:
    """Return the configured label of a choice in ``locale`` (pt-BR, then the value itself)."""
    by_locale = labels.get(field, {}).get(value, {})
    wanted = normalize_locale(locale, "pt-BR")
    return by_locale.get(wanted) or by_locale.get("pt-BR") or value
