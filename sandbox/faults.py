"""The fault switches a test or the soak turns on through the control API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Faults:
    """Hold the fault switches (see the README); all off by default."""

    http_status: int | None = None
    count: int | None = None
    delay_ms: int = 0
    # Do the work, then answer late: the caller times out although Chatwoot did act.
    delay_after_ms: int = 0
    webhook_drop: bool | int = False
    webhook_duplicate: int = 1
    webhook_reorder: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the switches as JSON."""
        return {
            "http_status": self.http_status,
            "count": self.count,
            "delay_ms": self.delay_ms,
            "delay_after_ms": self.delay_after_ms,
            "webhook_drop": self.webhook_drop,
            "webhook_duplicate": self.webhook_duplicate,
            "webhook_reorder": self.webhook_reorder,
        }
