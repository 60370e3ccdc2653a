"""The soak's world on 127.0.0.1: PostgreSQL, the Chatwoot sandbox, Teams fakes, the service.

The service is a real OS process (``tests.soak.service``) so it can be SIGKILLed and started
again on the same port. The sandbox runs in a thread of the test process with its own event
loop, so the load generator never delays its webhooks or Client API answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg

from db.embedded import EmbeddedPostgres, free_port
from sandbox import SandboxConfig, SandboxServer
from sandbox.control import conversation_record
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT
from tests.fakes.connector import FakeConnector
from tests.fakes.teams_idp import TeamsIdentityProvider
from tests.soak import behaviours

ROOT = Path(__file__).resolve().parents[2]
# Generated values: settings refuse guessable ones.
SECRET_KEY = "dQeNFu9HZgco-oebj4xkETB6u1tXN7EwdT4llYg8aBk"
WEBHOOK_TOKEN = "m0rQfdC2WZVEME5T3XYkEtcuKl60hg-y0B4eL-JrDMo"
WEBHOOK_SECRET = "lfEyJTRFJz3Ti73-CaTKWX6yExBpL3lTz4uhNmKQlRk"
API_ACCESS_TOKEN = "umtcBJ8Y78OYOCXNat5a-GqSh-SCQIq-"
# Two workers (the default) start in ~20 s, but 60+ s when the machine is shared many ways.
START_TIMEOUT = 150.0
STOP_TIMEOUT = 15.0

T = TypeVar("T")


class ThreadedSandbox:
    """A SandboxServer served by its own thread and event loop."""

    def __init__(self, config: SandboxConfig) -> None:
        self.server = SandboxServer(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="soak-sandbox")

    @property
    def url(self) -> str:
        """Base URL of the sandbox."""
        return self.server.url

    async def call(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine on the sandbox's loop (where its state may be read safely)."""
        coroutine: Coroutine[Any, Any, T] = work()  # type: ignore[assignment]
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)

    async def start(self) -> None:
        """Start the thread and the server."""
        self._thread.start()
        await self.call(lambda: self.server.start("127.0.0.1", 0))

    async def stop(self) -> None:
        """Stop the server, then the loop and its thread."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.call(self.server.stop), 10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)
        if not self._thread.is_alive():
            self._loop.close()

    async def conversations(self) -> list[tuple[int, int, str, str]]:
        """Snapshot (id, inbox id, title, status) of every conversation, cheaply."""

        async def snapshot() -> list[tuple[int, int, str, str]]:
            return [
                (c.display_id, c.inbox.id, str(c.custom_attributes.get("title", "")), c.status)
                for c in list(self.server.state.conversations.values())
            ]

        return await self.call(snapshot)

    async def records(self) -> list[dict[str, Any]]:
        """Every conversation as the control API shows it, read in the sandbox's loop."""

        async def snapshot() -> list[dict[str, Any]]:
            state = self.server.state
            return [conversation_record(state, c) for c in list(state.conversations.values())]

        return await self.call(snapshot)


def descendants(pid: int) -> list[int]:
    """Return the ids of a process's children, their children and so on (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit():
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


@dataclass
class ServiceProcess:
    """The service as an OS process we started; killed and restarted by pid."""

    port: int
    argv: list[str]
    env: dict[str, str]
    logs: Path
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: list[float] = field(default_factory=list)
    downtime: float = 0.0

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """Where the process writes its output (every start appends)."""
        return self.logs / "service.log"

    def tail(self, lines: int = 40) -> str:
        """Return the end of the service's output, for failure messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def start(self) -> None:
        """Start the process and wait until it answers /healthz."""
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"---- start {self.starts} ----\n".encode())
            out.flush()
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                env=self.env,
                cwd=self.logs,  # no developer .env may leak in
            )
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"service exited at start:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/healthz") as answer:
                        if answer.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"service did not answer in {START_TIMEOUT}s:\n{self.tail()}")

    async def kill_and_restart(
        self, while_down: Callable[[], Awaitable[None]] | None = None
    ) -> float:
        """SIGKILL the process, start it again; return how long it was down.

        ``while_down`` runs once every process is dead, before the restart.
        """
        assert self.proc is not None
        began = time.monotonic()
        self.kills.append(began)
        # Its workers too (`WORKERS` > 1): all at once, as a machine losing power would.
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await self.proc.wait()
        if while_down is not None:
            await while_down()
        await self.start()
        down = time.monotonic() - began
        self.downtime += down
        return down

    async def stop(self) -> None:
        """Stop gracefully (SIGINT), SIGKILL if it does not stop in time."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()


@dataclass
class Stack:
    """Everything the soak runs against."""

    database_url: str
    sandbox: ThreadedSandbox
    idp: TeamsIdentityProvider
    connector: FakeConnector
    service: ServiceProcess

    @property
    def base(self) -> str:
        """The service's base URL."""
        return self.service.url

    async def sandbox_post(self, path: str, body: dict[str, Any]) -> int:
        """POST to the sandbox's control API; return the status (0 when it did not answer)."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            try:
                async with http.post(f"{self.sandbox.url}/sandbox/api{path}", json=body) as r:
                    await r.read()
                    return r.status
            except (aiohttp.ClientError, TimeoutError):
                return 0

    async def sandbox_send(
        self, method: str, path: str, *, json: Any = None, data: Any = None
    ) -> tuple[int, Any]:
        """Call the sandbox's control API (JSON or multipart); return status and answer."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            url = f"{self.sandbox.url}/sandbox/api{path}"
            try:
                async with http.request(method, url, json=json, data=data) as r:
                    body = await r.json(content_type=None) if r.status == 200 else None
                    return r.status, body
            except (aiohttp.ClientError, TimeoutError, ValueError):
                return 0, None

    async def leased_outbox_text(self) -> str:
        """Return, as text, the outbox rows a worker holds and the messages they carry.

        Read while every service process is dead: these rows are exactly the ones whose send may
        have reached Teams without its outcome being stored, so they alone may go twice.
        """
        connection = await asyncpg.connect(self.database_url)
        try:
            rows = await connection.fetch(
                "SELECT o.payload::text AS payload, row_to_json(m)::text AS message"
                " FROM outbox o LEFT JOIN messages m"
                " ON m.id = (o.payload->>'message_id')::bigint"
                " WHERE o.state = 'pending' AND o.claimed_by IS NOT NULL"
            )
        finally:
            await connection.close()
        return " ".join(f"{row['payload']} {row['message'] or ''}" for row in rows)

    async def terminate_backends(self) -> int:
        """Drop every other connection to the service's database; return how many."""
        connection = await asyncpg.connect(self.database_url)
        try:
            killed = await connection.fetchval(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t"
            )
        finally:
            await connection.close()
        return int(killed or 0)


