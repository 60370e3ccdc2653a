"""Open a ticket: validate the form, create (or adopt) the conversation, store it once."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.attributes import conversation_attributes, priority_for, sector_label
from chatwoot.client import ChatwootClient, OutgoingFile
from chatwoot.errors import ChatwootRejected, ChatwootUnavailable
from chatwoot.models import Conversation, Message
from chatwoot.parsing import message_event_from_api
from db import accounts, claims, parked, repo
from db.models import ChatwootContactLink, Direction, Origin, User
from tickets.attachments import stored_of
from tickets.contacts import Contacts, name_of
from tickets.errors import HelpdeskRejected, HelpdeskUnavailable, TicketNotFound, helpdesk_call
from tickets.forms import TicketForm, validate_ticket_form
from tickets.hub import TicketChanged, notify_changed
from tickets.ingest import Ingestor
from tickets.uploads import Upload
from tickets.views import TicketInfo

log = logging.getLogger(__name__)

# Shown to the employee inside the front doors' "the helpdesk refused" line (both languages:
# the reason is not translated there).
LOCKED_TO_ONE_CONVERSATION = (
    "o suporte aceita só uma conversa por pessoa, então não dá para abrir outro chamado agora; "
    "a equipe de TI foi avisada / the helpdesk allows one conversation per person, so no new "
    "ticket can be opened now; IT has been told"
)
CONVERSATION_OF_ANOTHER_CONTACT = (
    "o suporte devolveu a conversa de outra pessoa; nada foi criado e a equipe de TI foi "
    "avisada / the helpdesk returned someone else's conversation; nothing was created and IT "
    "has been told"
)


class TicketOpener:
    """Open tickets in Chatwoot and here: idempotent, one per request, never two on one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        ingestor: Ingestor,
        contacts: Contacts,
        *,
        inbox: str,
        complexities: Sequence[str],
        sectors: Sequence[str],
    ) -> None:
        self._sessions = sessions
        self._chatwoot = chatwoot
        # Replays what Chatwoot did while a ticket was being created (parked events).
        self._ingestor = ingestor
        self._contacts = contacts
        self._inbox = inbox
        self._complexities = tuple(complexities)
        self._sectors = tuple(sectors)

    def validate_ticket_form(self, fields: Mapping[str, Any] | TicketForm) -> TicketForm:
        """Check a ticket request against the configured choices; raise FormInvalid if wrong."""
        raw = fields.as_fields() if isinstance(fields, TicketForm) else fields
        return validate_ticket_form(raw, complexities=self._complexities, sectors=self._sectors)

    async def open_ticket(
        self,
        user_id: int,
        fields: Mapping[str, Any] | TicketForm,
        *,
        origin: Origin,
        idempotency_key: str | None = None,
        files: Sequence[Upload] = (),
    ) -> TicketInfo:
        """Validate the request, create the Chatwoot conversation and first message, store it.

        `files` go with the first message.

        Bad fields raise FormInvalid before anything is sent. A failure leaves no ticket; a
        conversation that may exist in Chatwoot is adopted by the next attempt instead of
        duplicated, and the same idempotency key returns one ticket.
        """
        form = self.validate_ticket_form(fields)
        if (existing := await self._existing(user_id, idempotency_key)) is not None:
            return existing
        try:
            # One creation per user at a time in every process (double clicks, two tabs, a
            # retry that reached another process): a second waits, then finds the first's.
            async with claims.holding(self._sessions, f"open:{user_id}") as held:
                if (existing := await self._existing(user_id, idempotency_key)) is not None:
                    return existing
                return await self._open_ticket(user_id, form, origin, idempotency_key, files, held)
        except claims.ClaimBusy:
            raise HelpdeskUnavailable("another ticket of this user is being opened") from None
        except IntegrityError:
            # A request that did not wait (its claim had lapsed) stored the same key first.
            if (existing := await self._existing(user_id, idempotency_key)) is not None:
                return existing
            raise HelpdeskUnavailable("a concurrent request is opening this ticket") from None

    async def _existing(self, user_id: int, idempotency_key: str | None) -> TicketInfo | None:
        """Return the ticket a request with this key already created, if any."""
        if not idempotency_key:
            return None
        async with self._sessions() as session:
            existing = await repo.ticket_by_key(session, idempotency_key)
        if existing is None:
            return None
        if existing.requester_id != user_id:
            raise TicketNotFound("idempotency key belongs to someone else")
        return TicketInfo.of(existing)

    async def _open_ticket(
        self,
        user_id: int,
        form: TicketForm,
        origin: Origin,
        idempotency_key: str | None,
        files: Sequence[Upload],
        held: claims.Held,
    ) -> TicketInfo:
        async with self._sessions() as session:
            user = await accounts.get_user(session, user_id)
        if user is None:
            raise TicketNotFound("unknown user")
        link = await self._contacts.ensure_contact(user_id)
        attributes = self._attributes(form, user)
        # Names this request among the creates in flight (see `_conversation_for`).
        digest = hashlib.sha256(json.dumps(attributes, sort_keys=True).encode()).hexdigest()
        if not held.secure():
            # The claim lapsed under us (a long database blip): another attempt may be
            # creating this ticket now. Refusing is safe; the client retries.
            raise HelpdeskUnavailable("this ticket's claim lapsed; try again")
        conversation = await self._conversation_for(link, form, attributes, digest)
        first = await self._first_message(link, conversation, form, files)
        async with self._sessions.begin() as session:
            # Events that reached us before this commit were parked under this lock; the ones
            # after it find the ticket (see `Ingestor._ticket`).
            await parked.lock_conversation(session, conversation.id)
            ticket = await repo.add_ticket(
                session,
                requester_id=user_id,
                contact_link_id=link.id,
                beneficiary_name=form.beneficiary_name,
                beneficiary_email=form.beneficiary_email,
                title=form.title,
                description=form.description,
                complexity=form.complexity,
                sector=form.sector,
                chatwoot_conversation_id=conversation.id,
                origin=origin,
                idempotency_key=idempotency_key,
                # No watermark yet: catch-up reads the whole conversation once (an adopted orphan).
                synced_message_id=None,
            )
            await repo.add_message(
                session,
                ticket_id=ticket.id,
                chatwoot_message_id=first.id,
                direction=Direction.REQUESTER,
                author=name_of(user),
                content=first.content or form.first_message(),
                attachments=[stored_of(a) for a in first.attachments],
                origin=origin,
                # Chatwoot's clock, like every agent reply: the timeline shows its order.
                created_at=first.created_at,
            )
            await repo.clear_create_pending(session, link.id, digest)
            await claims.settle(session, held)
            await accounts.set_current_ticket(session, user_id, ticket.id)
            await notify_changed(session, TicketChanged(ticket.id, user_id))
        await self._after_commit(conversation, first.id, link.source_id)
        await self._route_labels(conversation.id, form)
        return TicketInfo.of(ticket)

    async def _conversation_for(
        self, link: ChatwootContactLink, form: TicketForm, attributes: dict[str, str], digest: str
    ) -> Conversation:
        """Adopt the orphan a lost create of this request left, or create a new conversation."""
        earlier = await self._mark_pending(link.id, digest)
        conversation = None
        if earlier is not None and digest in earlier.digests:
            # Empty orphans are told apart by nothing the Client API shows: adopt one only
            # when every unfinished create was this request's.
            only_ours = earlier.digests == {digest}
            conversation = await self._adoptable(link, form.first_message(), only_ours)
        if conversation is None:
            conversation = await helpdesk_call(
                self._chatwoot.create_conversation(link.source_id, custom_attributes=attributes)
            )
            await self._refuse_a_known_conversation(conversation.id, link)
        return conversation

    async def _first_message(
        self,
        link: ChatwootContactLink,
        conversation: Conversation,
        form: TicketForm,
        files: Sequence[Upload],
    ) -> Message:
        """Return the conversation's first incoming message, sending it when it is missing."""
        first = conversation.first_incoming()
        if first is not None:
            return first
        return await helpdesk_call(
            self._chatwoot.create_message(
                link.source_id,
                conversation.id,
                content=form.first_message(),
                echo_id=f"tft-open-{uuid.uuid4().hex}",
                files=[OutgoingFile(f.name, f.content_type, f.file) for f in files],
            )
        )

    async def _after_commit(
        self, conversation: Conversation, first_id: int, source_id: str
    ) -> None:
        """Apply what Chatwoot did before the ticket committed.

        First the events parked meanwhile, then the rest of an adopted conversation (its
        replies may be older than anything still parked).
        """
        await self._ingestor.replay_parked(conversation.id)
        for message in conversation.messages:
            if message.id != first_id:
                await self._ingestor.ingest(message_event_from_api(message, source_id=source_id))

    async def _refuse_a_known_conversation(
        self, conversation_id: int, link: ChatwootContactLink
    ) -> None:
        """Refuse a "new" conversation that already holds a ticket: never two on one."""
        async with self._sessions() as session:
            holder = await repo.ticket_by_conversation(session, conversation_id)
        if holder is None:
            return
        if holder.contact_link_id == link.id:
            log.error(
                "Chatwoot inbox %s answered a new conversation with this contact's conversation "
                "%s: the inbox setting lock_to_single_conversation is on; turn it off "
                "(Settings → Inboxes → the inbox → Configuration) so each ticket gets its own",
                self._inbox,
                conversation_id,
            )
            raise HelpdeskRejected(LOCKED_TO_ONE_CONVERSATION)
        log.error(
            "Chatwoot answered a new conversation with conversation %s, which is ticket %s of "
            "another contact: this database was used with another Chatwoot or inbox, or the "
            "helpdesk lost its data; point CHATWOOT_BASE_URL/CHATWOOT_INBOX_IDENTIFIER back",
            conversation_id,
            holder.id,
        )
        raise HelpdeskRejected(CONVERSATION_OF_ANOTHER_CONTACT)

    async def _mark_pending(self, link_id: int, digest: str) -> repo.EarlierCreate | None:
        """Flag a create in flight; return the earlier one that may have left an orphan."""
        async with self._sessions.begin() as session:
            return await repo.mark_create_pending(session, link_id, digest)

    async def _adoptable(
        self, link: ChatwootContactLink, expected: str, same_request: bool
    ) -> Conversation | None:
        """Find a conversation of this contact that Chatwoot has and we do not (a lost create).

        Only one this very request could have made: opened with the same first message, or
        empty when the interrupted create was for this same request (`same_request`: an empty
        conversation carries the title and sector of whichever request made it).
        """
        conversations = await helpdesk_call(self._chatwoot.list_conversations(link.source_id))
        async with self._sessions() as session:
            known = await repo.conversation_ids_of(session, link.id)
        orphans = [
            c
            for c in conversations
            if c.id not in known
            and (
                ((first := c.first_incoming()) is None and same_request)
                or (first is not None and first.content == expected)
            )
        ]
        if not orphans:
            return None
        orphan = max(orphans, key=lambda conversation: conversation.id)
        log.info("adopting conversation %s left by an interrupted ticket creation", orphan.id)
        return orphan

    @staticmethod
    def _attributes(form: TicketForm, user: User) -> dict[str, str]:
        return conversation_attributes(
            title=form.title,
            complexity=form.complexity,
            sector=form.sector,
            requester=name_of(user),
            requester_email=user.email or "",
            beneficiary=(form.beneficiary_name or "") if form.for_other else name_of(user),
            beneficiary_email=(form.beneficiary_email or "") if form.for_other else None,
        )

    async def _route_labels(self, conversation_id: int, form: TicketForm) -> None:
        if not self._chatwoot.application_api_enabled:
            return
        try:
            await self._chatwoot.set_labels_and_priority(
                conversation_id,
                [sector_label(form.sector)],
                priority_for(form.complexity, self._complexities),
            )
        except (ChatwootUnavailable, ChatwootRejected) as exc:
            # Routing hints are a convenience: the ticket exists, so never fail it for them.
            log.warning("could not label conversation %s: %s", conversation_id, exc)
