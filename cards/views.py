"""View data the bot fills and the card builders read: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

# Labels of configured choices: field ("complexity", "sector") -> value -> locale -> label.
ChoiceLabels = Mapping[str, Mapping[str, Mapping[str, str]]]
NO_LABELS: ChoiceLabels = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """One history row; ``status`` is a Chatwoot status: open, pending, resolved or snoozed."""

    id: int
    title: str
    status: str
    assignee: str | None
    updated_at: datetime
    # Agent messages the employee has not seen yet (on the web or on a ticket card here).
    unread: int = 0


@dataclass(frozen=True, slots=True)
class CardFile:
    """A file of a message: ``image_url`` set for a picture shown in the card, else a link."""

    name: str
    url: str
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of an agent's Markdown: its text and its style (``href`` is http(s) only)."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class CardMessage:
    """One message of a ticket; ``direction`` is ``requester``, ``agent`` or ``system``."""

    direction: str
    author: str
    content: str
    created_at: datetime | None
    # Deleted in Chatwoot: the card says so instead of showing the old text.
    deleted: bool = False
    # The satisfaction survey: shown with our own prompt, never Chatwoot's text (its copies
    # differ by channel), and its rating once given.
    survey: bool = False
    rating: int | None = None
    # A bot question's chosen answer, once given.
    answer: str | None = None
    files: Sequence[CardFile] = ()
    # An agent's Markdown, parsed: shown styled. Empty means plain text (the employee's own).
    spans: Sequence[Span] = ()


@dataclass(frozen=True, slots=True)
class TicketView:
    """Everything the ticket card shows; ``messages`` oldest first (the card keeps the last 5)."""

    id: int
    title: str
    status: str
    assignee: str | None
    sector: str | None
    complexity: str | None
    created_at: datetime
    updated_at: datetime
    messages: Sequence[CardMessage] = ()
    beneficiary_name: str | None = None
    labels: ChoiceLabels = field(default_factory=lambda: NO_LABELS)


@dataclass(frozen=True, slots=True)
class ReplyView:
    """An agent's reply on a ticket, shown on its own card."""

    ticket_id: int
    title: str
    message: CardMessage


@dataclass(frozen=True, slots=True)
class FormView:
    """The new-ticket form: choices, values typed so far, server errors and a notice.

    ``errors`` maps an input id to an error **code** (``required``, ``too_short``, ``too_long``,
    ``invalid_choice``, ``invalid_email``); the card translates it. ``notice`` is an already
    translated sentence shown above the form (e.g. "helpdesk unavailable, try again").
    ``form_id`` is a fresh unique id per form card, echoed back as ``formId`` on submit so a
    double click can be detected. ``labels`` names the choices in each language; a value without
    a label shows as is.
    """

    complexities: Sequence[str]
    sectors: Sequence[str]
    form_id: str
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    errors: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    notice: str | None = None
    labels: ChoiceLabels = field(default_factory=lambda: NO_LABELS)


@dataclass(frozen=True, slots=True)
class HistoryView:
    """One 1-based page of the user's tickets, newest first; 10 rows a page, 15 at most."""

    tickets: Sequence[TicketSummary]
    page: int = 1
    pages: int = 1
