"""Render benchmark figures as readable tables (the JSON stays the source of truth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.context import Figures


def table(rows: Sequence[Figures], columns: Sequence[str]) -> str:
    """Return a plain-text table of `columns` over `rows`."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)
    ]
    lines = ["  ".join(column.ljust(w) for column, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def markdown(rows: Sequence[Figures], columns: Sequence[str]) -> str:
    """Return a Markdown table of `columns` over `rows`."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def summary_rows(results: dict[str, Figures]) -> list[Figures]:
    """Flatten every benchmark into headline rows: figure, ours, baseline, ratio."""
    rows: list[Figures] = []
    for name, figures in results.items():
        for headline in figures.get("headline", []):
            rows.append({"benchmark": name, **headline})
    return rows


HEADLINE_COLUMNS = ("benchmark", "figure", "ours", "baseline", "ratio", "unit")


def headline(
    figure: str, ours: float | None, base: float | None, unit: str, *, lower_is_better: bool
) -> Figures:
    """Return one headline row; the ratio is ours / baseline."""
    from bench.load import ratio

    return {
        "figure": figure,
        "ours": ours,
        "baseline": base,
        "ratio": ratio(ours, base),
        "unit": unit,
        "better": "lower" if lower_is_better else "higher",
    }


def versus_one(
    figure: str, by_workers: Mapping[int, float | None], unit: str, *, lower_is_better: bool
) -> list[Figures]:
    """Return a headline per worker count above 1: its figure against the 1-worker run's."""
    one = by_workers[1]
    return [
        headline(
            f"{figure}, {workers} workers vs 1", value, one, unit, lower_is_better=lower_is_better
        )
        for workers, value in by_workers.items()
        if workers != 1
    ]


def markdown_document(document: dict[str, Any]) -> str:
    """Render a results.json document as the README's Markdown table."""
    machine = document["machine"]
    lines = [
        f"Measured {document['date'][:10]} on {machine['cores']} cores ({machine['cpu']}, "
        f"{machine['memory_gb']} GB, Python {machine['python']}), `make bench` in "
        f"{document['seconds']:.0f} s.",
        "",
        markdown(summary_rows(document["results"]), (*HEADLINE_COLUMNS[:-1], "unit", "better")),
    ]
    return "\n".join(lines)


def main() -> None:
    """Print bench/results.json (or the given file) as Markdown."""
    import json
    import sys
    from pathlib import Path

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results.json"
    print(markdown_document(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
