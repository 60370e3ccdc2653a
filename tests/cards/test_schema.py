"""Every card against the Adaptive Cards 1.5 schema and the project's own contract."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from cards import INPUT_IDS, MAX_CARD_BYTES, Verb, card_size
from cards.actions import ANSWER_PREFIX
from tests.cards.cases import DIALOGS, all_cards

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "schemas"
    / "adaptive-cards"
    / "1.5.0"
    / "adaptive-card.json"
)
NAMES = sorted(all_cards())


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _without_msteams(card: dict[str, Any]) -> dict[str, Any]:
    # additionalProperties: false in the schema, which does not know Teams' key (REFERENCE §5.6).
    stripped = copy.deepcopy(card)
    stripped.pop("msteams", None)
    return stripped


@pytest.mark.parametrize("name", NAMES)
def test_card_validates_against_schema_1_5(
    validator: jsonschema.protocols.Validator, built_cards: dict[str, dict[str, Any]], name: str
) -> None:
    card = built_cards[name]
    errors = [e.message for e in validator.iter_errors(_without_msteams(card))]
    assert errors == []
    assert card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["msteams"] == {"width": "Full"}


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_execute_with_known_verbs_and_submit_fallback(
    built_cards: dict[str, dict[str, Any]], name: str
) -> None:
    nodes = list(_walk(built_cards[name]))
    if name.split(".")[0] in DIALOGS:
        # A dialog submits with Action.Submit only; its data names the verb like a fallback does.
        # (Action.ToggleVisibility only unfolds the "for someone else" fields.)
        actions = [n for n in nodes if str(n.get("type", "")).startswith("Action.")]
        [submit] = [n for n in actions if n["type"] != "Action.ToggleVisibility"]
        assert submit["type"] == "Action.Submit"
        assert submit["data"]["verb"] == Verb.CREATE.value and submit["data"]["formId"]
        return
    executes = [n for n in nodes if n.get("type") == "Action.Execute"]
    assert executes, "every card offers at least one action"
    verbs = {v.value for v in Verb}
    for action in executes:
        assert action["verb"] in verbs
        fallback = action["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["title"] == action["title"]
        assert fallback["data"] == {"verb": action["verb"], **action.get("data", {})}
        assert fallback.get("associatedInputs") == action.get("associatedInputs")
    submits = [n for n in nodes if n.get("type") == "Action.Submit"]
    assert len(submits) == len(executes), "Action.Submit only appears as an Execute fallback"


@pytest.mark.parametrize("name", NAMES)
def test_inputs_use_design_ids_once(built_cards: dict[str, dict[str, Any]], name: str) -> None:
    ids = [n["id"] for n in _walk(built_cards[name]) if str(n.get("type", "")).startswith("Input.")]
    # A bot question's form sends its fields as ``answer.<name>``.
    assert {i for i in ids if not i.startswith(ANSWER_PREFIX)} <= set(INPUT_IDS)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_card_is_under_teams_size_limit(built_cards: dict[str, dict[str, Any]], name: str) -> None:
    assert card_size(built_cards[name]) < MAX_CARD_BYTES
    # Teams counts UTF-16; stay under its ~100 KB bot message limit with room to spare.
    text = json.dumps(built_cards[name], ensure_ascii=False, separators=(",", ":"))
    assert len(text.encode("utf-16-le")) < 80_000


def test_form_inputs_carry_labels_checks_and_limits(built_cards: dict[str, dict[str, Any]]) -> None:
    inputs = {
        n["id"]: n
        for n in _walk(built_cards["form_empty.pt-BR"])
        if "id" in n and str(n.get("type", "")).startswith("Input.")
    }
    assert set(inputs) == set(INPUT_IDS) - {"reply", "rating", "feedback", "answer"}
    for input_id, element in inputs.items():
        assert element.get("label") or element["type"] == "Input.Toggle", input_id
        if element.get("isRequired"):
            assert element["errorMessage"], input_id
    # The description is optional, as on the web page (the service's one rule).
    required = {i for i, e in inputs.items() if e.get("isRequired")}
    assert required == {"title", "complexity", "sector"}
    assert inputs["title"]["maxLength"] == 120
    assert inputs["description"]["maxLength"] == 5000
    assert inputs["for_other"]["valueOn"] == "true"
