"""The ticket use cases both front doors call: open, reply, reopen, list, read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.client import ChatwootClient
from db import accounts, presence, repo
from db.models import ChatwootContactLink, Origin
from tickets import reads
from tickets.contacts import Contacts
from tickets.errors import TicketNotFound
from tickets.forms import TicketForm
from tickets.ingest import Ingestor
from tickets.messages import MessagePoster
from tickets.opening import TicketOpener
from tickets.uploads import Upload
from tickets.views import TicketInfo, TimelineItem

# Deeper pages than this are not a real use; it also keeps the value inside int8.
MAX_OFFSET = 1_000_000


class TicketService:
    """Open tickets, post messages and read timelines; one transaction per call."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        ingestor: Ingestor,
        *,
        inbox: str,
        secret: str,
        complexities: Sequence[str],
        sectors: Sequence[str],
    ) -> None:
        self._sessions = sessions
        self._contacts = Contacts(sessions, chatwoot, inbox=inbox, secret=secret)
        self._opener = TicketOpener(
            sessions,
            chatwoot,
            ingestor,
            self._contacts,
            inbox=inbox,
            complexities=complexities,
            sectors=sectors,
        )
        self._poster = MessagePoster(sessions, chatwoot, self._contacts)

    # ---- identity in Chatwoot (tickets.contacts) ------------------------------------------

    def source_id_for(self, user_id: int) -> str:
        """Derive the user's deterministic contact source_id, so contact creation is idempotent."""
        return self._contacts.source_id_for(user_id)

    async def ensure_contact(self, user_id: int) -> ChatwootContactLink:
        """Return the user's contact link, creating the Chatwoot contact the first time."""
        return await self._contacts.ensure_contact(user_id)

    async def refresh_contact(self, user_id: int) -> None:
        """Tell agents the user's current name and address state (the contact), best effort."""
        await self._contacts.refresh_contact(user_id)

    # ---- open a ticket (tickets.opening) --------------------------------------------------

    def validate_ticket_form(self, fields: Mapping[str, Any] | TicketForm) -> TicketForm:
        """Check a ticket request against the configured choices; raise FormInvalid if wrong."""
        return self._opener.validate_ticket_form(fields)

    async def open_ticket(
        self,
        user_id: int,
        fields: Mapping[str, Any] | TicketForm,
        *,
        origin: Origin,
        idempotency_key: str | None = None,
        files: Sequence[Upload] = (),
    ) -> TicketInfo:
        """Validate the request, create the Chatwoot conversation and first message, store it."""
        return await self._opener.open_ticket(
            user_id, fields, origin=origin, idempotency_key=idempotency_key, files=files
        )

    # ---- messages (tickets.messages) ------------------------------------------------------

    async def post_message(
        self,
        user_id: int,
        ticket_id: int,
        content: str,
        *,
        origin: Origin,
        files: Sequence[Upload] = (),
        idempotency_key: str | None = None,
    ) -> TimelineItem:
        """Send the employee's message (text, files or both) to Chatwoot and store it once."""
        return await self._poster.post_message(
            user_id, ticket_id, content, origin=origin, files=files, idempotency_key=idempotency_key
        )

    async def reopen(self, user_id: int, ticket_id: int, note: str) -> TimelineItem:
        """Reopen a resolved ticket: Chatwoot reopens a conversation on a contact message."""
        return await self.post_message(user_id, ticket_id, note, origin=Origin.TEAMS)

    # ---- reads ----------------------------------------------------------------------------

    async def list_tickets(
        self, user_id: int, *, status: str = "all", limit: int = 20, offset: int = 0
    ) -> tuple[list[TicketInfo], int]:
        """Page through the user's tickets; status is open, resolved or all."""
        if status not in repo.STATUS_FILTERS:
            status = "all"
        async with self._sessions() as session:
            rows, total = await repo.tickets_of(
                session,
                user_id,
                status=status,
                limit=max(1, min(limit, 100)),
                offset=max(0, min(offset, MAX_OFFSET)),
            )
            found = await presence.summaries(session, [row.id for row in rows])
        return [TicketInfo.of(row, found[row.id]) for row in rows], total

    async def get_ticket(self, user_id: int, ticket_id: int) -> TicketInfo:
        """Return one of the user's tickets, or raise TicketNotFound."""
        async with self._sessions() as session:
            ticket = await repo.ticket_for_user(session, user_id, ticket_id)
            if ticket is None:
                raise TicketNotFound(str(ticket_id))
            found = await presence.summaries(session, [ticket.id])
        return TicketInfo.of(ticket, found[ticket.id])

    async def timeline(
        self, user_id: int, ticket_id: int, *, after_id: int = 0, limit: int = 500
    ) -> list[TimelineItem]:
        """Return the ticket's messages and events after `after_id`, in order."""
        async with self._sessions() as session:
            ticket = await repo.ticket_for_user(session, user_id, ticket_id)
            if ticket is None:
                raise TicketNotFound(str(ticket_id))
            return await reads.timeline_after(session, ticket_id, after_id=after_id, limit=limit)

    async def recent(self, user_id: int, ticket_id: int, *, limit: int = 20) -> list[TimelineItem]:
        """Return the newest items of the ticket's timeline, in order (cards show the tail)."""
        async with self._sessions() as session:
            ticket = await repo.ticket_for_user(session, user_id, ticket_id)
            if ticket is None:
                raise TicketNotFound(str(ticket_id))
            return await reads.timeline_tail(session, ticket_id, limit=limit)

    async def set_current_ticket(self, user_id: int, ticket_id: int) -> None:
        """Remember the ticket the user last opened, viewed or answered (bot free text)."""
        async with self._sessions.begin() as session:
            await accounts.set_current_ticket(session, user_id, ticket_id)
