"""The employee answers Chatwoot: rates the help, answers a bot question, resolves the ticket.

Each call holds the ticket's row lock across the Chatwoot call, so two taps (two tabs, Teams
and the web) are served one after the other: the second sees the first's answer and sends
nothing. The ingest of Chatwoot's own ``message_updated`` / status events waits on the same
lock and then finds the state it carries already stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.client import ChatwootClient
from db import accounts, repo
from db.models import Direction, Message, Ticket, TicketStatus, User
from tickets.deliveries import CardUpdate, Delivery, MessageUpdate, StatusLine, queue
from tickets.errors import TicketError, TicketNotFound, helpdesk_call
from tickets.hub import TicketChanged, notify_changed
from tickets.questions import (
    SURVEY,
    Question,
    Survey,
    answer_rows,
    feedback_of,
    question_of,
    rating_of,
    survey_of,
)
from tickets.service import TicketService
from tickets.views import TicketInfo, TimelineItem

# Chatwoot's answer when the survey is older than its 14-day lock.
_LOCK_WORDS = "after 14 days"


class NoSurvey(TicketError):
    """The ticket has no satisfaction survey to answer."""


class SurveyClosed(TicketError):
    """The survey is past Chatwoot's 14-day lock."""


class AlreadyAnswered(TicketError):
    """The bot question was answered before; an answer is given once."""


class NotAQuestion(TicketError):
    """The message asks nothing that can be answered."""


@dataclass(frozen=True)
class Rated:
    """A survey answer: the survey as it is now and whether it was the first answer."""

    survey: Survey
    first: bool


def _name_of(user: User | None) -> str:
    if user is None:
        return ""
    return user.display_name or user.email or f"#{user.id}"


