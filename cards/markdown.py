"""Agent Markdown on a card: styled TextRuns, never Markdown the client parses.

The spans come from the same parser the web page uses (the bot passes them on the view). Each
becomes a TextRun styled as Adaptive Cards can style it: bold, italic, monospace code, links that
open their own address (shown next to their label). A TextRun is never parsed as Markdown, so a
``*``, ``_``, ``[``, ``#`` or ``<`` typed by an agent shows as itself and needs no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from cards.elements import Json, clip, run
from cards.views import Span

# Past this many styled runs the rest of a message is shown as one plain run: the card's JSON
# stays small whatever an agent pastes.
MAX_RUNS: Final = 120
# A Markdown list item at the start of a line ("- ", "* ", "+ ") reads as a bullet.
_BULLET: Final = re.compile(r"(?m)^([ \t]*)[-*+][ \t]+")


def runs(spans: Sequence[Span], budget: int) -> tuple[list[Json], bool]:
    """Return the TextRuns of a message cut to ``budget`` UTF-8 bytes, and whether it was cut."""
    out: list[Json] = []
    left = budget
    line_start = True
    for span in _capped(spans):
        text = span.text if span.href or span.code else bullets(span.text, line_start)
        line_start = span.text.endswith("\n")
        size = len(text.encode("utf-8"))
        if size > left:
            cut, _ = clip(text, max(left, 4))
            out.append(_styled(cut, span))
            return out, True
        if text:
            out.append(_styled(text, span))
        left -= size
    return out, False


def _capped(spans: Sequence[Span]) -> list[Span]:
    if len(spans) <= MAX_RUNS:
        return list(spans)
    rest = "".join(span.text for span in spans[MAX_RUNS - 1 :])
    return [*spans[: MAX_RUNS - 1], Span(rest)]


def bullets(text: str, line_start: bool = True) -> str:
    """Show Markdown list markers at the start of a line as bullets.

    ``line_start`` says whether the text begins a line (it may follow a styled span instead).
    """
    if line_start:
        return _BULLET.sub(lambda match: f"{match[1]}• ", text)
    head, newline, rest = text.partition("\n")
    return head + newline + (_BULLET.sub(lambda match: f"{match[1]}• ", rest) if newline else "")


def _styled(text: str, span: Span) -> Json:
    props: Json = {}
    if span.bold:
        props["weight"] = "Bolder"
    if span.italic:
        props["italic"] = True
    if span.code:
        props["fontType"] = "Monospace"
    if span.href:
        # The link's address is its text (or follows its label): a click goes where it says.
        props["color"] = "Accent"
        props["underline"] = True
        props["selectAction"] = {"type": "Action.OpenUrl", "url": span.href}
    return run(text, **props)
