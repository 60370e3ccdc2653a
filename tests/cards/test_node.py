"""Parse and validate every card with the adaptivecards library in plain Node (no browser)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.cards.conftest import NODE_MODULES

SCRIPT = Path(__file__).resolve().parent / "js" / "validate.js"


def _run(cards: dict[str, dict[str, Any]], tmp_path: Path) -> dict[str, list[dict[str, str]]]:
    source = tmp_path / "cards.json"
    source.write_text(json.dumps(cards), encoding="utf-8")
    done = subprocess.run(
        ["node", str(SCRIPT), str(source)],
        env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, list[dict[str, str]]] = json.loads(done.stdout)
    return result


def test_every_card_parses_and_validates_without_events(
    built_cards: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    events = _run(built_cards, tmp_path)
    assert set(events) == set(built_cards)
    assert {name: found for name, found in events.items() if found} == {}


def test_validator_reports_a_broken_card(tmp_path: Path) -> None:
    # Proves the harness would catch problems: a required input without label or error message.
    broken = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "Input.Text", "id": "title", "isRequired": True}, {"type": "TextBlok"}],
    }
    events = _run({"broken": broken}, tmp_path)["broken"]
    kinds = {e["event"] for e in events}
    assert {"UnknownElementType", "RequiredInputsShouldHaveLabel"} <= kinds
