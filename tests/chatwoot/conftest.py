"""Fixtures for the Chatwoot edge tests: recorded payloads and a running sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "chatwoot" / "payloads"


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load a recorded payload by its path under ``payloads/``."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))

    return load
