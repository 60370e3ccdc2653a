"""Configured form choices: a stored value plus the label shown for it in each language."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import overload

# The order labels are written in a setting: `value:pt-BR label|English label`.
LABEL_LOCALES = ("pt-BR", "en")
VALUE_MAX = 60  # the tickets table's complexity/sector columns are String(60)


@dataclass(frozen=True, slots=True)
class Choice:
    """One option: ``value`` is stored and sent on; ``labels`` maps a locale to its label."""

    value: str
    labels: tuple[tuple[str, str], ...]

    def label(self, locale: str | None) -> str:
        """Return the label for ``locale`` (``en-*`` reads English), else pt-BR, else the value."""
        wanted = "en" if (locale or "").lower().startswith("en") else "pt-BR"
        by_locale = dict(self.labels)
        return by_locale.get(wanted) or by_locale.get("pt-BR") or self.value


class Choices(Sequence[str]):
    """The ordered options of one form field; iterates over the stored values."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Choice]) -> None:
        self._items = tuple(items)
        values = [item.value for item in self._items]
        if len(set(values)) != len(values):
            raise ValueError("each value may appear only once")

    @classmethod
    def parse(cls, text: str) -> Choices:
        """Read ``a:Label pt|Label en,b,c:Label`` (labels optional; one label serves both)."""
        return cls(_parse_one(part.strip()) for part in text.split(",") if part.strip())

    @property
    def items(self) -> tuple[Choice, ...]:
        """Return every option with its labels."""
        return self._items

    def label(self, value: str, locale: str | None) -> str:
        """Return the label of ``value`` in ``locale``; an unknown (retired) value shows as is."""
        for item in self._items:
            if item.value == value:
                return item.label(locale)
        return value

    def by_value(self) -> dict[str, dict[str, str]]:
        """Return value -> locale -> label for the values that have labels."""
        return {item.value: dict(item.labels) for item in self._items if item.labels}

    def options(self, locale: str | None) -> list[tuple[str, str]]:
        """Return ``(value, label)`` pairs for a form in ``locale``."""
        return [(item.value, item.label(locale)) for item in self._items]

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [item.value for item in self._items[index]]
        return self._items[index].value

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return (item.value for item in self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Choices):
            return self._items == other._items
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Choices({[item.value for item in self._items]!r})"


def _parse_one(part: str) -> Choice:
    value, sep, rest = part.partition(":")
    value = value.strip()
    if not value:
        raise ValueError(f"{part!r} has no value before ':'")
    if len(value) > VALUE_MAX:
        raise ValueError(f"{value[:20]!r}… is longer than {VALUE_MAX} characters")
    if "|" in value:
        raise ValueError(f"{part!r}: write value:Label pt-BR|Label en")
    if not sep:
        return Choice(value, ())
    labels = [label.strip() for label in rest.split("|")]
    if len(labels) > len(LABEL_LOCALES) or not all(labels):
        raise ValueError(f"{part!r}: write value:Label pt-BR|Label en (one or two labels)")
    if len(labels) == 1:
        labels *= 2
    return Choice(value, tuple(zip(LABEL_LOCALES, labels, strict=True)))
