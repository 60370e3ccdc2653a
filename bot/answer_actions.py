"""The ``ticket.rate``, ``ticket.answer`` and ``ticket.resolve`` card verbs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import answer_cards, views
from bot.identity import Caller
from cards import ActionData, Verb
from cards.actions import ANSWER_PREFIX
from i18n import t
from tickets.answers import AlreadyAnswered, AnswerService, NoSurvey, NotAQuestion, SurveyClosed
from tickets.errors import HelpdeskRejected, HelpdeskUnavailable, TicketNotFound
from tickets.questions import AnswerInvalid
from tickets.service import TicketService

Card = dict[str, Any]


def answer_values(action: ActionData) -> list[object]:
    """Turn a card's inputs into the answer's values: one ``answer`` or ``answer.<field>``s."""
    fields = [
        {"name": key[len(ANSWER_PREFIX) :], "value": value}
        for key, value in action.inputs.items()
        if key.startswith(ANSWER_PREFIX) and value.strip()
    ]
    if fields:
        return list(fields)
    answer = action.inputs.get("answer", "")
    return [answer] if answer.strip() else []


class AnswerActions:
    """Answer the survey and bot questions from their cards; resolve from the ticket card."""

    def __init__(
        self,
        service: TicketService,
        sessions: async_sessionmaker[AsyncSession],
        answers: AnswerService | None,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._answers = answers

    def _require(self) -> AnswerService:
        if self._answers is None:
            raise HelpdeskUnavailable("answers are not wired in")
        return self._answers

    async def answer(self, caller: Caller, ticket_id: int, action: ActionData) -> tuple[Card, Any]:
        """Rate or answer; return the card now in place (with the answer) and a notice."""
        locale = caller.locale
        assert action.message_id is not None  # parse_action guarantees it
        await self._service.get_ticket(caller.user_id, ticket_id)  # TicketNotFound if not theirs
        notice: str | None = None
        try:
            if action.verb is Verb.RATE:
                await self._require().rate(
                    caller.user_id,
                    ticket_id,
                    action.inputs.get("rating"),
                    action.inputs.get("feedback"),
                )
            else:
                await self._require().submit(
                    caller.user_id, ticket_id, action.message_id, answer_values(action)
                )
        except AlreadyAnswered:
            notice = t("ticket.question.already", locale)
        except (SurveyClosed, NoSurvey):
            notice = t("card.survey.closed", locale)
        except (AnswerInvalid, NotAQuestion):
            notice = t("ticket.question.invalid", locale)
        except (HelpdeskUnavailable, HelpdeskRejected) as failed:
            notice = views.failure_text(failed, locale)
        async with self._sessions() as session:
            card = await answer_cards.card_for_message(
                session, caller.user_id, ticket_id, action.message_id, locale
            )
        if card is None:
            raise TicketNotFound(f"{ticket_id}/{action.message_id}")
        return card, notice

    async def resolve(self, caller: Caller, ticket_id: int) -> str | None:
        """Resolve the ticket ("Problema resolvido"); return a notice when it failed."""
        try:
            await self._require().resolve(caller.user_id, ticket_id)
        except (HelpdeskUnavailable, HelpdeskRejected) as failed:
            return views.failure_text(failed, caller.locale)
        return None
