"""Run the real `tickets serve` as a newcomer's `make run` does: defaults, a fresh folder."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from db.embedded import free_port

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
BANNER_END = "Ctrl+C"


@dataclass
class Served:
    """One running `tickets serve`: its banner and where it listens."""

    process: asyncio.subprocess.Process
    banner: list[str]
    port: int
    sandbox_port: int
    stderr: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """Return the web page's address."""
        return f"http://127.0.0.1:{self.port}"

    def value(self, label: str) -> str:
        """Return what the banner prints after `label`."""
        for line in self.banner:
            if label in line:
                return line.split(label, 1)[1].strip()
        raise AssertionError(f"{label!r} not in the banner:\n" + "\n".join(self.banner))


async def _collect(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode(errors="replace").rstrip("\n"))


@asynccontextmanager
async def serving(folder: Path, **env: str) -> AsyncIterator[Served]:
    """Start `tickets serve` in `folder` (its .tickets/ is the data) and stop it with Ctrl+C."""
    port, sandbox_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tickets",
        "serve",
        cwd=folder,
        env={
            **CLEAN_ENV,
            "PYTHONPATH": str(ROOT),
            "PORT": str(port),
            "SANDBOX_PORT": str(sandbox_port),
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    served = Served(process, [], port, sandbox_port)
    errors = asyncio.create_task(_collect(process.stderr, served.stderr))
    try:
        async with asyncio.timeout(90):
            while not served.banner or BANNER_END not in served.banner[-1]:
                line = await process.stdout.readline()
                if not line:
                    await errors
                    raise AssertionError("tickets serve ended:\n" + "\n".join(served.stderr))
                served.banner.append(line.decode().rstrip("\n"))
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(60):
                await process.wait()
        await errors


def problems(served: Served) -> list[str]:
    """Return the log lines at WARNING or worse, and any traceback."""
    return [
        line for line in served.stderr if re.search(r" (WARNING|ERROR|CRITICAL) |Traceback", line)
    ]
