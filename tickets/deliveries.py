"""The ingest → outbox contract: what a queued Teams delivery says, typed on both sides.

Ingest (and the bot's message action) queue one of these per Teams chat of the user (`queue`,
`to_row`); the bot's outbox worker reads it back (`from_row`) and renders it. The row keeps
the kind and a JSON payload, so a payload written by an older process still reads; an unknown
kind reads as None and is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox as outbox_repo
from db import outbox_cards, repo
from db import teams as teams_repo


class DeliveryKind(StrEnum):
    """Name what a delivery shows the employee in Teams."""

    AGENT_MESSAGE = "agent_message"  # an agent's reply, as a card that can be answered
    CARD_UPDATE = "card_update"  # re-render the ticket's card in place
    STATUS_LINE = "status_line"  # one short line: the ticket was resolved or reopened
    # An agent's reply was edited or deleted: the message that showed it is put in place again.
    MESSAGE_UPDATE = "message_update"
    # The ticket's card as a new message (a ticket opened from a message action, outside the
    # 1:1 chat); the worker remembers the message so later changes update it in place.
    TICKET_CARD = "ticket_card"
    # "…is typing" in the chat while an agent types a reply (bounded per chat by its key).
    TYPING = "typing"
    # A card that is no longer the ticket's newest shrinks to a one-line summary, so the chat
    # shows each reply once: on the newest card, where the employee reads on.
    CARD_SUMMARY = "card_summary"


@dataclass(frozen=True, slots=True)
class AgentMessage:
    """An agent replied on a ticket."""

    ticket_id: int
    title: str
    author: str
    content: str
    message_id: int
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """An agent's reply (``message_id``, our row) was edited or deleted in Chatwoot."""

    ticket_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class CardUpdate:
    """The ticket's state changed: its card shows the current state."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class TicketCard:
    """Show the ticket's card in the 1:1 chat as a new message."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class StatusLine:
    """The ticket was resolved or reopened (`event` is the timeline kind)."""

    ticket_id: int
    title: str
    event: str
    status: str


@dataclass(frozen=True, slots=True)
class Typing:
    """An agent is typing a reply on the ticket: show Teams' typing indicator."""

    ticket_id: int


@dataclass(frozen=True, slots=True)
class CardSummary:
    """Collapse the ticket's older card (the Teams message ``activity_id``) to its summary."""

    ticket_id: int
    activity_id: str


Delivery = (
    AgentMessage | CardSummary | CardUpdate | MessageUpdate | StatusLine | TicketCard | Typing
)


def to_row(delivery: Delivery) -> tuple[DeliveryKind, dict[str, Any]]:
    """Return the outbox row's kind and JSON payload for a delivery."""
    match delivery:
        case AgentMessage():
            return DeliveryKind.AGENT_MESSAGE, {
                "ticket_id": delivery.ticket_id,
                "title": delivery.title,
                "author": delivery.author,
                "content": delivery.content,
                "message_id": delivery.message_id,
                "created_at": delivery.created_at.isoformat() if delivery.created_at else None,
            }
        case CardUpdate():
            return DeliveryKind.CARD_UPDATE, {"ticket_id": delivery.ticket_id}
        case MessageUpdate():
            return DeliveryKind.MESSAGE_UPDATE, {
                "ticket_id": delivery.ticket_id,
                "message_id": delivery.message_id,
            }
        case TicketCard():
            return DeliveryKind.TICKET_CARD, {"ticket_id": delivery.ticket_id}
        case Typing():
            return DeliveryKind.TYPING, {"ticket_id": delivery.ticket_id}
        case CardSummary():
            return DeliveryKind.CARD_SUMMARY, {
                "ticket_id": delivery.ticket_id,
                "activity_id": delivery.activity_id,
            }
        case StatusLine():
            return DeliveryKind.STATUS_LINE, {
                "ticket_id": delivery.ticket_id,
                "title": delivery.title,
                "event": delivery.event,
                "status": delivery.status,
            }


# What only the statement that stores an agent's reply knows (db.ingest fills these in).
_STORED_FIELDS = ("ticket_id", "title", "message_id")


