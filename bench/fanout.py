"""Placeholder until its piece lands."""

from __future__ import annotations

from bench.context import Context, Figures


async def fan_out(ctx: Context) -> dict[str, Figures]:
    """Not built yet."""
    return {"fanout": {"skipped": "not built yet"}}
