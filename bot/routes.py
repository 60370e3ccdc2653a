"""Bot routes (filled in by the Teams front door)."""

from aiohttp import web


def setup_bot(app: web.Application) -> None:
    """Register the bot endpoint and workers."""
