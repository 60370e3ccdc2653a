"""Turn one outbox row into what Teams is sent: an agent-reply card, a ticket card, a line.

The row is read back through the typed contract (``tickets.deliveries``); every card is built
by the same functions the bot's card actions use (``bot.views``), so a card updated in place
and the card shown on a click are one card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cards
from bot import answer_cards, views
from bot.gateway import OutgoingMessage
from db import outbox as outbox_repo
from db import outbox_cards, repo
from db.models import Ticket
from db.outbox import Claim
from i18n import t
from tickets import reads
from tickets.attachments import FileLinks
from tickets.deliveries import (
    AgentMessage,
    CardSummary,
    CardUpdate,
    MessageUpdate,
    StatusLine,
    TicketCard,
    Typing,
    from_row,
)
from tickets.views import TicketInfo, TimelineItem

# Timeline items read for a card: enough for its last messages and their count.
CARD_TIMELINE = 20
# A typing indicator that waited longer than this (a throttle, a busy worker) is not sent.
TYPING_STALE = timedelta(seconds=8)


@dataclass(frozen=True)
class Rendered:
    """A message to send (or, with `activity_id`, to put in place of that one), or a skip."""

    message: OutgoingMessage | None = None
    activity_id: str | None = None
    # Plain text with a link to the web page, for when Teams finds the message too large.
    fallback: str | None = None
    skip: str | None = None
    # Once sent, this message is the ticket's newest card in the chat (older ones may collapse);
    # `reply_id` when it shows that one reply alone, not the whole ticket.
    live: bool = False
    reply_id: int | None = None


async def render(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    *,
    default_locale: str,
    base_url: str,
    labels: cards.ChoiceLabels | None = None,
    links: FileLinks | None = None,
) -> Rendered:
    """Render a claimed row in its user's locale (reads the ticket for card updates).

    `links` signs the links to messages' files (card images are fetched without a cookie).
    """
    delivery = from_row(claim.kind, claim.payload, claim.ticket_id)
    if delivery is None:
        return Rendered(skip=f"unknown outbox kind {claim.kind!r}")
    locale = claim.locale or default_locale
    link = f"{base_url}/tickets/{delivery.ticket_id}"
    match delivery:
        case AgentMessage():
            async with sessions() as session:
                asked = await answer_cards.card_for_message(
                    session, claim.user_id, delivery.ticket_id, delivery.message_id, locale
                )
                stored = await repo.message_of(session, delivery.ticket_id, delivery.message_id)
            if asked is not None:
                # A survey or bot question: native controls instead of the plain reply card.
                return Rendered(message=OutgoingMessage(card=asked), fallback=link)
            files = views.card_files(TimelineItem.of_message(stored), links) if stored else ()
            return _agent_message(delivery, locale, link, files)
        case StatusLine():
            line = cards.status_line(
                delivery.ticket_id,
                delivery.title,
                delivery.status,
                locale,
                reopened=delivery.event == "reopened",
            )
            return Rendered(message=OutgoingMessage(text=line), fallback=f"{line} {link}")
        case Typing():
            # Typing is news for a few seconds only: one that waited behind a throttle is dropped.
            if datetime.now(UTC) - claim.created_at > TYPING_STALE:
                return Rendered(skip="typing indicator is stale")
            return Rendered(message=OutgoingMessage(typing=True))
    async with sessions() as session:
        match delivery:
            case MessageUpdate():
                return await _message_update(session, claim, delivery, locale, links)
            case CardUpdate():
                return await _card_update(session, claim, delivery, locale, labels or {}, links)
            case TicketCard():
                return await _new_ticket_card(
                    session, claim, delivery, locale, link, labels or {}, links
                )
            case CardSummary():
                return await _card_summary(session, claim, delivery, locale)


def _agent_message(
    delivery: AgentMessage, locale: str, link: str, files: tuple[cards.CardFile, ...]
) -> Rendered:
    """Render an agent's reply on its own card, answerable in place."""
    message = views.agent_message(
        delivery.author, delivery.content, delivery.created_at, files=files
    )
    card = views.reply_card(delivery.ticket_id, delivery.title, message, locale)
    fallback = (
        f"{t('card.reply.title', locale, id=delivery.ticket_id)} — "
        f"{t('card.reply.from', locale, agent=delivery.author)}: {link}"
    )
    return Rendered(
        message=OutgoingMessage(card=card),
        fallback=fallback,
        live=True,
        reply_id=delivery.message_id or None,
    )


