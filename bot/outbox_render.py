"""Turn one outbox row into what Teams is sent: an agent-reply card, a ticket card, a line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import views
from bot.gateway import OutgoingMessage
from db import outbox as store
from db import repo
from db.models import Ticket
from db.outbox import Claim
from i18n import t
from tickets import reads
from tickets.deliveries import AgentMessage, CardUpdate, StatusLine, TicketCard, from_row
from tickets.views import TicketInfo

# The card shows the tail of the conversation; the web page has all of it.
CARD_TIMELINE = 20


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
) -> Rendered:
    """Render a claimed row in its user's locale (reads the ticket for ticket cards)."""
    locale = claim.locale or default_locale
    delivery = from_row(claim.kind, claim.payload, claim.ticket_id)
    if delivery is None:
        return Rendered(skip=f"unknown outbox kind {claim.kind!r}")
    link = f"{base_url}/tickets/{delivery.ticket_id}"
    match delivery:
        case AgentMessage():
            card = cards.agent_reply_card(
                delivery.ticket_id,
                delivery.title,
                delivery.author,
                delivery.content,
                locale,
                sent_at=delivery.created_at,
            )
            fallback = (
                f"{t('card.reply.title', locale, id=delivery.ticket_id)} — "
                f"{t('card.reply.from', locale, agent=delivery.author)}: {link}"
            )
            return Rendered(message=OutgoingMessage(card=card), fallback=fallback)
        case StatusLine():
            line = cards.status_line(
                delivery.ticket_id,
                delivery.title,
                delivery.status,
                locale,
                reopened=delivery.event == "reopened",
            )
            return Rendered(message=OutgoingMessage(text=line), fallback=f"{line} {link}")
        case CardUpdate():
            async with sessions() as session:
                return await _card_update(session, claim, delivery.ticket_id, locale)
        case TicketCard():
            async with sessions() as session:
                return await _new_ticket_card(session, delivery.ticket_id, locale, link)


async def _new_ticket_card(
    session: AsyncSession, ticket_id: int, locale: str, link: str
) -> Rendered:
    """Render a ticket's card as a new message (a ticket opened outside this chat)."""
    ticket = await repo.get_ticket(session, ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    line = cards.created_line(ticket.id, ticket.title, locale)
    card = await _ticket_card(session, ticket, locale)
    return Rendered(message=OutgoingMessage(text=line, card=card), fallback=f"{line} {link}")


async def _card_update(
    session: AsyncSession, claim: Claim, ticket_id: int, locale: str
) -> Rendered:
    ticket = await repo.get_ticket(session, ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    if not ticket.teams_card_activity_id or ticket.teams_card_conversation_id != claim.target:
        return Rendered(skip="no ticket card in this conversation")
    if await store.card_update_superseded(session, claim, ticket_id):
        # The later update renders the same current state: one PUT is enough.
        return Rendered(skip="superseded by a later card update")
    card = await _ticket_card(session, ticket, locale)
    return Rendered(message=OutgoingMessage(card=card), activity_id=ticket.teams_card_activity_id)


async def _ticket_card(session: AsyncSession, ticket: Ticket, locale: str) -> dict[str, Any]:
    """Build the ticket's card the way a click shows it (one path: `bot.views.ticket_card`)."""
    timeline = await reads.timeline_tail(session, ticket.id, limit=CARD_TIMELINE)
    return views.ticket_card(TicketInfo.of(ticket), timeline, locale)
