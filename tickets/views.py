"""Plain data the front doors render: tickets and timeline items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from db.models import Message, Ticket, TicketEvent
from db.presence import LastMessage, Summary
from tickets.attachments import public
from tickets.markdown import spans
from tickets.questions import Question, Survey, question_of, survey_of

# An agent's "typing" with no "stopped" after this long is stale (a lost typing_off).
TYPING_TTL: Final = timedelta(seconds=60)


def typing_of(ticket: Ticket, now: datetime | None = None) -> str | None:
    """Return who is typing on the ticket, unless that news is stale."""
    if ticket.agent_typing is None or ticket.agent_typing_at is None:
        return None
    if (now or datetime.now(UTC)) - ticket.agent_typing_at > TYPING_TTL:
        return None
    return ticket.agent_typing


@dataclass(frozen=True)
class TicketInfo:
    """A ticket as its requester sees it."""

    id: int
    requester_id: int
    title: str
    description: str
    status: str
    assignee: str | None
    complexity: str
    sector: str
    beneficiary_name: str | None
    beneficiary_email: str | None
    chatwoot_conversation_id: int
    origin: str
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    # Agent messages the requester has not seen, the newest message, who is typing.
    unread: int = 0
    last_message: LastMessage | None = None
    typing: str | None = None

    @classmethod
    def of(cls, ticket: Ticket, summary: Summary | None = None) -> TicketInfo:
        """Build from a row (and its list summary, when read)."""
        summary = summary or Summary()
        return cls(
            id=ticket.id,
            requester_id=ticket.requester_id,
            title=ticket.title,
            description=ticket.description,
            status=str(ticket.status),
            assignee=ticket.assignee_name,
            complexity=ticket.complexity,
            sector=ticket.sector,
            beneficiary_name=ticket.beneficiary_name,
            beneficiary_email=ticket.beneficiary_email,
            chatwoot_conversation_id=ticket.chatwoot_conversation_id,
            origin=str(ticket.origin),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            last_activity_at=ticket.last_activity_at,
            unread=summary.unread,
            last_message=summary.last_message,
            typing=typing_of(ticket),
        )

    @property
    def live_state(self) -> tuple[Any, ...]:
        """Return what a ticket's live page shows of it: a change there means a new frame."""
        return (self.status, self.assignee, self.typing)

    def to_json(self) -> dict[str, Any]:
        """Render with the JSON API's names."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "assignee": self.assignee,
            "complexity": self.complexity,
            "sector": self.sector,
            "beneficiaryName": self.beneficiary_name,
            "beneficiaryEmail": self.beneficiary_email,
            "chatwootConversationId": self.chatwoot_conversation_id,
            "origin": self.origin,
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
            "lastActivityAt": self.last_activity_at.isoformat(),
            "unread": self.unread,
            "lastMessage": _last_message_json(self.last_message),
            "typing": self.typing,
        }


def _last_message_json(last: LastMessage | None) -> dict[str, Any] | None:
    if last is None:
        return None
    return {
        "author": last.author,
        "content": last.content,
        "createdAt": last.created_at.isoformat(),
        "direction": last.direction,
        "files": last.files,
    }


@dataclass(frozen=True)
class TimelineItem:
    """One line of a ticket's timeline: a message, or a system event (`kind` + `data`).

    Ids come from one sequence across messages and events; an edited or deleted message draws
    a revision from it too, so `cursor` (the newer of the two) is where a reader resumes.
    Display follows Chatwoot's posting order instead (`sort_key`): jobs deliver unordered.
    """

    id: int
    ticket_id: int
    direction: str
    author: str
    content: str
    created_at: datetime
    kind: str = "message"
    data: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # Deleted in Chatwoot: renderers show a localized marker, never the old text or files.
    deleted: bool = False
    # The choices of an agent bot's question (`input_select`), shown under its text.
    options: list[str] = field(default_factory=list)
    # A bot question or the satisfaction survey, with its answer (tickets/questions.py).
    question: Question | None = None
    survey: Survey | None = None
    revision: int | None = None
    chatwoot_id: int | None = None
    # An event's place among Chatwoot's messages: the newest one stored before it.
    anchor: int = 0

    @property
    def cursor(self) -> int:
        """Return the resume position of this version of the item."""
        return max(self.id, self.revision or 0)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """Return the display position: Chatwoot's second, then its message id, then ours.

        Chatwoot's ids order its messages; seconds (the precision every copy carries) place
        events among them, within a second after the messages stored before them (`anchor`),
        and our id breaks what is left.
        """
        return (int(self.created_at.timestamp()), self.chatwoot_id or self.anchor, self.id)

    @property
    def spans(self) -> list[dict[str, Any]]:
        """Return an agent message's Markdown as styled spans (the employee's stays plain)."""
        if self.direction != "agent" or self.deleted:
            return [{"text": self.content}]
        return spans(self.content)

    @classmethod
    def of_message(cls, message: Message) -> TimelineItem:
        """Build from a message row."""
        return cls(
            id=message.id,
            ticket_id=message.ticket_id,
            direction=str(message.direction),
            author=message.author,
            content=message.content,
            created_at=message.created_at,
            attachments=list(message.attachments),
            deleted=message.deleted,
            options=options_of(message.content_type, message.content_attributes),
            question=None
            if message.deleted
            else question_of(message.content_type, message.content_attributes),
            survey=None
            if message.deleted
            else survey_of(message.content_type, message.content_attributes, message.created_at),
            revision=message.revision,
            chatwoot_id=message.chatwoot_message_id,
        )

    @classmethod
    def of_event(cls, event: TicketEvent, anchor: int = 0) -> TimelineItem:
        """Build from an event row; `anchor` is the newest Chatwoot message id stored before it."""
        return cls(
            id=event.id,
            ticket_id=event.ticket_id,
            direction="system",
            author=str(event.data.get("actor") or ""),
            content="",
            created_at=event.occurred_at,
            kind=event.kind,
            data=dict(event.data),
            anchor=anchor,
        )

    @property
    def files(self) -> list[dict[str, Any]]:
        """Return the files as the JSON API shows them (none once deleted)."""
        return public(self.ticket_id, self.attachments, deleted=self.deleted)

    def to_json(self) -> dict[str, Any]:
        """Render with the JSON API's names."""
        return {
            "id": self.id,
            "ticketId": self.ticket_id,
            "direction": self.direction,
            "author": self.author,
            "content": self.content,
            "kind": self.kind,
            "data": self.data,
            "attachments": self.files,
            "deleted": self.deleted,
            "options": self.options,
            "question": self.question.to_json() if self.question else None,
            "survey": self.survey.to_json() if self.survey else None,
            "spans": self.spans,
            "createdAt": self.created_at.isoformat(),
            "cursor": self.cursor,
            "sortKey": list(self.sort_key),
        }


def options_of(content_type: str, attributes: dict[str, Any]) -> list[str]:
    """Return the titles of a question's options (Chatwoot's `input_select` items)."""
    items = attributes.get("items") if content_type == "input_select" else None
    if not isinstance(items, list):
        return []
    titles = [item.get("title") for item in items if isinstance(item, dict)]
    return [title for title in titles if isinstance(title, str) and title]