async def _new_ticket_card(
    session: AsyncSession,
    claim: Claim,
    delivery: TicketCard,
    locale: str,
    link: str,
    labels: cards.ChoiceLabels,
    links: FileLinks | None,
) -> Rendered:
    """Render a ticket's card as a new message (a ticket opened outside this chat)."""
    card = await _ticket_card(session, claim, delivery.ticket_id, locale, labels, links)
    if card is None:
        return Rendered(skip="ticket deleted")
    info, body = card
    line = cards.created_line(info.id, info.title, locale)
    return Rendered(
        message=OutgoingMessage(text=line, card=body), fallback=f"{line} {link}", live=True
    )


async def _message_update(
    session: AsyncSession,
    claim: Claim,
    delivery: MessageUpdate,
    locale: str,
    links: FileLinks | None,
) -> Rendered:
    """Put an agent reply's own card in place again: edited, deleted, or a question answered.

    When the ticket's full card is the newest, the card update queued with this row shows the
    change there; a collapsed card shows no message text at all.
    """
    ticket = await repo.ticket_for_user(session, claim.user_id, delivery.ticket_id)
    message = await repo.message_of(session, delivery.ticket_id, delivery.message_id)
    if ticket is None or message is None:
        return Rendered(skip="message gone")
    shown = await outbox_cards.sent_activity(
        session, f"msg:{message.chatwoot_message_id}:{claim.target}"
    )
    if not shown:
        return Rendered(skip="the reply was never shown in this conversation")
    newest = _is_newest_card(ticket, claim, shown)
    if newest and ticket.teams_card_message_id is None:
        return Rendered(skip="the ticket's card update shows the change")
    if not newest and await outbox_cards.collapsed(session, ticket.id, claim.target, shown):
        return Rendered(skip="the card shows only the ticket's summary")
    asked = await answer_cards.card_for_message(
        session, claim.user_id, ticket.id, message.id, locale
    )
    if asked is not None:
        # A survey or question, now answered (or edited): its card, in place.
        return Rendered(message=OutgoingMessage(card=asked), activity_id=shown)
    reply = views.card_message(TimelineItem.of_message(message), links)
    card = views.reply_card(ticket.id, ticket.title, reply, locale)
    return Rendered(message=OutgoingMessage(card=card), activity_id=shown)


async def _card_summary(
    session: AsyncSession, claim: Claim, delivery: CardSummary, locale: str
) -> Rendered:
    """Collapse an older card of the ticket to its summary (a newer card carries on below)."""
    ticket = await repo.ticket_for_user(session, claim.user_id, delivery.ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    if not delivery.activity_id or _is_newest_card(ticket, claim, delivery.activity_id):
        # The employee opened this card again meanwhile: it is the one to keep.
        return Rendered(skip="the card is the ticket's newest again")
    card = views.summary_card(TicketInfo.of(ticket), locale)
    return Rendered(message=OutgoingMessage(card=card), activity_id=delivery.activity_id)


def _is_newest_card(ticket: Ticket, claim: Claim, activity_id: str) -> bool:
    return (
        ticket.teams_card_activity_id == activity_id
        and ticket.teams_card_conversation_id == claim.target
    )


async def _card_update(
    session: AsyncSession,
    claim: Claim,
    delivery: CardUpdate,
    locale: str,
    labels: cards.ChoiceLabels,
    links: FileLinks | None,
) -> Rendered:
    """Put the ticket's card in place again with the ticket as it is now."""
    ticket = await repo.ticket_for_user(session, claim.user_id, delivery.ticket_id)
    if ticket is None:
        return Rendered(skip="ticket deleted")
    if not ticket.teams_card_activity_id or ticket.teams_card_conversation_id != claim.target:
        return Rendered(skip="no ticket card in this conversation")
    if ticket.teams_card_message_id is not None:
        # The newest card shows one reply (its edits come as message updates); the status
        # change reached the chat as its own line.
        return Rendered(skip="the newest card is a reply's own card")
    if await outbox_repo.card_update_superseded(session, claim, ticket.id):
        # The later update renders the same current state: one PUT is enough.
        return Rendered(skip="superseded by a later card update")
    card = await _ticket_card(session, claim, ticket.id, locale, labels, links)
    if card is None:
        return Rendered(skip="ticket deleted")
    return Rendered(
        message=OutgoingMessage(card=card[1]), activity_id=ticket.teams_card_activity_id
    )


async def _ticket_card(
    session: AsyncSession,
    claim: Claim,
    ticket_id: int,
    locale: str,
    labels: cards.ChoiceLabels,
    links: FileLinks | None,
) -> tuple[TicketInfo, dict[str, Any]] | None:
    """Build the ticket's card exactly as a click on it does (same reads, same builder)."""
    ticket = await repo.ticket_for_user(session, claim.user_id, ticket_id)
    if ticket is None:
        return None
    info = TicketInfo.of(ticket)
    timeline = await reads.timeline_tail(session, ticket_id, limit=CARD_TIMELINE)
    return info, views.ticket_card(info, timeline, locale, labels, links)
