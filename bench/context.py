"""What every benchmark is handed: the shared database server, a log folder and the scale."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Postgres

Figures = dict[str, Any]


@dataclass
class Context:
    """One `python -m bench` run."""

    pg: Postgres
    logs: Path
    scale: float = 1.0  # 1.0 for the real run; the smoke test uses a tiny fraction
    profile: str | None = None  # name of the benchmark whose service runs under pyinstrument
    profile_dir: Path | None = None

    def n(self, full: int, minimum: int = 3) -> int:
        """Scale a count, never below `minimum`."""
        return max(minimum, round(full * self.scale))

    def seconds(self, full: float, minimum: float = 5.0) -> float:
        """Scale a time bound, never below `minimum`."""
        return max(minimum, full * self.scale)

    def profile_path(self, name: str) -> Path | None:
        """Return where the service's profile goes when this benchmark is the profiled one."""
        if self.profile != name:
            return None
        folder = self.profile_dir or self.logs
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"profile-{name}.pyisession"


# A benchmark returns one or more named sections of figures.
Benchmark = Callable[[Context], Awaitable[dict[str, Figures]]]
