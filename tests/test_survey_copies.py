"""The survey reads the same whichever Chatwoot copy arrives first, and closes after 14 days."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.answer_cards import answer_card
from tests.helpdesk import Client, make_ticket, payload, post_hook
from tickets import keys
from tickets.answers import SurveyClosed
from tickets.questions import AnswerInvalid, answer_rows, question_of, survey_closed

WEBHOOK_TEXT = "Please rate this conversation, https://cw.example/survey/responses/0f1e2d"
CABLE_TEXT = "Please rate the conversation"


def _survey(conversation: int, message: int, content: str, sent: datetime) -> dict[str, Any]:
    body = payload("message_created.template_no_sender.json")
    body["conversation"]["id"] = conversation
    body.update(
        id=message,
        content=content,
        content_type="input_csat",
        content_attributes={"display_type": "emoji"},
        created_at=sent.isoformat().replace("+00:00", "Z"),
    )
    return body


async def test_either_copy_first_gives_the_same_survey(app_client: Client) -> None:
    now = datetime.now(UTC)
    shown = []
    for conversation, first, second in (
        (123, WEBHOOK_TEXT, CABLE_TEXT),
        (124, CABLE_TEXT, WEBHOOK_TEXT),
    ):
        ticket = await make_ticket(app_client, conversation)
        message = conversation * 100
        for content in (first, second):
            status, _ = await post_hook(app_client, _survey(conversation, message, content, now))
            assert status == 200
        [item] = await app_client.app[keys.SERVICE].timeline(ticket.requester_id, ticket.id)
        assert item.survey is not None
        assert item.survey.to_json() == {
            "rating": None,
            "feedback": None,
            "closed": False,
            "answered": False,
        }
        card = answer_card(ticket.id, ticket.title, item, "pt-BR")
        assert card is not None
        # The Teams card asks with our own words: no link, no English, whichever copy won.
        assert "cw.example" not in str(card) and "Please rate" not in str(card)
        assert "Como foi o atendimento?" in str(card)
        shown.append(card)
    words = [[b.get("text") for b in c["body"] if b.get("type") == "TextBlock"] for c in shown]
    assert words[0] == words[1]
    buttons = [[a["data"]["rating"] for a in c["body"][-1]["actions"]] for c in shown]
    assert buttons == [["1", "2", "3", "4", "5"]] * 2


async def test_a_survey_older_than_14_days_is_closed_and_sends_nothing(app_client: Client) -> None:
    ticket = await make_ticket(app_client, 123)
    old = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    status, _ = await post_hook(app_client, _survey(123, 9000, WEBHOOK_TEXT, old))
    assert status == 200
    [item] = await app_client.app[keys.SERVICE].timeline(ticket.requester_id, ticket.id)
    assert item.survey is not None and item.survey.closed
    card = answer_card(ticket.id, ticket.title, item, "en")
    assert card is not None and "ticket.rate" not in str(card)
    assert "Survey closed" in str(card)
    # The sandbox has no conversation 123: reaching it would fail differently.
    with pytest.raises(SurveyClosed):
        await app_client.app[keys.ANSWERS].rate(ticket.requester_id, ticket.id, 4)


def test_the_lock_counts_calendar_days_in_utc() -> None:
    sent = datetime(2026, 1, 1, 23, 59, tzinfo=UTC)
    assert not survey_closed(sent, datetime(2026, 1, 15, 23, 59, tzinfo=UTC))
    assert survey_closed(sent, datetime(2026, 1, 16, 0, 1, tzinfo=UTC))


def test_junk_questions_are_read_safely_and_answers_checked() -> None:
    junk = {"items": [None, 3, {"title": ["x"]}, {"title": "Sim", "value": 1}]}
    question = question_of("input_select", junk)
    assert question is not None
    assert [(c.title, c.value) for c in question.choices] == [("Sim", "1")]
    cards = question_of(
        "cards",
        {"items": [{"title": "T", "actions": [{"type": "link", "uri": "javascript:alert(1)"}]}]},
    )
    assert cards is not None and cards.cards[0].links == ()
    assert question_of("text", junk) is None
    with pytest.raises(AnswerInvalid):
        answer_rows(question, [{"value": True}])
    with pytest.raises(AnswerInvalid):
        answer_rows(question, [["1"]])
    assert answer_rows(question, ["1"]) == [{"title": "Sim", "value": "1"}]
    assert answer_rows(question, [{"name": "", "value": "Sim"}]) == [{"title": "Sim", "value": "1"}]