class AnswerService:
    """Send the employee's answers to Chatwoot once and record them on the timeline."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        chatwoot: ChatwootClient,
        tickets: TicketService,
    ) -> None:
        self._sessions = sessions
        self._chatwoot = chatwoot
        self._tickets = tickets

    async def _source_id(self, user_id: int, ticket_id: int) -> str:
        # Checked before the contact lookup, so someone else's ticket never creates a contact.
        await self._tickets.get_ticket(user_id, ticket_id)
        return (await self._tickets.ensure_contact(user_id)).source_id

    async def _locked_ticket(self, session: AsyncSession, user_id: int, ticket_id: int) -> Ticket:
        ticket = await repo.ticket_for_user(session, user_id, ticket_id)
        if ticket is None:
            raise TicketNotFound(str(ticket_id))
        await repo.lock_ticket(session, ticket.id)
        await session.refresh(ticket)
        return ticket

    # ---- the satisfaction survey ------------------------------------------------------------

    async def survey(self, user_id: int, ticket_id: int) -> tuple[Message, Survey] | None:
        """Return the ticket's latest survey message and its state, or None."""
        async with self._sessions() as session:
            if await repo.ticket_for_user(session, user_id, ticket_id) is None:
                raise TicketNotFound(str(ticket_id))
            return await _latest_survey(session, ticket_id)

    async def rate(
        self, user_id: int, ticket_id: int, rating: object, feedback: object = None
    ) -> Rated:
        """Answer (or change the answer to) the ticket's survey; raise if none is open."""
        score = rating_of(rating)
        comment = feedback_of(feedback)
        source_id = await self._source_id(user_id, ticket_id)
        async with self._sessions.begin() as session:
            ticket = await self._locked_ticket(session, user_id, ticket_id)
            found = await _latest_survey(session, ticket.id)
            if found is None:
                raise NoSurvey(str(ticket_id))
            message, survey = found
            if survey.closed or message.chatwoot_message_id is None:
                raise SurveyClosed(str(ticket_id))
            response: dict[str, Any] = {"rating": score, "feedback_message": comment or ""}
            try:
                sent = await helpdesk_call(
                    self._chatwoot.submit_values(
                        source_id,
                        ticket.chatwoot_conversation_id,
                        message.chatwoot_message_id,
                        {"csat_survey_response": response},
                    )
                )
            except TicketError as exc:
                if _LOCK_WORDS in str(getattr(exc, "message", "")):
                    raise SurveyClosed(str(ticket_id)) from exc
                raise
            _keep_attributes(
                message, sent.content_attributes, fallback={"csat_survey_response": response}
            )
            now_survey = survey_of(SURVEY, message.content_attributes, message.created_at)
            assert now_survey is not None
            user = await accounts.get_user(session, user_id)
            data = {"messageId": message.id, "rating": score, "actor": _name_of(user)}
            await self._record(session, ticket, "rated", data, message.id)
            return Rated(now_survey, first=survey.rating is None)

    # ---- bot questions ----------------------------------------------------------------------

    async def submit(
        self, user_id: int, ticket_id: int, message_id: int, values: Sequence[object]
    ) -> tuple[TimelineItem, Question]:
        """Answer a bot question once; raise AlreadyAnswered for a second answer."""
        source_id = await self._source_id(user_id, ticket_id)
        async with self._sessions.begin() as session:
            ticket = await self._locked_ticket(session, user_id, ticket_id)
            message = await session.get(Message, message_id, populate_existing=True)
            if message is None or message.ticket_id != ticket.id or message.deleted:
                raise TicketNotFound(f"{ticket_id}/{message_id}")
            question = question_of(message.content_type, message.content_attributes)
            if question is None or message.direction is not Direction.AGENT:
                raise NotAQuestion(str(message_id))
            if question.answered:
                raise AlreadyAnswered(str(message_id))
            rows = answer_rows(question, values)
            if message.chatwoot_message_id is None:
                raise NotAQuestion(str(message_id))
            sent = await helpdesk_call(
                self._chatwoot.submit_values(
                    source_id, ticket.chatwoot_conversation_id, message.chatwoot_message_id, rows
                )
            )
            _keep_attributes(message, sent.content_attributes, fallback=rows)
            answered = question_of(message.content_type, message.content_attributes)
            assert answered is not None
            user = await accounts.get_user(session, user_id)
            data = {
                "messageId": message.id,
                "answer": answered.answer_text(),
                "actor": _name_of(user),
            }
            await self._record(session, ticket, "answered", data, message.id)
            return TimelineItem.of_message(message), answered

    # ---- "resolved, thanks" -----------------------------------------------------------------

    async def resolve(self, user_id: int, ticket_id: int) -> TicketInfo:
        """Resolve the ticket in Chatwoot (toggle_status) and say on the timeline who did."""
        source_id = await self._source_id(user_id, ticket_id)
        async with self._sessions.begin() as session:
            ticket = await self._locked_ticket(session, user_id, ticket_id)
            if ticket.status is TicketStatus.RESOLVED:
                return TicketInfo.of(ticket)
            await helpdesk_call(
                self._chatwoot.resolve_conversation(source_id, ticket.chatwoot_conversation_id)
            )
            user = await accounts.get_user(session, user_id)
            previous = str(ticket.status)
            data = {"status": "resolved", "previous": previous, "actor": _name_of(user)}
            await self._record(session, ticket, "resolved", data, None)
            # Chatwoot's own status event then finds the ticket resolved: a duplicate.
            await repo.touch_ticket(session, ticket.id, status=TicketStatus.RESOLVED)
            line = StatusLine(ticket.id, ticket.title, "resolved", "resolved")
            await queue(
                session,
                user_id=ticket.requester_id,
                ticket_id=ticket.id,
                delivery=line,
                key=f"line:resolve:{ticket.id}:{uuid.uuid4().hex}",
            )
            await session.refresh(ticket)
            return TicketInfo.of(ticket)

    # ---- shared -----------------------------------------------------------------------------

    async def _record(
        self,
        session: AsyncSession,
        ticket: Ticket,
        kind: str,
        data: dict[str, Any],
        message_id: int | None,
    ) -> None:
        """Add the timeline line, refresh the Teams cards and wake the live pages."""
        row = await repo.add_event(
            session,
            ticket_id=ticket.id,
            kind=kind,
            data=data,
            occurred_at=datetime.now(UTC),
            dedupe_key=f"{kind}:{ticket.id}:{uuid.uuid4().hex}",
        )
        assert row is not None  # a fresh key never collides
        await repo.touch_ticket(session, ticket.id)
        deliveries: list[tuple[str, Delivery]] = [(f"card:{row.id}", CardUpdate(ticket.id))]
        if message_id is not None:
            # The survey's or question's own card is put in place with the answer.
            update = MessageUpdate(ticket.id, message_id)
            deliveries.insert(0, (f"answer:{row.id}", update))
        for key, delivery in deliveries:
            await queue(
                session,
                user_id=ticket.requester_id,
                ticket_id=ticket.id,
                delivery=delivery,
                key=key,
            )
        await notify_changed(session, TicketChanged(ticket.id, ticket.requester_id))


async def _latest_survey(session: AsyncSession, ticket_id: int) -> tuple[Message, Survey] | None:
    message = await session.scalar(
        select(Message)
        .where(
            Message.ticket_id == ticket_id,
            Message.content_type == SURVEY,
            Message.deleted.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if message is None:
        return None
    survey = survey_of(SURVEY, message.content_attributes, message.created_at)
    assert survey is not None
    return message, survey


def _keep_attributes(message: Message, attributes: Any, *, fallback: Any) -> None:
    """Store Chatwoot's copy of the attributes (so its own update event is a duplicate)."""
    kept = {k: v for k, v in dict(attributes or {}).items() if k != "deleted"}
    if not kept.get("submitted_values"):
        kept = {**message.content_attributes, "submitted_values": fallback}
    message.content_attributes = kept
