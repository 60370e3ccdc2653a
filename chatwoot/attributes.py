"""What a ticket looks like to Chatwoot: its conversation attributes, label and priority.

Chatwoot's own limits and vocabularies stay here, at the edge: the core hands over plain
values and never shapes Chatwoot JSON itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

# Chatwoot refuses top-level custom attribute strings over 1,500 characters.
ATTRIBUTE_MAX: Final = 1500
PRIORITIES: Final = ("low", "medium", "high", "urgent")


def conversation_attributes(
    *,
    title: str,
    complexity: str,
    sector: str,
    requester: str,
    requester_email: str,
    beneficiary: str,
    beneficiary_email: str | None = None,
) -> dict[str, str]:
    """Build a ticket conversation's ``custom_attributes``, each cut to Chatwoot's cap."""
    attributes = {
        "title": title,
        "complexity": complexity,
        "sector": sector,
        "requester": requester,
        "requester_email": requester_email,
        "beneficiary": beneficiary,
    }
    if beneficiary_email is not None:
        attributes["beneficiary_email"] = beneficiary_email
    return {key: value[:ATTRIBUTE_MAX] for key, value in attributes.items()}


def contact_attributes(
    email: str | None, *, verified: bool, verified_by_entra: bool
) -> dict[str, str | bool]:
    """Describe a contact's address for agents, and whether its owner proved it.

    The address goes in custom attributes, never in ``email``: Chatwoot reuses (merges into) any
    contact already holding that e-mail, so ``email`` would let whoever typed someone else's
    address file tickets under that person's contact.
    """
    if not email:
        return {}
    return {
        "email": email,
        "email_verified": verified,
        "email_verified_by_entra": verified_by_entra,
    }


def sector_label(sector: str) -> str:
    """Name the routing label of a sector (``setor-ti``): Chatwoot labels are slugs."""
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in sector.lower()).strip("-")
    return f"setor-{cleaned or 'geral'}"


def priority_for(level: str, levels: Sequence[str]) -> str | None:
    """Map a complexity to a Chatwoot priority by its rank among the configured `levels`.

    Levels are listed from the simplest up, so the first is ``low`` and, with four or more,
    the last ones ``urgent``; a level that is not configured gets no priority.
    """
    if level not in levels:
        return None
    rank = list(levels).index(level)
    return PRIORITIES[min(len(PRIORITIES) - 1, rank * len(PRIORITIES) // len(levels))]
