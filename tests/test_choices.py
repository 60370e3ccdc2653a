"""Configured choices: value → label per language, plain values still valid, bad text refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tickets.choices import Choices
from tickets.settings import Settings


def test_labels_per_language_and_plain_values() -> None:
    choices = Choices.parse("baixa:Baixa|Low, media:Média|Medium ,alta:Alta,urgente")
    assert list(choices) == ["baixa", "media", "alta", "urgente"]
    assert "media" in choices
    assert choices.options("en") == [
        ("baixa", "Low"),
        ("media", "Medium"),
        ("alta", "Alta"),
        ("urgente", "urgente"),
    ]
    assert choices.label("media", "pt-BR") == "Média"
    assert choices.label("media", None) == "Média"
    # A value removed from the setting (old tickets keep it) shows as stored.
    assert choices.label("retired", "en") == "retired"
    assert choices.by_value()["baixa"] == {"pt-BR": "Baixa", "en": "Low"}
    assert "urgente" not in choices.by_value()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,a:A", "only once"),
        (":Label", "no value"),
        ("a:A|B|C", "one or two labels"),
        ("a:|B", "one or two labels"),
        ("a|b:A", "value:Label"),
        ("x" * 61, "longer than 60"),
    ],
)
def test_bad_choice_text_is_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Settings(_env_file=None, TICKET_COMPLEXITIES=text)  # type: ignore[call-arg]


def test_empty_choice_setting_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        Settings(_env_file=None, TICKET_SECTORS=" , ")  # type: ignore[call-arg]
