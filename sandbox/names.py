"""Random tokens and names, as Rails and Chatwoot make them."""

from __future__ import annotations

import secrets
import string

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_ADJECTIVES = ("silent", "brave", "lucky", "shy", "calm", "bold", "quick", "wise", "noble")
_NOUNS = (
    "river",
    "falcon",
    "meadow",
    "harbor",
    "comet",
    "maple",
    "canyon",
    "ember",
    "glade",
    "otter",
)


def secure_token(length: int = 24) -> str:
    """Return a Rails ``has_secure_token``-style random token."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def random_contact_name() -> str:
    """Return a random "adjective-noun-123" name, as Chatwoot gives nameless contacts."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(900) + 100}"
