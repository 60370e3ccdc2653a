"""`tickets serve --workers 2`: both processes serve the one port, a killed one comes back, and
only one of them holds the Chatwoot cable."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from db.embedded import free_port
from tests.waiting import eventually
from tickets.relay import LOCK_KEY

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
# The cable's session advisory lock, as pg_locks shows a bigint key.
CABLE_OWNERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid = $1 AND objid = $2 AND objsubid = 1"
)


class Served:
    """A `tickets serve --workers 2` process, its output file and its URL."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, port: int) -> None:
        self.process = process
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        found = re.findall(r"pids \[(\d+), (\d+)\]", self.output())
        return [int(pid) for pid in found[-1]] if found else []

    async def answering(self, connections: int = 40) -> set[int]:
        """Return the processes that answered `connections` fresh connections to /healthz."""
        seen: set[int] = set()
        # A new connection each time (force_close): the kernel picks a worker per connection.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(connections):
                async with http.get(f"{self.url}/healthz") as answer:
                    seen.add(int((await answer.json())["process"]))
        return seen


@pytest.fixture
async def served(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **CLEAN_ENV,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "PORT": str(port),
        "SANDBOX_PORT": str(free_port()),
        "LOG_LEVEL": "INFO",
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tickets",
            "serve",
            "--workers",
            "2",
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = Served(process, log, port)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def cable_owners(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval(CABLE_OWNERS, LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF))
    finally:
        await connection.close()


@pytest.mark.timeout(300)
async def test_two_workers_serve_one_port_and_a_killed_one_comes_back(
    served: Served, database_url: str
) -> None:
    async def started() -> bool:
        assert served.process.returncode is None, served.output()
        return len(served.worker_pids()) == 2

    await eventually(started, timeout=90)
    first = served.worker_pids()
    assert len(set(first)) == 2 and os.getpid() not in first

    async def each_answers() -> bool:
        # A worker's pid shows before its app listens (it migrates and starts up first).
        return await served.answering() == set(first)

    await eventually(each_answers, timeout=60)

    async def cable_held() -> bool:
        return await cable_owners(database_url) == 1

    await eventually(cable_held, timeout=30)
    assert served.output().count("holds the Chatwoot cable") == 1

    os.kill(first[0], signal.SIGKILL)
    seen: set[int] = set()

    async def both_serving_again() -> bool:
        seen.clear()
        seen.update(await served.answering())
        return len(seen) == 2 and first[0] not in seen

    await eventually(both_serving_again, timeout=60)
    assert first[1] in seen
    assert "worker 0 exited with -9" in served.output()
    # One owner still (the survivor, or the new worker if the killed one held it).
    await eventually(cable_held, timeout=30)
    assert await cable_owners(database_url) == 1
    assert served.process.returncode is None
