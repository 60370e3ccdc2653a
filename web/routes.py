"""Browser routes (filled in by the web area)."""

from aiohttp import web


def setup_web(app: web.Application) -> None:
    """Register the web area routes."""
