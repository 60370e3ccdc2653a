"""Presence: who is typing on either side, and how far the employee has read.

Employee typing goes to Chatwoot's `toggle_typing` at most once per state change (a refresh of
"on" every few seconds while the typing goes on); read receipts go to `update_last_seen` only
when the employee's seen marker moves past an agent message, so a page that reports "seen" on
every scroll costs Chatwoot nothing. Agent typing arrives as an event: it is stored on the
ticket (every process's pages read it after the hub's hint) and shown in Teams as the typing
indicator, at most once per `TEAMS_TYPING_EVERY` per chat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.client import ChatwootClient
from chatwoot.events import TypingChanged
from db import presence, repo
from db.models import ChatwootContactLink, Ticket
from tickets import deliveries
from tickets.errors import TicketNotFound, helpdesk_call
from tickets.hub import TicketChanged, notify_changed

log = logging.getLogger(__name__)

# While the employee keeps typing, "on" is said again this often (Chatwoot forgets otherwise).
TYPING_REFRESH: Final = 10.0
# Teams' typing indicator lasts a few seconds; one per chat this often is plenty.
TEAMS_TYPING_EVERY: Final = 5
# Typing states kept per process before the oldest are forgotten (each only saves a call).
MAX_TYPING_STATES: Final = 10_000


class PresenceService:
    """Relay the employee's typing and reading to Chatwoot, debounced; one per app."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._chatwoot = chatwoot
        self._clock = clock
        # ticket id -> (the state Chatwoot was last told, when)
        self._typing: dict[int, tuple[bool, float]] = {}
        # What was told to Chatwoot (tests and logs read it).
        self.typing_calls = 0
        self.seen_calls = 0

    async def _target(self, user_id: int, ticket_id: int) -> tuple[str, int]:
        """Return the (contact source id, conversation id) of one of the user's tickets."""
        async with self._sessions() as session:
            ticket = await repo.ticket_for_user(session, user_id, ticket_id)
            if ticket is None:
                raise TicketNotFound(str(ticket_id))
            link = await self._link(session, ticket)
        return link.source_id, ticket.chatwoot_conversation_id

    @staticmethod
    async def _link(session: AsyncSession, ticket: Ticket) -> ChatwootContactLink:
        link = None
        if ticket.contact_link_id is not None:
            link = await session.get(ChatwootContactLink, ticket.contact_link_id)
        if link is None:
            raise TicketNotFound(str(ticket.id))
        return link

    async def typing(self, user_id: int, ticket_id: int, on: bool) -> bool:
        """Tell Chatwoot the employee is (not) typing; False when it already knew."""
        source_id, conversation_id = await self._target(user_id, ticket_id)
        now = self._clock()
        told = self._typing.get(ticket_id)
        if on and told is not None and told[0] and now - told[1] < TYPING_REFRESH:
            return False
        if not on and (told is None or not told[0]):
            return False
        await helpdesk_call(self._chatwoot.toggle_typing(source_id, conversation_id, on))
        self.typing_calls += 1
        if on:
            if len(self._typing) >= MAX_TYPING_STATES:
                self._typing.pop(next(iter(self._typing)))
            self._typing[ticket_id] = (True, now)
        else:
            self._typing.pop(ticket_id, None)
        return True

    async def seen(self, user_id: int, ticket_id: int, up_to: int | None = None) -> int:
        """Record that the employee saw the ticket up to `up_to` (None: all of it).

        Chatwoot hears of it first (only when an agent message becomes read), then the marker
        moves, so a helpdesk failure leaves the messages unread for the next try. Returns how
        many agent messages became read.
        """
        source_id, conversation_id = await self._target(user_id, ticket_id)
        async with self._sessions() as session:
            pending = await presence.unseen_agent_messages(session, ticket_id, up_to)
        if pending:
            await helpdesk_call(self._chatwoot.update_last_seen(source_id, conversation_id))
            self.seen_calls += 1
        async with self._sessions.begin() as session:
            read = await presence.mark_seen(session, ticket_id, up_to)
            if read or pending:
                await notify_changed(session, TicketChanged(ticket_id, user_id))
        return read

    async def unread_total(self, user_id: int) -> int:
        """Count the agent messages the user has not seen, over every ticket."""
        async with self._sessions() as session:
            return await presence.unread_total(session, user_id)


async def apply_typing(session: AsyncSession, event: TypingChanged) -> bool | None:
    """Store an agent's typing on its ticket; None without a ticket, else whether it changed.

    Typing is news only now: it is never parked for a ticket still being created.
    """
    ticket = await repo.ticket_by_conversation(session, event.conversation_id, lock=True)
    if ticket is None:
        return None
    agent = (event.agent_name or "") if event.typing else None
    changed = await presence.set_typing(session, ticket.id, agent, event.occurred_at)
    if event.typing:
        await deliveries.queue(
            session,
            user_id=ticket.requester_id,
            ticket_id=ticket.id,
            delivery=deliveries.Typing(ticket.id),
            key=f"typing:{event.conversation_id}:{_bucket(event.occurred_at)}",
        )
    if changed:
        await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))
    return changed


def _bucket(moment: datetime) -> int:
    return int(moment.timestamp()) // TEAMS_TYPING_EVERY
