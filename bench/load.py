"""Offer requests at a fixed rate or flat out, bounded in count and time, and summarise them."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

# One request: given its index, do it and tell whether it succeeded.
Send = Callable[[int], Awaitable[bool]]


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) by nearest rank; NaN when there is nothing."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Run:
    """What one load run observed."""

    offered: int = 0
    ok: int = 0
    errors: int = 0
    unsent: int = 0  # scheduled but never sent: the run hit its time bound first
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Successful requests per second of wall time."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self, rate: float | None = None) -> dict[str, float | int | None]:
        """Return the figures of this run, latencies in milliseconds."""
        return {
            "offered_per_s": rate,
            "requests": self.offered,
            "ok": self.ok,
            "errors": self.errors,
            "unsent": self.unsent,
            "accepted_per_s": round(self.per_second, 1),
            "p50_ms": ms(percentile(self.latencies, 50)),
            "p99_ms": ms(percentile(self.latencies, 99)),
            "max_ms": ms(max(self.latencies, default=math.nan)),
        }


def ms(seconds: float) -> float | None:
    """Turn seconds into rounded milliseconds (None for NaN, which JSON cannot hold)."""
    return None if math.isnan(seconds) else round(seconds * 1000, 2)


async def _timed(send: Send, index: int, started: float, run: Run) -> None:
    try:
        good = await send(index)
    except (OSError, TimeoutError):
        good = False
    except Exception:  # a benchmark counts every failure instead of stopping
        good = False
    if good:
        run.ok += 1
        run.latencies.append(time.perf_counter() - started)
    else:
        run.errors += 1


async def fixed_rate(
    send: Send, *, rate: float, count: int, time_limit: float, max_in_flight: int = 1000
) -> Run:
    """Start `count` requests at `rate`/s (open loop) and wait for them, within `time_limit`.

    Latency counts from each request's scheduled start, so a server (or client) that falls
    behind shows it in p99 instead of quietly lowering the rate it was offered.
    """
    run = Run()
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    deadline = start + time_limit
    for index in range(count):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() > deadline:
            run.unsent = count - index
            break
        while len(tasks) >= max_in_flight:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        run.offered += 1
        task = asyncio.create_task(_timed(send, index, scheduled, run))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await _finish(tasks, deadline, run)
    run.elapsed = time.perf_counter() - start
    return run


async def flat_out(send: Send, *, count: int, concurrency: int, time_limit: float) -> Run:
    """Send `count` requests as fast as `concurrency` workers can, within `time_limit`."""
    run = Run()
    next_index = iter(range(count))
    start = time.perf_counter()
    deadline = start + time_limit

    async def worker() -> None:
        for index in next_index:
            if time.perf_counter() > deadline:
                run.unsent += 1
                continue
            run.offered += 1
            await _timed(send, index, time.perf_counter(), run)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), time_limit + 30)
    run.elapsed = time.perf_counter() - start
    return run


async def _finish(tasks: set[asyncio.Task[None]], deadline: float, run: Run) -> None:
    if not tasks:
        return
    # Requests still open when the run's time is up count as errors (timeouts).
    _, pending = await asyncio.wait(set(tasks), timeout=max(0.0, deadline - time.perf_counter()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
        run.errors += len(pending)


def ratio(value: float | None, base: float | None) -> float | None:
    """Return value / base rounded, or None when either is missing or base is zero."""
    if value is None or base is None or base == 0 or math.isnan(value) or math.isnan(base):
        return None
    return round(value / base, 2)
