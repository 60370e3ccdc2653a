"""Text commands in pt-BR and English, understood loosely (case, accents, spaces, punctuation)."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Final


class Command(StrEnum):
    """What a typed line asks for; anything else is a message for the current ticket."""

    NEW = "new"
    LIST = "list"
    HELP = "help"


# The manifest's commands and the short words the help card lists.
_WORDS: Final = {
    "novo": Command.NEW,
    "novo chamado": Command.NEW,
    "abrir chamado": Command.NEW,
    "new": Command.NEW,
    "new ticket": Command.NEW,
    "chamados": Command.LIST,
    "meus chamados": Command.LIST,
    "tickets": Command.LIST,
    "my tickets": Command.LIST,
    "ajuda": Command.HELP,
    "help": Command.HELP,
    "?": Command.HELP,
}
# The longest command with a mention in front is a few dozen characters; anything much longer
# is a message, and never reaches the patterns (a hostile megabyte costs nothing).
MAX_COMMAND_CHARS: Final = 1000
# `[^<]*` cannot overlap the closing tag, so the scan is linear even without a closing tag.
_MENTION: Final = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_LEADING: Final = " /!.,;:¡¿"
_TRAILING: Final = " !.,;:"


def normalize(text: str) -> str:
    """Lower-case, drop accents, @mentions and edge punctuation, collapse spaces."""
    text = _MENTION.sub(" ", text)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # str.strip rather than an anchored `[...]+$` pattern, which rescans every inner run.
    return " ".join(plain.split()).lstrip(_LEADING).rstrip(_TRAILING)


def parse_command(text: str | None) -> Command | None:
    """Return the command a line asks for, or None when it is a message."""
    if not text or len(text) > MAX_COMMAND_CHARS:
        return None
    return _WORDS.get(normalize(text))
