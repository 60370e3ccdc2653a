"""Where a reply's time goes: the service's trace marks lined up with the bench's own clocks.

The service logs ``trace STAGE KEY MONOTONIC`` at each step when `TRACE_LATENCY` is on
(`tickets.trace`); `time.monotonic` is one clock for every process on the machine. A reply
sent one at a time owns the marks between its post and the next reply's post: each step is the
first mark of its stage after the step before it (the outbox's steps follow the claimed row's
id), and a step's time is the gap between the two.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.context import Figures
from bench.load import ms, percentile

# (step, from, to); "posted", "committed", "ws" and "teams" are derived below.
WEB_STEPS: tuple[tuple[str, str, str], ...] = (
    ("sandbox delivery (agent API -> webhook arrives)", "posted", "webhook.received"),
    ("ingest (verify, store, commit)", "webhook.received", "committed"),
    ("NOTIFY to the hub", "committed", "hub.notified"),
    ("fan-out read", "hub.notified", "fanout.read"),
    ("socket write and client read", "fanout.read", "ws"),
)
TEAMS_STEPS: tuple[tuple[str, str, str], ...] = (
    ("outbox wake-up (NOTIFY)", "committed", "outbox.woken"),
    ("claim", "outbox.woken", "outbox.claimed"),
    ("render", "outbox.claimed", "outbox.rendered"),
    ("limit check", "outbox.rendered", "outbox.reserved"),
    ("send (to the connector's arrival)", "outbox.reserved", "teams"),
)
SIDE_STEPS: tuple[tuple[str, str, str], ...] = (
    ("outbox record (after the send)", "teams", "outbox.recorded"),
)
WAKE_SLACK = 0.005
OUTBOX_ROW = ("outbox.rendered", "outbox.reserved", "outbox.recorded")


@dataclass(frozen=True, order=True)
class Mark:
    """One trace line: when, which stage, and its key (a claimed row's id for the outbox)."""

    at: float
    stage: str
    key: str


def read_marks(log: Path) -> list[Mark]:
    """Return every mark the service logged, in time order."""
    marks: list[Mark] = []
    for line in log.read_text(errors="replace").splitlines():
        _, found, rest = line.partition(": trace ")
        parts = rest.split()
        if not found or len(parts) < 2:
            continue
        try:
            marks.append(Mark(float(parts[-1]), parts[0], " ".join(parts[1:-1])))
        except ValueError:
            continue
    marks.sort()
    return marks


def _first(marks: Sequence[Mark], stage: str, after: float, key: str | None = None) -> float | None:
    return next(
        (
            m.at
            for m in marks
            if m.stage == stage and m.at >= after and (key is None or m.key == key)
        ),
        None,
    )


def _reply(marks: Sequence[Mark], window: Sequence[Mark], posted: float) -> dict[str, float]:
    """Find one reply's marks: each the first of its stage after the one before it."""
    seen = {"posted": posted}
    received = _first(window, "webhook.received", posted)
    if received is None:
        return seen
    seen["webhook.received"] = received
    for stage in ("webhook.stored", "hub.notified"):
        found = _first(window, stage, received)
        if found is not None:
            seen[stage] = found
    # The commit sends the NOTIFY: the hub may hear it before the handler resumes.
    committed = [seen[s] for s in ("webhook.stored", "hub.notified") if s in seen]
    if committed:
        seen["committed"] = min(committed)
        # The same commit wakes the outbox; a wake-up long before it is the previous reply's
        # release (its NOTIFY), not this reply's.
        found = _first(window, "outbox.woken", seen["committed"] - WAKE_SLACK)
        if found is not None:
            seen["outbox.woken"] = found
    if "hub.notified" in seen:
        found = _first(window, "fanout.read", seen["hub.notified"])
        if found is not None:
            seen["fanout.read"] = found
    claim = next((m for m in window if m.stage == "outbox.claimed" and m.at >= received), None)
    if claim is not None:
        seen["outbox.claimed"] = claim.at
        for stage in OUTBOX_ROW:
            found = _first(marks, stage, claim.at, claim.key)
            if found is not None:
                seen[stage] = found
    return seen


def breakdown(
    marks: Sequence[Mark], replies: Sequence[tuple[float, float | None, float | None]]
) -> Figures:
    """Split one-at-a-time replies (posted, /ws arrival, connector arrival) into steps."""
    times = [m.at for m in marks]
    posts = sorted(replies)
    steps: dict[str, list[float]] = {}
    for index, (posted, ws, teams) in enumerate(posts):
        end = posts[index + 1][0] if index + 1 < len(posts) else math.inf
        window = marks[bisect.bisect_left(times, posted) : bisect.bisect_left(times, end)]
        seen = _reply(marks, window, posted)
        if ws is not None:
            seen["ws"] = ws
        if teams is not None:
            seen["teams"] = teams
        for name, start, stop in (*WEB_STEPS, *TEAMS_STEPS, *SIDE_STEPS):
            if start in seen and stop in seen:
                steps.setdefault(name, []).append(seen[stop] - seen[start])
    return {
        path: [
            {
                "step": name,
                "samples": len(steps.get(name, [])),
                "p50_ms": ms(percentile(steps.get(name, []), 50)),
                "p99_ms": ms(percentile(steps.get(name, []), 99)),
            }
            for name, _, _ in group
        ]
        for path, group in (("web", WEB_STEPS), ("teams", TEAMS_STEPS), ("side", SIDE_STEPS))
    }
