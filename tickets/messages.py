"""Post the employee's message to a ticket: sent to Chatwoot once, stored once."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.client import ChatwootClient, OutgoingFile
from chatwoot.fields import MessageType
from chatwoot.models import Message
from db import accounts, claims, repo
from db.claims import Held
from db.models import Direction, Origin, Ticket, User
from tickets.attachments import stored_of
from tickets.contacts import Contacts, name_of
from tickets.errors import HelpdeskUnavailable, TicketNotFound, helpdesk_call
from tickets.forms import validate_message
from tickets.hub import TicketChanged, notify_changed
from tickets.uploads import Upload
from tickets.views import TimelineItem

log = logging.getLogger(__name__)


class MessagePoster:
    """Send employees' messages on their tickets, deduplicated by the client's key."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        contacts: Contacts,
    ) -> None:
        self._sessions = sessions
        self._chatwoot = chatwoot
        self._contacts = contacts

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
        """Send the employee's message (text, files or both) to Chatwoot and store it once.

        The same `idempotency_key` again (a retry after an error) returns the message already
        stored under it instead of sending it twice. Keyed sends are claimed in PostgreSQL
        (`db.claims`): a retry in any process waits while the first attempt sends, and after an
        attempt whose answer was lost it adopts the message Chatwoot already has.
        """
        text = validate_message(content, allow_empty=bool(files))
        async with self._sessions() as session:
            ticket = await repo.ticket_for_user(session, user_id, ticket_id)
            user = await accounts.get_user(session, user_id)
        if ticket is None or user is None:
            raise TicketNotFound(str(ticket_id))
        echo_id = _echo_id(user_id, idempotency_key)
        link = await self._contacts.ensure_contact(user_id)
        outgoing = [OutgoingFile(f.name, f.content_type, f.file) for f in files]
        if not idempotency_key:
            sent = await self._send(link.source_id, ticket, text, echo_id, outgoing)
            return await self._store(ticket, user, sent, echo_id, text, origin, None)
        if (known := await self._posted(echo_id)) is not None:
            return known
        async with self._sessions() as session:
            newest = await repo.newest_chatwoot_message_id(session, ticket.id)
        try:
            async with claims.holding(self._sessions, echo_id, after_message_id=newest) as held:
                # The holder before us (another process, or a request whose client gave up)
                # may have stored it meanwhile.
                if (known := await self._posted(echo_id)) is not None:
                    return known
                landed = None
                if held.earlier:
                    landed = await self._landed(link.source_id, ticket, text, files, held)
                if landed is None:
                    if not held.secure():
                        # The lease lapsed under us (a long database blip): a retry may be
                        # sending it now. Refusing is safe; the client retries under the key.
                        raise HelpdeskUnavailable("this message's claim lapsed; try again")
                    landed = await self._send(link.source_id, ticket, text, echo_id, outgoing)
                return await self._store(ticket, user, landed, echo_id, text, origin, held)
        except claims.ClaimBusy:
            raise HelpdeskUnavailable("this message is still being sent") from None

    async def _send(
        self,
        source_id: str,
        ticket: Ticket,
        text: str,
        echo_id: str,
        outgoing: Sequence[OutgoingFile],
    ) -> Message:
        return await helpdesk_call(
            self._chatwoot.create_message(
                source_id,
                ticket.chatwoot_conversation_id,
                content=text,
                echo_id=echo_id,
                files=outgoing,
            )
        )

    async def _landed(
        self, source_id: str, ticket: Ticket, text: str, files: Sequence[Upload], held: Held
    ) -> Message | None:
        """Find the message an earlier attempt under this key left in Chatwoot, if it did.

        The earlier attempt failed or died after sending, so its answer never reached us. The
        message is the contact's oldest one after the mark it recorded with the same text and
        files that no other request of ours has claimed (its echo id is stored on that row).
        """
        since = held.after_message_id or 0
        listed = await helpdesk_call(
            self._chatwoot.list_messages_since(source_id, ticket.chatwoot_conversation_id, since)
        )
        sizes = sorted(f.size for f in files)
        candidates = [
            m
            for m in listed
            if m.message_type is MessageType.INCOMING
            and (m.content or "").strip() == text.strip()
            and sorted(a.file_size or 0 for a in m.attachments) == sizes
        ]
        if not candidates:
            return None
        async with self._sessions() as session:
            taken = await repo.echoed_message_ids(session, [m.id for m in candidates])
        free = [m for m in candidates if m.id not in taken]
        if not free:
            return None
        # The lost message came right after the mark: the oldest free one (a newer one with the
        # same text may be another request's, stored by its webhook before its own commit).
        log.info("message %s of ticket %s had reached Chatwoot already", free[0].id, ticket.id)
        return free[0]

    async def _store(
        self,
        ticket: Ticket,
        user: User,
        sent: Message,
        echo_id: str,
        text: str,
        origin: Origin,
        held: Held | None,
    ) -> TimelineItem:
        """Store the sent message once, under our echo id, and settle its claim (if held)."""
        async with self._sessions.begin() as session:
            await repo.lock_ticket(session, ticket.id)  # timeline ids in commit order
            stored = await repo.add_message(
                session,
                ticket_id=ticket.id,
                chatwoot_message_id=sent.id,
                echo_id=echo_id,
                direction=Direction.REQUESTER,
                author=name_of(user),
                content=sent.content if sent.content is not None else text,
                attachments=[stored_of(a) for a in sent.attachments],
                origin=origin,
                created_at=sent.created_at,
            )
            if stored is None:
                # The webhook or cable echo got here first and stored it: return that row,
                # with our echo id (a webhook has none) so a retry with the same key finds it.
                stored = await repo.message_known(session, sent.id, echo_id)
                assert stored is not None
                if stored.echo_id is None:
                    stored.echo_id = echo_id
            if held is not None:
                await claims.settle(session, held)
            await repo.touch_ticket(session, ticket.id)
            await accounts.set_current_ticket(session, user.id, ticket.id)
            await notify_changed(session, TicketChanged(ticket.id, user.id))
            return TimelineItem.of_message(stored)

    async def _posted(self, echo_id: str) -> TimelineItem | None:
        """Return the message a request with this echo id already stored.

        The echo id derives from the user and the key, so it is this user's message, even when
        it went to another of their tickets (a Teams redelivery after the current ticket
        changed): it is returned, never sent a second time.
        """
        async with self._sessions() as session:
            known = await repo.message_known(session, 0, echo_id)
        return None if known is None else TimelineItem.of_message(known)


def _echo_id(user_id: int, idempotency_key: str | None) -> str:
    """Return the message's echo id: derived from the client's key, so a retry finds it."""
    if not idempotency_key:
        return f"tft-{uuid.uuid4().hex}"
    digest = hashlib.sha256(f"{user_id}:{idempotency_key}".encode()).hexdigest()
    return f"tft-k-{digest[:32]}"
