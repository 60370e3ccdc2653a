"""Logs: a browser leaving is not an error, and a warning repeated while something is down
is printed once per interval with a count."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from sandbox import SandboxServer
from tests.conftest import settings_for
from tickets.app import create_app
from tickets.logs import RepeatFilter


class Seen(logging.Handler):
    """Set an event when a record containing `words` is logged."""

    def __init__(self, words: str) -> None:
        super().__init__(logging.DEBUG)
        self.words = words
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


@pytest.fixture
async def served(database_url: str, sandbox: SandboxServer) -> AsyncIterator[int]:
    """The app served as `tickets serve` does (handlers run to the end after a hang-up)."""
    runner = web.AppRunner(create_app(settings_for(database_url, sandbox)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    yield int(server.sockets[0].getsockname()[1])
    await runner.cleanup()


async def _leave_mid_request(port: int, path: str) -> None:
    """Send a form's headers, wait until the service is handling it, send half, hang up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        ).encode()
    )
    # The interim answer comes once the request is dispatched to the app.
    assert (await reader.readline()).startswith(b"HTTP/1.1 100")
    writer.write(b"email=someone%40example.com&password=")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


@pytest.mark.parametrize("path", ["/login", "/signup"])
async def test_a_browser_leaving_mid_request_is_logged_at_debug(
    served: int, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = Seen("client left")
    logging.getLogger().addHandler(seen)
    try:
        await _leave_mid_request(served, path)
        async with asyncio.timeout(10):
            await seen.event.wait()
    finally:
        logging.getLogger().removeHandler(seen)
    left = [r for r in caplog.records if "client left" in r.getMessage()]
    assert left[0].levelno == logging.DEBUG
    assert path in left[0].getMessage()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # The service is fine afterwards.
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"http://127.0.0.1:{served}/healthz")).status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _record(message: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("chatwoot.cable", level, __file__, 1, message, args, None)


def test_a_repeated_warning_is_printed_once_per_interval_with_a_count() -> None:
    clock = Clock()
    limiter = RepeatFilter(interval=300, clock=clock)
    template = "cable connection to %s lost: %r"
    printed = []
    # Every 6 s for ten minutes, as the cable does while Chatwoot is down.
    for _ in range(100):
        record = _record(template, "ws://127.0.0.1:3001/cable", OSError("refused"))
        if limiter.filter(record):
            printed.append(record.getMessage())
        clock.now += 6
    assert len(printed) == 2
    assert printed[0] == "cable connection to ws://127.0.0.1:3001/cable lost: OSError('refused')"
    assert printed[1].endswith("[repeated 49 more times in the last 300 s]")


def test_different_warnings_and_info_lines_are_not_held_back() -> None:
    clock = Clock()
    limiter = RepeatFilter(interval=300, clock=clock)
    assert limiter.filter(_record("catch-up failed; retrying in %.0f s", 30.0))
    assert limiter.filter(_record("cable connection to %s lost: %r", "x", "y"))
    assert not limiter.filter(_record("catch-up failed; retrying in %.0f s", 30.0))
    assert limiter.filter(_record("ticket %s opened", 7, level=logging.INFO))
    assert limiter.filter(_record("ticket %s opened", 8, level=logging.INFO))


def test_a_repeated_traceback_is_not_printed_again() -> None:
    clock = Clock()
    limiter = RepeatFilter(interval=30, clock=clock)
    try:
        raise ConnectionRefusedError("chatwoot down")
    except ConnectionRefusedError:
        import sys

        info = sys.exc_info()
    first = _record("catch-up failed; retrying in %.0f s", 30.0)
    first.exc_info = info
    assert limiter.filter(first)
    assert first.exc_info is info
    clock.now += 10
    assert not limiter.filter(_record("catch-up failed; retrying in %.0f s", 30.0))
    clock.now += 30
    later = _record("catch-up failed; retrying in %.0f s", 30.0)
    later.exc_info = info
    assert limiter.filter(later)
    assert later.exc_info is None
    assert "[repeated 1 more time in the last 40 s]" in later.getMessage()
