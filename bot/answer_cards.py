"""Teams cards of the survey and bot questions: built from the timeline, sent, updated in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import cards
from db import repo
from tickets.questions import Question
from tickets.views import TimelineItem

Card = dict[str, Any]


def _question_view(ticket_id: int, title: str, item: TimelineItem, q: Question) -> Any:
    return cards.QuestionView(
        ticket_id=ticket_id,
        message_id=item.id,
        title=title,
        author=item.author,
        prompt=item.content,
        kind=q.kind,
        choices=[cards.Option(c.title, c.value) for c in q.choices],
        items=[
            cards.RichItem(
                title=c.title,
                description=c.description,
                image=c.image,
                links=[cards.Option(x.title, x.value) for x in c.links],
                answers=[cards.Option(x.title, x.value) for x in c.answers],
            )
            for c in q.cards
        ],
        fields=[
            cards.Field(
                name=f.name,
                label=f.label,
                kind=f.kind,
                placeholder=f.placeholder,
                required=f.required,
                default=f.default,
                options=[cards.Option(o.title, o.value) for o in f.options],
            )
            for f in q.fields
        ],
        answer=q.answer_text() if q.answered else None,
    )


def answer_card(ticket_id: int, title: str, item: TimelineItem, locale: str) -> Card | None:
    """Return the survey or question card of a timeline message; None for any other message."""
    if item.survey is not None:
        view = cards.SurveyView(
            ticket_id=ticket_id,
            message_id=item.id,
            title=title,
            rating=item.survey.rating,
            feedback=item.survey.feedback,
            closed=item.survey.closed,
        )
        return cards.survey_card(view, locale)
    if item.question is not None:
        return cards.question_card(_question_view(ticket_id, title, item, item.question), locale)
    return None


async def card_for_message(
    session: AsyncSession, user_id: int, ticket_id: int, message_id: int, locale: str
) -> Card | None:
    """Read a message of the user's ticket; return its survey/question card, if it is one."""
    ticket = await repo.ticket_for_user(session, user_id, ticket_id)
    message = await repo.message_of(session, ticket_id, message_id)
    if ticket is None or message is None or message.deleted:
        return None
    return answer_card(ticket.id, ticket.title, TimelineItem.of_message(message), locale)
