"""`tickets serve --workers N`: N service processes on one port, watched by the parent.

The parent starts what exists once (embedded PostgreSQL, the sandbox, the mail server), migrates,
then spawns the workers; each binds the same port with SO_REUSEPORT, so the kernel spreads the
connections. They coordinate only through PostgreSQL, as separate instances would: one holds
the Chatwoot cable (an advisory lock), the outbox is claimed with SKIP LOCKED, and ticket
changes reach every process's sockets by LISTEN/NOTIFY. A worker that dies is started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess

import httpx
from aiohttp import web

from tickets.http_limits import runner_options
from tickets.logs import configure_logging
from tickets.settings import Settings

log = logging.getLogger("tickets.workers")

POLL = 0.2  # seconds between looks at the workers
# What a worker imports to build the app (create_app imports the front doors when it runs).
PRELOAD = ["tickets.app", "web.routes", "web.webhook", "bot.routes"]
STOP_TIMEOUT = 15.0
READY_TIMEOUT = 90.0
# A worker that dies sooner than this after its start waits before the next one (crash loop).
QUICK_DEATH = 5.0
MAX_BACKOFF = 30.0
_PR_SET_PDEATHSIG = 1

# Applied to each worker's app before it serves (must pickle: a module-level function or a
# functools.partial of one); the soak uses it for its Teams test seams.
Setup = Callable[[web.Application], None]


async def wait_for_signal() -> None:
    """Return once SIGINT or SIGTERM arrives."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def serve_worker(settings: Settings, setup: Setup | None = None) -> None:
    """Run one service process until SIGTERM/SIGINT (the target of a spawned worker)."""
    if sys.platform == "linux":
        # Die with the parent even when it is killed outright: no orphan keeps the port.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    configure_logging(settings.LOG_LEVEL)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, setup))


async def _serve(settings: Settings, setup: Setup | None) -> None:
    from tickets.app import create_app

    app = create_app(settings)
    if setup is not None:
        setup(app)
    runner = web.AppRunner(app, access_log=None, **runner_options(settings))
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.HOST, settings.PORT, reuse_port=True).start()
        await wait_for_signal()
    finally:
        await runner.cleanup()


class Supervisor:
    """Start N workers, restart any that dies, stop them all."""

    def __init__(self, settings: Settings, count: int, setup: Setup | None = None) -> None:
        self._settings = settings
        self._setup = setup
        # A fork server that imported the app once forks each worker (and each restart)
        # without importing it again; nothing of this process's loop or threads is inherited.
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._workers: list[BaseProcess | None] = [None] * count
        self._started = [0.0] * count
        self._backoff = [0.0] * count
        self._due: list[float | None] = [None] * count
        self.restarts = 0

    @property
    def pids(self) -> list[int]:
        """Return the process ids of the workers running now."""
        return [p.pid for p in self._workers if p is not None and p.pid and p.is_alive()]

    def start(self) -> None:
        """Spawn every worker."""
        for index in range(len(self._workers)):
            self._spawn(index)

    def _spawn(self, index: int) -> None:
        process = self._context.Process(
            target=serve_worker,
            args=(self._settings, self._setup),
            name=f"tickets-worker-{index}",
        )
        process.start()
        self._workers[index] = process
        self._started[index] = time.monotonic()

    async def ready(self, url: str) -> None:
        """Wait until `url` answers 200 (some worker is serving); raise if none can start."""
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                if not self.pids:
                    raise RuntimeError("every worker exited while starting; see the log above")
                await asyncio.sleep(POLL)
        raise RuntimeError(f"no worker answered {url} within {READY_TIMEOUT:.0f} s")

    async def watch(self, stop: asyncio.Event) -> None:
        """Restart workers that exit until `stop` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL)
            if stop.is_set():
                return
            for index, process in enumerate(self._workers):
                if process is not None and process.exitcode is not None:
                    self._restart(index, process.exitcode)

    def _restart(self, index: int, exitcode: int) -> None:
        now = time.monotonic()
        due = self._due[index]
        if due is None:  # just found dead: a crash loop waits longer each time
            quick = now - self._started[index] < QUICK_DEATH
            self._backoff[index] = (
                min(MAX_BACKOFF, max(1.0, self._backoff[index] * 2)) if quick else 0.0
            )
            due = self._due[index] = now + self._backoff[index]
            log.warning(
                "worker %s exited with %s; starting it again in %.0f s",
                index,
                exitcode,
                self._backoff[index],
            )
        if now >= due:
            self._due[index] = None
            self.restarts += 1
            self._spawn(index)

    async def stop(self) -> None:
        """Ask every worker to stop (SIGTERM), then kill the ones that do not."""
        running = [p for p in self._workers if p is not None and p.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            await asyncio.to_thread(process.join, max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5.0)


async def run_workers(
    settings: Settings, *, setup: Setup | None = None, on_ready: Callable[[list[int]], None]
) -> None:
    """Serve with WORKERS processes until SIGINT/SIGTERM; `on_ready` gets their pids."""
    supervisor = Supervisor(settings, settings.worker_count, setup)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    supervisor.start()
    try:
        await supervisor.ready(f"http://{settings.HOST}:{settings.PORT}/healthz")
        on_ready(supervisor.pids)
        await supervisor.watch(stop)
    finally:
        await supervisor.stop()