def agent_message_row(
    *, author: str, content: str, created_at: datetime | None
) -> tuple[DeliveryKind, dict[str, Any]]:
    """Return an agent reply's kind and payload less the ticket id, title and message id.

    Ingest queues the delivery in the same statement that stores the message, which adds them.
    """
    kind, payload = to_row(
        AgentMessage(
            ticket_id=0,
            title="",
            author=author,
            content=content,
            message_id=0,
            created_at=created_at,
        )
    )
    for name in _STORED_FIELDS:
        del payload[name]
    return kind, payload


def from_row(kind: str, payload: Mapping[str, Any], ticket_id: int | None) -> Delivery | None:
    """Read a delivery back from an outbox row; None for a kind this version does not know."""
    ticket = int(payload.get("ticket_id") or ticket_id or 0)
    if kind == DeliveryKind.AGENT_MESSAGE:
        return AgentMessage(
            ticket_id=ticket,
            title=str(payload.get("title") or ""),
            author=str(payload.get("author") or ""),
            content=str(payload.get("content") or ""),
            message_id=int(payload.get("message_id") or 0),
            created_at=_when(payload.get("created_at")),
        )
    if kind == DeliveryKind.CARD_UPDATE:
        return CardUpdate(ticket_id=ticket)
    if kind == DeliveryKind.MESSAGE_UPDATE:
        return MessageUpdate(ticket_id=ticket, message_id=int(payload.get("message_id") or 0))
    if kind == DeliveryKind.TICKET_CARD:
        return TicketCard(ticket_id=ticket)
    if kind == DeliveryKind.TYPING:
        return Typing(ticket_id=ticket)
    if kind == DeliveryKind.CARD_SUMMARY:
        return CardSummary(ticket_id=ticket, activity_id=str(payload.get("activity_id") or ""))
    if kind == DeliveryKind.STATUS_LINE:
        return StatusLine(
            ticket_id=ticket,
            title=str(payload.get("title") or ""),
            event=str(payload.get("event") or ""),
            status=str(payload.get("status") or ""),
        )
    return None


async def queue(
    session: AsyncSession, *, user_id: int, ticket_id: int, delivery: Delivery, key: str
) -> int:
    """Queue a delivery for each Teams chat the bot may still write to for the user.

    Each row is keyed on (`key`, chat), so a replay queues nothing twice; the workers are woken
    when the transaction commits. Returns how many chats the delivery is (or already was) for.
    """
    kind, payload = to_row(delivery)
    references = await teams_repo.active_references(session, user_id)
    queued = False
    for reference in references:
        queued |= await repo.enqueue(
            session,
            user_id=user_id,
            ticket_id=ticket_id,
            target=reference.conversation_id,
            kind=kind,
            payload=payload,
            dedupe_key=f"{key}:{reference.conversation_id}",
        )
    if queued:
        await outbox_repo.wake_workers(session)
    return len(references)


async def show_card_at(
    session: AsyncSession,
    *,
    user_id: int,
    ticket_id: int,
    conversation_id: str,
    activity_id: str,
    reply_id: int | None = None,
) -> bool:
    """Make a Teams message the ticket's newest card, collapsing the cards it would repeat.

    A reply's own card (``reply_id``) repeats only a full card before it, which collapses; a
    full card repeats every reply, so every older card of the ticket in that chat collapses.
    Each reply is then shown once in the chat. Returns whether the ticket is the user's.
    """
    move = await teams_repo.move_ticket_card(
        session,
        ticket_id,
        requester_id=user_id,
        activity_id=activity_id,
        conversation_id=conversation_id,
        reply_id=reply_id,
    )
    older: list[str] = []
    if move.previous is not None and (reply_id is None or move.previous_reply is None):
        older.append(move.previous)
    if move.moved and reply_id is None:
        older += await outbox_cards.reply_cards(session, ticket_id, conversation_id)
    queued = False
    for card in dict.fromkeys(older):
        if card == activity_id:
            continue
        kind, payload = to_row(CardSummary(ticket_id, card))
        queued |= await repo.enqueue(
            session,
            user_id=user_id,
            ticket_id=ticket_id,
            target=conversation_id,
            kind=kind,
            payload=payload,
            # Keyed on the move too: a card opened again can collapse again later.
            dedupe_key=f"summary:{card}:{activity_id}:{conversation_id}",
        )
    if queued:
        await outbox_repo.wake_workers(session)
    return move.moved


def _when(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
