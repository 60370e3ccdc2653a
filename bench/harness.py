"""Start the real service (and its stand-ins) as separate processes on 127.0.0.1, and stop them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from db.embedded import EmbeddedPostgres, free_port
from tests.fakes.connector import FakeConnector

ROOT = Path(__file__).resolve().parent.parent
# Generated values (settings refuse guessable ones); local benchmark only.
SECRET_KEY = "r3GFKcoB0J-emOU9Tms9rXmlEMsw0D6v5d9xLu3-2Nc"
WEBHOOK_TOKEN = "GUEOJRb4cRWx-8cpjHsGmyYhKJSxBQ-EzE6YMGYr_bQ"
WEBHOOK_SECRET = "JPrOvvjuGqliV8RQvhsvHPQ_3INeSaw8pO8SkTw9j-U"
INBOX_IDENTIFIER = "sandboxinbox0000000000001"  # the sandbox's default inbox
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# `tickets serve --workers N` runs of the benchmarks that compare them; the first is the headline.
WORKER_COUNTS = (1, 2)


@dataclass
class Postgres:
    """One embedded PostgreSQL for a whole `make bench` run, with a fresh database per bench."""

    server: EmbeddedPostgres
    _count: int = 0

    async def fresh_database(self, prefix: str) -> str:
        """Create an empty database (the service migrates it at start) and return its URL."""
        self._count += 1
        name = f"bench_{prefix}_{os.getpid()}_{self._count}"
        admin = await asyncpg.connect(self.server.url())
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()
        return self.server.url(name)

    async def drop(self, url: str) -> None:
        """Drop a bench database so a run leaves no data behind."""
        name = url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(self.server.url())
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def postgres(data_dir: Path | None = None) -> AsyncIterator[Postgres]:
    """Run one embedded PostgreSQL under a temporary data directory for the run."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pg-")))
        server = await asyncio.to_thread(EmbeddedPostgres(data_dir).start)
        try:
            yield Postgres(server)
        finally:
            await asyncio.to_thread(server.stop)


@dataclass
class Process:
    """A child process we started, with its log file."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.proc.pid

    def rss_bytes(self) -> int:
        """Return the resident memory of the process (from /proc)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        """Return user + system CPU time the process and its live children have used so far.

        Children count too: `tickets serve --workers N` serves from N child processes.
        """
        stats = _proc_stats()
        family, grew = {self.pid}, True
        while grew:
            children = {pid for pid, (parent, _) in stats.items() if parent in family}
            grew = not children <= family
            family |= children
        return sum(_run_seconds(pid, stats[pid][1]) for pid in family if pid in stats)

    def tail(self, lines: int = 20) -> str:
        """Return the end of the process's output, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self) -> None:
        """Ask the process to stop (SIGINT, like Ctrl-C); kill it if it does not."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()


def _run_seconds(pid: int, ticked: float) -> float:
    """Return a process's CPU seconds in nanoseconds' precision (its threads' schedstat).

    /proc's stat counts in clock ticks (10 ms): a small run of a light process can read 0.
    """
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        total = sum(int((task / "schedstat").read_text().split()[0]) for task in tasks)
    except (OSError, ValueError, IndexError):
        return ticked  # gone meanwhile, or no schedstat on this kernel
    # Threads that ended took their schedstat with them; the served processes keep theirs.
    return total / 1e9


def _proc_stats() -> dict[int, tuple[int, float]]:
    """Return every process's parent id and CPU seconds (user + system), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return stats


async def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], logs: Path) -> Process:
    """Start `argv` with a clean environment plus `env`, output to a log file."""
    log = logs / f"{name}.log"
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**base, **env},
            # No .env file from the developer's checkout may leak into a bench.
            cwd=logs,
        )
    return Process(name, proc, log)


async def wait_http(url: str, process: Process, timeout: float = START_TIMEOUT) -> None:
    """Poll `url` until it answers 200, failing early when the process died."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.proc.returncode is not None:
                raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{process.name} did not answer {url} in {timeout}s:\n{process.tail()}")


