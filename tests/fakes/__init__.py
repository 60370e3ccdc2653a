"""Local stand-ins for the Microsoft services the bot talks to (Teams identity, Bot Connector)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class ThreadedServer:
    """Run an aiohttp application on 127.0.0.1 in its own thread and event loop.

    The Bot Framework SDK makes blocking HTTP calls on the bot's event loop (OpenID metadata,
    tokens), so a fake served by that same loop would deadlock; a thread of its own avoids it.
    """

    def __init__(self, build: Callable[[], web.Application], *, name: str) -> None:
        self._build = build
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        if not self.port:
            raise RuntimeError(f"{self._name} is not started")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the thread and wait until the server listens."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # surfaced to start() below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            assert self._runner is not None
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        await asyncio.to_thread(ready.wait, 10)
        if failure:
            raise failure[0]

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self._build(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Stop the server and join its thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)
        self._loop = None
        self._thread = None
