"""Reply-path timestamps for the benchmarks: one DEBUG logger, silent unless `TRACE_LATENCY`.

Each mark is a log line ``trace STAGE KEY MONOTONIC``. `time.monotonic` is the system-wide
clock on Linux, so the bench lines these up with its own and the fake connector's timestamps
to say where a reply's time goes (see docs/performance.md). Off, a mark costs one level check.
"""

from __future__ import annotations

import logging
import time

LOGGER = "tickets.trace"
log = logging.getLogger(LOGGER)


def enable() -> None:
    """Turn the marks on (the process's log handler prints them)."""
    log.setLevel(logging.DEBUG)


def mark(stage: str, key: object = "") -> None:
    """Log when a reply passed `stage`, when tracing is on."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("trace %s %s %.6f", stage, key, time.monotonic())
