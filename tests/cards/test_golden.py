"""Pin every card's JSON; ``UPDATE_GOLDEN=1`` rewrites the files after a deliberate change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cards.cases import all_cards

GOLDEN = Path(__file__).resolve().parent / "golden"


def _dump(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("name", sorted(all_cards()))
def test_card_matches_golden(built_cards: dict[str, dict[str, Any]], name: str) -> None:
    path = GOLDEN / f"{name}.json"
    actual = _dump(built_cards[name])
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden for {name}; run with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(actual)


def test_no_stale_goldens(built_cards: dict[str, dict[str, Any]]) -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(built_cards)
