"""Agent Markdown as styled spans: bold, italics, code and links, never as HTML.

Renderers build their own elements from the spans (DOM nodes, autoescaped templates), so no
text is ever parsed as markup; only http(s) links become links.
"""

from __future__ import annotations

import re
from typing import Any

_INLINE = re.compile(
    r"\*\*(?P<bold>[^*\n]+?)\*\*"
    r"|`(?P<code>[^`\n]+)`"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<target>https?://[^\s)]+)\)"
    r"|(?<![\w*])[*_](?P<italic>[^*_\n]+?)[*_](?![\w*])"
    r"|(?P<url>https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"])"
)


def spans(content: str) -> list[dict[str, Any]]:
    """Split agent Markdown into ``{"text", and one of bold/italic/code/href}`` spans."""
    out: list[dict[str, Any]] = []
    position = 0
    for match in _INLINE.finditer(content):
        if match.start() > position:
            out.append({"text": content[position : match.start()]})
        position = match.end()
        if match["bold"] is not None:
            out.append({"text": match["bold"], "bold": True})
        elif match["code"] is not None:
            out.append({"text": match["code"], "code": True})
        elif match["label"] is not None:
            out.append({"text": match["label"], "href": match["target"]})
            if match["label"] != match["target"]:
                # Never hide where a link goes: its address follows its label.
                out.append({"text": f" ({match['target']})"})
        elif match["italic"] is not None:
            out.append({"text": match["italic"], "italic": True})
        else:
            out.append({"text": match["url"], "href": match["url"]})
    if position < len(content):
        out.append({"text": content[position:]})
    return out