@dataclass
class Service:
    """`tickets serve` and a `tickets sandbox` (Chatwoot) as two processes on 127.0.0.1."""

    database_url: str
    logs: Path
    profile: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Run this module (given `--port`) instead of `tickets serve`, e.g. a bot with test seams.
    module: str | None = None
    module_args: list[str] = field(default_factory=list)
    port: int = 0
    sandbox_port: int = 0
    app: Process | None = None
    sandbox: Process | None = None

    @property
    def url(self) -> str:
        """Return the service's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        """Return the sandbox's base URL."""
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def webhook_url(self) -> str:
        """Return the webhook URL with its token."""
        return f"{self.url}/api/chatwoot/webhook?token={WEBHOOK_TOKEN}"

    def env(self) -> dict[str, str]:
        """Return the environment both processes read their settings from."""
        return {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": self.database_url,
            "CHATWOOT_BASE_URL": self.sandbox_url,
            "CHATWOOT_INBOX_IDENTIFIER": INBOX_IDENTIFIER,
            "CHATWOOT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "CHATWOOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            # The bench and test fakes are not installed packages; the checkout is the path.
            "PYTHONPATH": str(ROOT),
            **self.extra_env,
        }

    async def start(self) -> Service:
        """Start the sandbox, then the service (which migrates), and wait until both answer."""
        self.port = self.port or free_port()
        self.sandbox_port = self.sandbox_port or free_port()
        python = sys.executable
        self.sandbox = await spawn(
            f"sandbox-{self.port}",
            [python, "-m", "tickets", "sandbox", "--port", str(self.sandbox_port)],
            self.env(),
            self.logs,
        )
        await wait_http(f"{self.sandbox_url}/sandbox/api/conversations", self.sandbox)
        await self._aim_sandbox_webhooks()
        command = ["-m", "tickets", "serve", "--port", str(self.port)]
        if self.module is not None:
            command = ["-m", self.module, "--port", str(self.port), *self.module_args]
        argv = [python, *command]
        if self.profile is not None:
            argv = [python, "-m", "pyinstrument", "-r", "pyisession", "-o", str(self.profile)]
            argv += command
        self.app = await spawn(f"service-{self.port}", argv, self.env(), self.logs)
        await wait_http(f"{self.url}/readyz", self.app)
        return self

    async def _aim_sandbox_webhooks(self) -> None:
        # `tickets sandbox` derives its own token; the bench gives both sides the same pair.
        async with httpx.AsyncClient(timeout=5.0) as client:
            answer = await client.post(
                f"{self.sandbox_url}/sandbox/api/webhook",
                json={"url": self.webhook_url, "secret": WEBHOOK_SECRET},
            )
            answer.raise_for_status()

    async def stop(self) -> None:
        """Stop the service first (it holds connections to the sandbox), then the sandbox."""
        for process in (self.app, self.sandbox):
            if process is not None:
                await process.stop()


@contextlib.asynccontextmanager
async def service(
    database_url: str,
    logs: Path,
    *,
    profile: Path | None = None,
    module: str | None = None,
    module_args: Sequence[str] = (),
    **extra_env: str,
) -> AsyncIterator[Service]:
    """Run the service (or `module`) and its sandbox for the duration of the block."""
    running = Service(
        database_url,
        logs,
        profile=profile,
        extra_env=dict(extra_env),
        module=module,
        module_args=list(module_args),
    )
    try:
        yield await running.start()
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def fresh_service(
    pg: Postgres,
    logs: Path,
    name: str,
    *,
    workers: int,
    profile: Path | None = None,
    **extra_env: str,
) -> AsyncIterator[Service]:
    """Run `tickets serve --workers N` on a database of its own, dropped afterwards.

    A database per run: it is bound to the helpdesk (sandbox) of the service it met.
    """
    database_url = await pg.fresh_database(f"{name}{workers}")
    try:
        async with service(
            database_url, logs, profile=profile, WORKERS=str(workers), **extra_env
        ) as running:
            yield running
    finally:
        await pg.drop(database_url)


@contextlib.asynccontextmanager
async def baseline(logs: Path, *, connector: str = "") -> AsyncIterator[tuple[str, Process]]:
    """Run the bare aiohttp baseline app; yield its base URL and process."""
    port = free_port()
    process = await spawn(
        f"baseline-{port}",
        [sys.executable, "-m", "bench.baseline", "--port", str(port), "--connector", connector],
        {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        logs,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_http(f"{url}/healthz", process)
        yield url, process
    finally:
        await process.stop()


@contextlib.asynccontextmanager
async def teams() -> AsyncIterator[FakeConnector]:
    """Run the fake Bot Connector (its own thread) that the seeded Teams chats point at."""
    connector = FakeConnector()
    await connector.start()
    try:
        yield connector
    finally:
        await connector.stop()
