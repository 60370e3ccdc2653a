"""Background-task helpers shared by the long-lived loops (hub, cable relay)."""

from __future__ import annotations

import asyncio
import contextlib


async def stop_gracefully(
    task: asyncio.Task[None] | None, stopping: asyncio.Event, *, grace: float = 10.0
) -> None:
    """Ask a loop to finish by setting `stopping`; cancel it only if it does not in time.

    Loops holding asyncpg connections finish between queries this way: cancelling a query
    mid-flight can leave its connection unable to close.
    """
    if task is None:
        return
    stopping.set()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=grace)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
