"""Shared building blocks: the card envelope, Execute buttons with Submit fallback, safe text.

Text typed by people (titles, messages, names) only ever goes into ``TextRun``s of a
``RichTextBlock``: the Adaptive Card spec does not apply markdown to a TextRun, so an agent
writing ``[Reset password](https://evil)`` shows those characters instead of a link that hides
its target. (Teams may still turn a *bare* URL into a link; its target is then what is shown.)
``{{DATE(...)}}``/``{{TIME(...)}}`` functions, which renderers expand even in TextRuns, are
broken up, and control characters are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any, Final

from cards.actions import ActionData
from i18n import t

SCHEMA_URL: Final = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION: Final = "1.5"
# Teams documents ~28 KB for cards (REFERENCE §5.7); builders keep every card below this.
MAX_CARD_BYTES: Final = 28_000

STATUS_STYLES: Final = MappingProxyType(
    {"open": "accent", "pending": "warning", "resolved": "good", "snoozed": "emphasis"}
)

_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_TEMPLATE_FN: Final = re.compile(r"\{\{")

Json = dict[str, Any]


def card(body: Sequence[Json], actions: Sequence[Json], locale: str | None) -> Json:
    """Wrap body elements and actions in a Teams-friendly 1.5 card envelope."""
    envelope: Json = {
        "$schema": SCHEMA_URL,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": t("card.fallback", locale),
        "msteams": {"width": "Full"},
        "body": list(body),
    }
    if actions:
        envelope["actions"] = list(actions)
    return envelope


def execute(
    title: str,
    action: ActionData,
    *,
    style: str | None = None,
    inputs: bool = True,
    tooltip: str | None = None,
) -> Json:
    """Build an ``Action.Execute`` button whose fallback is the equivalent ``Action.Submit``.

    ``inputs=False`` sets ``associatedInputs: none`` so a button (Refresh, Open…) neither sends
    nor validates the card's inputs.
    """
    button: Json = {"type": "Action.Execute", "title": title, "verb": action.verb.value}
    fallback: Json = {"type": "Action.Submit", "title": title}
    data = action.to_data()
    if data:
        button["data"] = data
    fallback["data"] = action.to_submit_data()
    for target in (button, fallback):
        if style:
            target["style"] = style
        if not inputs:
            target["associatedInputs"] = "none"
        if tooltip:
            target["tooltip"] = tooltip
    button["fallback"] = fallback
    return button


def text(value: str, **props: Any) -> Json:
    """Build a wrapping TextBlock for **our own** strings (catalog text, dates, numbers)."""
    return {"type": "TextBlock", "text": value, "wrap": True, **props}


def rich(value: str, *, spacing: str | None = None, **run_props: Any) -> Json:
    """Build a RichTextBlock holding one TextRun of untrusted text (no markdown, see module doc)."""
    block: Json = {"type": "RichTextBlock", "inlines": [run(value, **run_props)]}
    if spacing:
        block["spacing"] = spacing
    return block


def run(value: str, **props: Any) -> Json:
    """Build a TextRun of untrusted text, neutralised."""
    return {"type": "TextRun", "text": plain(value), **props}


def plain(value: str) -> str:
    """Drop control/bidi characters and break ``{{`` so renderers show the text literally."""
    cleaned = _CONTROL.sub("", value.replace("\r\n", "\n"))
    return _TEMPLATE_FN.sub("{\u2060{", cleaned)


def clip(value: str, max_bytes: int) -> tuple[str, bool]:
    """Cut ``value`` to ``max_bytes`` of UTF-8 on a character boundary; say if it was cut."""
    encoded = value.encode("utf-8")
    if len(encoded) <= max_bytes:
        return value, False
    cut = encoded[: max_bytes - 3].decode("utf-8", errors="ignore").rstrip()
    return cut + "…", True


def one_line(value: str, max_chars: int) -> str:
    """Collapse whitespace and cut to ``max_chars`` characters (titles, names)."""
    flat = " ".join(value.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "…"


def badge(status: str, label: str) -> Json:
    """Build a coloured status pill: an auto-width column with a container style per status."""
    return {
        "type": "Column",
        "width": "auto",
        "verticalContentAlignment": "Center",
        "items": [
            {
                "type": "Container",
                "style": STATUS_STYLES.get(status, "emphasis"),
                "items": [text(label, size="Small", weight="Bolder", wrap=False)],
            }
        ],
    }


def card_size(value: Json) -> int:
    """Return the compact UTF-8 JSON size of a card, the figure kept under ``MAX_CARD_BYTES``."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
