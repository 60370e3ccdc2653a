"""Run the service with the Microsoft 365 Agents Playground wired to it (``make playground``).

``python -m tickets.playground`` serves the app on loopback without a bot app id (the Playground
sends no token), starts the Playground from ``tests/js/node_modules`` with telemetry off, and
prints the browser URL. :class:`Playground` is also what the end-to-end test drives.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from aiohttp import web

from tickets.ports import PortBusyError, check_ports
from tickets.setting_values import is_loopback
from tickets.settings import Settings, SettingsError, load_settings

CLI = (
    Path(__file__).resolve().parents[1]
    / "tests/js/node_modules/@microsoft/m365agentsplayground/cli.js"
)
START_TIMEOUT = 30.0


def free_port() -> int:
    """Return a port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Playground:
    """The Agents Playground as a child process, quiet and local-only (tools README §1.7)."""

    def __init__(
        self,
        bot_endpoint: str,
        *,
        port: int | None = None,
        workdir: Path | None = None,
        cli: Path = CLI,
        install_on_start: bool = False,
    ) -> None:
        self.bot_endpoint = bot_endpoint
        self.port = port or free_port()
        self.cli = cli
        self._workdir = workdir
        self._own_workdir: tempfile.TemporaryDirectory[str] | None = None
        self._install = install_on_start
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """The Playground's UI and API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The Playground's transcript of every activity both ways."""
        assert self._workdir is not None
        return self._workdir / "playground.log"

    async def start(self) -> None:
        """Start the process and wait until it answers its ping."""
        node = shutil.which("node")
        if node is None or not self.cli.exists():
            raise RuntimeError(f"needs node and {self.cli} (run: cd tests/js && npm ci)")
        if self._workdir is None:
            self._own_workdir = tempfile.TemporaryDirectory(prefix="playground-")
            self._workdir = Path(self._own_workdir.name)
        env = {
            **os.environ,
            # Without these the tool phones home and tries to open a browser (tools README §1).
            "TEAMSAPPTESTER_BROWSER": "none",
            "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self.log_file),
            "SEND_INSTALLATION_ACTIVITY": "true" if self._install else "false",
        }
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(self.cli),
            "--app-endpoint",
            self.bot_endpoint,
            "--channel-id",
            "msteams",
            "--port",
            str(self.port),
            "--service-url",
            f"{self.url}/_connector",
            "--disable-telemetry",
            cwd=self._workdir,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                assert self._process is not None
                if self._process.returncode is not None:
                    raise RuntimeError(f"the Playground exited ({self._process.returncode})")
                with contextlib.suppress(httpx.HTTPError):
                    answer = await http.get(f"{self.url}/_debug/ping")
                    if answer.status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError("the Playground did not start")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Stop the process (SIGTERM ends it cleanly) and remove its working directory."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._own_workdir is not None:
            self._own_workdir.cleanup()
            self._own_workdir = None
            self._workdir = None


async def run(settings: Settings, *, playground_port: int) -> None:
    """Serve the app and the Playground until SIGINT/SIGTERM."""
    from tickets.app import create_app
    from tickets.cli import chatwoot, database, migrate
    from tickets.http_limits import runner_options

    local = f"http://{settings.HOST}:{settings.PORT}"
    async with database(settings) as with_db, chatwoot(with_db, local) as resolved:
        await migrate(resolved)
        runner = web.AppRunner(create_app(resolved), access_log=None, **runner_options(resolved))
        await runner.setup()
        await web.TCPSite(runner, resolved.HOST, resolved.PORT).start()
        playground = Playground(f"{local}/api/messages", port=playground_port)
        try:
            await playground.start()
            print(
                f"Tickets for Teams on {local} (Chatwoot: {resolved.CHATWOOT_BASE_URL})\n"
                f"Agents Playground: open {playground.url}/ in a browser\n"
                f"Agent console: {resolved.CHATWOOT_BASE_URL}/sandbox/\n"
                "Ctrl+C stops both.",
                flush=True,
            )
            await _wait_for_signal()
        finally:
            await playground.stop()
            await runner.cleanup()


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m tickets.playground``; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m tickets.playground", description=__doc__)
    parser.add_argument("--port", type=int, default=56150, help="Playground port (56150)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"playground: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.MICROSOFT_APP_ID or not is_loopback(settings.HOST):
        print(
            "playground: the Playground sends no token; unset MICROSOFT_APP_ID and bind HOST to "
            "127.0.0.1",
            file=sys.stderr,
        )
        return 2
    try:
        check_ports(settings)
    except PortBusyError as exc:
        print(f"playground: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(settings, playground_port=args.port))
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"playground: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
