"""Logging for `tickets serve`: one format, and repeated warnings collapsed with a count.

While Chatwoot or the database is down, the cable and the catch-up warn every few seconds;
one line per interval with how many were held back says the same without drowning the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# A warning repeated within this many seconds is counted instead of printed.
REPEAT_INTERVAL = 300.0


class RepeatFilter(logging.Filter):
    """Let the first of a run of identical warnings through, then one per interval with a count."""

    def __init__(
        self, interval: float = REPEAT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # (logger, template) -> (when last printed, how many suppressed since)
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Tell whether to print the record, adding the count of the ones held back."""
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, str(record.msg))
        now = self._clock()
        with self._lock:
            printed, held = self._seen.get(key, (float("-inf"), 0))
            if now - printed < self.interval:
                self._seen[key] = (printed, held + 1)
                return False
            self._seen[key] = (now, 0)
        if held:
            record.msg = (
                f"{record.msg} [repeated {held} more time{'s' if held > 1 else ''} "
                f"in the last {now - printed:.0f} s]"
            )
            # A repeated traceback says nothing new; the first one was printed in full.
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: str) -> None:
    """Set the service's log format and level, with repeated warnings rate-limited."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RepeatFilter())
    # Per-request client logs drown the service's own lines; keep their warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