async def create_database(server: EmbeddedPostgres, name: str) -> str:
    """Create an empty database (the service migrates it when it starts); return its URL."""
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return server.url(name)


async def drop_database(server: EmbeddedPostgres, url: str) -> None:
    """Drop the soak's database."""
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def running_stack(server: EmbeddedPostgres, logs: Path) -> AsyncIterator[Stack]:
    """Start the whole stack; stop every part (by pid / handle) even when the soak fails."""
    database_url = await create_database(server, f"soak_{os.getpid()}")
    port = free_port()
    hook = f"http://127.0.0.1:{port}/api/chatwoot/webhook?token={WEBHOOK_TOKEN}"
    sandbox = ThreadedSandbox(
        SandboxConfig(
            webhook_url=hook,
            webhook_secret=WEBHOOK_SECRET,
            ping_interval=1.0,
            api_access_token=API_ACCESS_TOKEN,
        )
    )
    idp, connector = TeamsIdentityProvider(), FakeConnector()
    service: ServiceProcess | None = None
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(drop_database, server, database_url)
        await sandbox.start()
        stack.push_async_callback(sandbox.stop)
        await idp.start()
        stack.push_async_callback(idp.stop)
        await connector.start()
        stack.push_async_callback(connector.stop)
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
        env |= {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "CHATWOOT_BASE_URL": sandbox.url,
            "CHATWOOT_INBOX_IDENTIFIER": sandbox.server.config.inbox_identifier,
            "CHATWOOT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
            "CHATWOOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The Application API, as a real deployment has it: labels, and the assignee that
            # catch-up reads back (the Client API never shows it).
            "CHATWOOT_API_ACCESS_TOKEN": API_ACCESS_TOKEN,
            "CHATWOOT_ACCOUNT_ID": str(sandbox.server.config.account_id),
            # A snapshot that arrives late (unordered jobs) can leave an assignee behind until
            # the next catch-up; the short run's settling is shorter than the default period.
            "CHATWOOT_CATCH_UP_SECONDS": "30",
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            "MICROSOFT_APP_TENANT_ID": TENANT,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
            # Every soak employee signs up from 127.0.0.1.
            "SIGNUPS_PER_ADDRESS_HOUR": "100000",
            # Each web employee comes through our proxy from their own address (sign-in
            # throttles count per address, and 127.0.0.1 for all would soon be refused).
            "TRUSTED_PROXY_HOPS": "1",
            # Service processes on the port (`tickets serve --workers`): 2, so retries land in
            # the other process too; SOAK_WORKERS=1 runs one.
            "WORKERS": os.environ.get("SOAK_WORKERS") or "2",
        }
        argv = [sys.executable, "-m", "tests.soak.service", "--port", str(port)]
        argv += ["--metadata-url", idp.metadata_url, "--token-url", connector.token_url]
        service = ServiceProcess(port, argv, env, logs)
        stack.push_async_callback(service.stop)
        await service.start()
        ready = Stack(database_url, sandbox, idp, connector, service)
        await behaviours.switch_sandbox(ready.sandbox_send, behaviours.from_env())
        yield ready
