"""Round trips of card action payloads through Execute invokes and Submit fallbacks."""

from __future__ import annotations

from typing import Any

import pytest

from cards import ActionData, InvalidAction, Verb, parse_action
from tests.cards.test_schema import _walk


def test_verbs_are_exactly_the_design_list() -> None:
    assert {v.value for v in Verb} == {
        "ticket.new",
        "ticket.create",
        "ticket.list",
        "ticket.open",
        "ticket.reply",
        "ticket.refresh",
        "ticket.reopen",
        "help.solved",
        "help.open_anyway",
        "ticket.rate",
        "ticket.answer",
        "ticket.resolve",
    }


@pytest.mark.parametrize(
    "action",
    [
        ActionData(Verb.NEW),
        ActionData(Verb.CREATE, form_id="f-1"),
        ActionData(Verb.LIST, page=3),
        ActionData(Verb.OPEN, ticket_id=42),
        ActionData(Verb.REPLY, ticket_id=42),
        ActionData(Verb.REFRESH, ticket_id=7),
        ActionData(Verb.REOPEN, ticket_id=7),
        ActionData(Verb.HELP_SOLVED, form_id="f-2"),
        ActionData(Verb.RESOLVE, ticket_id=7),
        ActionData(Verb.RATE, ticket_id=7, message_id=70, inputs={"rating": "4", "feedback": "ok"}),
        ActionData(Verb.ANSWER, ticket_id=7, message_id=71, inputs={"answer": "vpn"}),
        ActionData(Verb.ANSWER, ticket_id=7, message_id=72, inputs={"answer.host": "PC-1"}),
        ActionData(
            Verb.HELP_OPEN_ANYWAY,
            form_id="f-2",
            inputs={"title": "VPN cai", "description": "Desde ontem", "sector": "TI"},
        ),
    ],
)
def test_execute_and_submit_round_trip(action: ActionData) -> None:
    invoke = {
        "action": {
            "type": "Action.Execute",
            "id": "",
            "verb": action.verb.value,
            "data": action.to_data(),
        },
        "trigger": "manual",
    }
    assert parse_action(invoke) == action
    assert parse_action(invoke["action"]) == action
    assert parse_action(action.to_submit_data()) == action


def test_inputs_are_collected_and_teams_keys_ignored() -> None:
    submit = {
        "verb": "ticket.create",
        "formId": "f-9",
        "title": "Printer",
        "description": "Broken",
        "complexity": "Alta",
        "sector": "TI",
        "for_other": "false",
        "msteams": {"type": "messageBack"},
        "somethingElse": 1,
    }
    parsed = parse_action(submit)
    assert parsed.verb is Verb.CREATE
    assert parsed.form_id == "f-9"
    assert dict(parsed.inputs) == {
        "title": "Printer",
        "description": "Broken",
        "complexity": "Alta",
        "sector": "TI",
        "for_other": "false",
    }
    execute = {
        "type": "Action.Execute",
        "verb": "ticket.reply",
        "data": {"ticketId": 5, "reply": "Thanks"},
    }
    assert parse_action(execute) == ActionData(Verb.REPLY, ticket_id=5, inputs={"reply": "Thanks"})


def test_stringified_numbers_are_accepted() -> None:
    assert parse_action({"verb": "ticket.open", "ticketId": "12"}).ticket_id == 12
    assert parse_action({"verb": "ticket.list", "page": "2"}).page == 2


@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"verb": "ticket.delete"},
        {"verb": 3},
        {"verb": "ticket.open"},
        {"verb": "ticket.open", "ticketId": 0},
        {"verb": "ticket.open", "ticketId": -4},
        {"verb": "ticket.open", "ticketId": True},
        {"verb": "ticket.open", "ticketId": "12a"},
        {"verb": "ticket.open", "ticketId": 2**70},
        {"verb": "ticket.list", "page": 1.5},
        {"verb": "ticket.create"},
        {"verb": "ticket.create", "formId": ""},
        {"verb": "ticket.create", "formId": "x" * 65},
        {"verb": "ticket.create", "formId": 5},
        {"verb": "help.solved"},
        {"verb": "help.open_anyway", "title": "VPN"},
        {"verb": "help.open_anyway", "formId": "f", "title": 3},
        {"verb": "ticket.reply", "ticketId": 1, "reply": ["a"]},
        {"type": "Action.Execute", "verb": "ticket.list", "data": "page=2"},
        {"type": "Action.Execute", "data": {"verb": "ticket.list"}},
        {"type": "Action.Execute", "verb": "ticket.list", "data": {"verb": "ticket.reopen"}},
        {"action": {"type": "Action.Execute", "verb": "nope", "data": {}}},
    ],
)
def test_junk_is_rejected(junk: dict[str, Any]) -> None:
    with pytest.raises(InvalidAction):
        parse_action(junk)


def test_non_mapping_is_rejected() -> None:
    with pytest.raises(InvalidAction):
        parse_action(["ticket.new"])  # type: ignore[arg-type]


def test_every_button_in_every_card_parses_back(built_cards: dict[str, dict[str, Any]]) -> None:
    seen: set[Verb] = set()
    for card in built_cards.values():
        for node in _walk(card):
            if node.get("type") == "Action.Execute":
                parsed = parse_action(node)
                assert parse_action(node["fallback"]["data"]) == parsed
                seen.add(parsed.verb)
    assert seen == set(Verb)


@pytest.mark.parametrize(
    "data",
    [
        {"verb": "ticket.rate", "ticketId": 7, "rating": "4"},
        {"verb": "ticket.answer", "ticketId": 7},
        {"verb": "ticket.answer", "ticketId": 7, "messageId": "x"},
        {"verb": "ticket.answer", "ticketId": 7, "messageId": 9, "answer.host": 5},
        {"verb": "ticket.resolve"},
    ],
)
def test_answer_verbs_refuse_incomplete_payloads(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidAction):
        parse_action(data)
