"""Placeholder until its piece lands."""

from __future__ import annotations

from bench.context import Context, Figures


async def bot_turns(ctx: Context) -> dict[str, Figures]:
    """Not built yet."""
    return {"turns": {"skipped": "not built yet"}}
