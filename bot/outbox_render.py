"""Turn one outbox row into what Teams is sent: an agent-reply card, a ticket card, a line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot.gateway import OutgoingMessage
from db import repo
from db.models import Message, OutboxItem, OutboxState, Ticket
from db.outbox import Claim
from i18n import t


@dataclass(frozen=True)
class Rendered:
    """A message to send (or, with `activity_id`, to put in place of that one), or a skip."""

    message: OutgoingMessage | None = None
    activity_id: str | None = None
    # Plain text with a link to the web page, for when Teams finds the message too large.
    fallback: str | None = None
    skip: str | None = None


async def render(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    *,
    default_locale: str,
    base_url: str,
    labels: cards.ChoiceLabels | None = None,
) -> Rendered:
    """Render a claimed row in its user's locale (reads the ticket for card updates)."""
    locale = claim.locale or default_locale
    payload = claim.payload
    ticket_id = int(payload.get("ticket_id") or claim.ticket_id or 0)
    link = f"{base_url}/tickets/{ticket_id}"
    if claim.kind == "agent_message":
        card = cards.agent_reply_card(
            ticket_id,
            str(payload.get("title") or ""),
            str(payload.get("author") or ""),
            str(payload.get("content") or ""),
            locale,
            sent_at=_when(payload.get("created_at")),
        )
        fallback = (
            f"{t('card.reply.title', locale, id=ticket_id)} — "
            f"{t('card.reply.from', locale, agent=payload.get('author') or '')}: {link}"
        )
        return Rendered(message=OutgoingMessage(card=card), fallback=fallback)
    if claim.kind == "status_line":
        event = str(payload.get("event") or "")
        line = cards.status_line(
            ticket_id,
            str(payload.get("title") or ""),
            str(payload.get("status") or ""),
            locale,
            reopened=event == "reopened",
        )
        return Rendered(message=OutgoingMessage(text=line), fallback=f"{line} {link}")
    if claim.kind == "message_update":
        async with sessions() as session:
            return await _message_update(session, claim, ticket_id, locale)
    if claim.kind == "card_update":
        async with sessions() as session:
            return await _card_update(session, claim, ticket_id, locale, labels or {})
    if claim.kind == "ticket_card":
        async with sessions() as session:
            return await _new_ticket_card(session, ticket_id, locale, link, labels or {})
    return Rendered(skip=f"unknown outbox kind {claim.kind!r}")


async def _new_ticket_card(
    session: AsyncSession, ticket_id: int, locale: str, link: str, labels: cards.ChoiceLabels
) -> Rendered:
    """Render a ticket's card as a new message (a ticket opened outside this chat)."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    line = cards.created_line(ticket.id, ticket.title, locale)
    card = await _ticket_card(session, ticket, locale, labels)
    return Rendered(message=OutgoingMessage(text=line, card=card), fallback=f"{line} {link}")


async def _message_update(
    session: AsyncSession, claim: Claim, ticket_id: int, locale: str
) -> Rendered:
    """Put an agent reply's card in place again with its edited text, or the deleted marker."""
    payload = claim.payload
    ticket = await session.get(Ticket, ticket_id)
    message = await session.get(Message, int(payload.get("message_id") or 0))
    if ticket is None or message is None:
        return Rendered(skip="message gone")
    sent = await session.scalar(
        select(OutboxItem.activity_id).where(
            OutboxItem.dedupe_key == f"msg:{message.chatwoot_message_id}:{claim.target}",
            OutboxItem.state == OutboxState.SENT,
        )
    )
    if not sent:
        return Rendered(skip="the reply was never shown in this conversation")
    content = t("card.message.deleted", locale) if message.deleted else message.content
    card = cards.agent_reply_card(
        ticket_id, ticket.title, message.author, content, locale, sent_at=message.created_at
    )
    return Rendered(message=OutgoingMessage(card=card), activity_id=sent)


async def _card_update(
    session: AsyncSession, claim: Claim, ticket_id: int, locale: str, labels: cards.ChoiceLabels
) -> Rendered:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    if not ticket.teams_card_activity_id or ticket.teams_card_conversation_id != claim.target:
        return Rendered(skip="no ticket card in this conversation")
    newer = await session.scalar(
        select(
            exists().where(
                OutboxItem.target == claim.target,
                OutboxItem.kind == "card_update",
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.state == OutboxState.PENDING,
                OutboxItem.id > claim.id,
            )
        )
    )
    if newer:
        # The later update renders the same current state: one PUT is enough.
        return Rendered(skip="superseded by a later card update")
    card = await _ticket_card(session, ticket, locale, labels)
    return Rendered(message=OutgoingMessage(card=card), activity_id=ticket.teams_card_activity_id)


async def _ticket_card(
    session: AsyncSession, ticket: Ticket, locale: str, labels: cards.ChoiceLabels
) -> dict[str, Any]:
    messages, _events = await repo.recent_timeline(session, ticket.id, limit=20)
    view = cards.TicketView(
        id=ticket.id,
        title=ticket.title,
        status=str(ticket.status),
        assignee=ticket.assignee_name,
        sector=ticket.sector,
        complexity=ticket.complexity,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        messages=[
            cards.CardMessage(
                direction=str(message.direction),
                author=message.author,
                content=message.content,
                created_at=message.created_at,
                deleted=message.deleted,
            )
            for message in messages
        ],
        beneficiary_name=ticket.beneficiary_name,
        labels=labels,
    )
    return cards.ticket_card(view, locale)


def _when(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
