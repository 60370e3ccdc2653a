"""The Teams message a message action was started from, as plain data (text, author, place).

Teams hands the message over in the invoke's ``value.messagePayload``: an HTML (or text) body,
``<at id="N">`` mentions resolved through the ``mentions`` list, the author, the time and a link.
Only what the ticket form needs is kept; HTML never leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urlsplit

from botbuilder.schema import Activity

# A Teams message is at most ~28 KB of HTML; anything far larger is not worth parsing whole.
MAX_HTML: Final = 200_000
MAX_LINK: Final = 2_000
MAX_NAME: Final = 200

_BLOCKS: Final = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "pre", "hr"}
)
_SKIPPED: Final = frozenset({"script", "style", "head", "title", "attachment"})
_SPACES: Final = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES: Final = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Place:
    """Where the message was written: ``channel``, ``groupChat``, ``meeting`` or ``personal``."""

    kind: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """The message a ticket is opened from; ``author_oid`` is set when a person wrote it."""

    id: str | None
    text: str
    author_name: str | None
    author_oid: str | None
    created_at: datetime | None
    link: str | None
    place: Place


def parse_source(value: Mapping[str, Any], activity: Activity) -> SourceMessage | None:
    """Read the invoke's ``messagePayload``; None when the action did not come from a message."""
    payload = value.get("messagePayload")
    if not isinstance(payload, Mapping):
        return None
    body = _mapping(payload.get("body"))
    content = body.get("content")
    content = content[:MAX_HTML] if isinstance(content, str) else ""
    mentions = _mention_names(payload.get("mentions"))
    if str(body.get("contentType") or "html").lower() == "text":
        text = _tidy(content)
    else:
        text = html_to_text(content, mentions)
    name, oid = _author(_mapping(payload.get("from")))
    raw_id = payload.get("id")
    return SourceMessage(
        id=str(raw_id)[:100] if isinstance(raw_id, str | int) and str(raw_id) else None,
        text=text,
        author_name=name,
        author_oid=oid,
        created_at=_when(payload.get("createdDateTime")),
        link=_link(payload.get("linkToMessage")),
        place=place_of(activity),
    )


def place_of(activity: Activity) -> Place:
    """Tell where an invoke came from, with the chat's or channel's name when Teams gives one."""
    data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    conversation = activity.conversation
    kind = str(getattr(conversation, "conversation_type", None) or "personal")
    name = _clean_name(getattr(conversation, "name", None))
    if isinstance(data.get("meeting"), Mapping):
        return Place("meeting", name)
    if kind == "channel":
        channel = _mapping(data.get("channel"))
        return Place("channel", _clean_name(channel.get("name")) or name)
    if kind == "groupChat":
        return Place("groupChat", name)
    return Place("personal")


def html_to_text(html: str, mentions: Mapping[str, str] | None = None) -> str:
    """Turn a Teams message body into plain text; ``<at id="N">`` becomes the mentioned name."""
    parser = _TextParser(mentions or {})
    parser.feed(html[:MAX_HTML])
    parser.close()
    return _tidy(parser.text())


class _TextParser(HTMLParser):
    """Collect the visible text of an HTML fragment, with line breaks where blocks end."""

    def __init__(self, mentions: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self._mentions = mentions
        self._parts: list[str] = []
        self._skipping = 0
        self._mention: str | None = None
        # Open <a> tags: their href and where their text starts in `_parts`.
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag == "at":
            self._mention = self._mentions.get(str(named.get("id") or ""), "")
            self._parts.append(self._mention)
        elif tag == "a":
            self._links.append((named.get("href"), len(self._parts)))
        elif tag in ("img", "emoji") and named.get("alt"):
            # Teams writes emoji as images whose alt text is the emoji itself.
            self._parts.append(str(named["alt"])[:20])
        elif tag == "li":
            self._parts.append("\n• ")
        elif tag in _BLOCKS:
            self._parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED or tag == "at":
            return  # a self-closed skip or mention has no content to hide
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "at":
            self._mention = None
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            shown = "".join(self._parts[start:]).strip()
            # Keep a link's target when its text hides it (the agent should see where it goes).
            if href and _is_web_url(href, schemes=("http", "https")) and href.strip() != shown:
                self._parts.append(f" ({href.strip()})")
        elif tag in _BLOCKS and tag not in ("br", "li"):
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skipping or self._mention is not None:
            return  # a mention's own text is replaced by the resolved name
        self._parts.append(_SPACES.sub(" ", data.replace("\r", "").replace("\n", " ")))

    def text(self) -> str:
        """Return what was collected so far."""
        return "".join(self._parts)


def _tidy(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _mention_names(raw: object) -> dict[str, str]:
    names: dict[str, str] = {}
    if not isinstance(raw, list):
        return names
    for mention in raw:
        if not isinstance(mention, Mapping):
            continue
        mentioned = _mapping(mention.get("mentioned"))
        who = _mapping(mentioned.get("user")) or _mapping(mentioned.get("application"))
        name = _clean_name(who.get("displayName")) or _clean_name(mention.get("mentionText"))
        if name is not None:
            names[str(mention.get("id"))] = name
    return names


def _author(sender: Mapping[str, Any]) -> tuple[str | None, str | None]:
    user = _mapping(sender.get("user"))
    if user:
        oid = user.get("id")
        return _clean_name(user.get("displayName")), str(oid) if isinstance(oid, str) else None
    application = _mapping(sender.get("application"))
    return _clean_name(application.get("displayName")), None


def _when(raw: object) -> datetime | None:
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _link(raw: object) -> str | None:
    if not isinstance(raw, str) or len(raw) > MAX_LINK or not _is_web_url(raw):
        return None
    return raw.strip()


def _is_web_url(raw: str, schemes: tuple[str, ...] = ("https",)) -> bool:
    value = raw.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and not any(c.isspace() for c in value)


def _clean_name(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    name = " ".join(raw.split())[:MAX_NAME]
    return name or None


def _mapping(raw: object) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}
