"""Fixtures for the Chatwoot edge tests: recorded payloads and a running sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatwoot.client import ChatwootClient
from sandbox import SandboxConfig, SandboxServer

# The sandbox tests' fixtures, shared by every module here (a webhook receiver, a sandbox
# aimed at it, an HTTP session and the control API).
from tests.chatwoot.sandbox_support import api, hooks, http, sb  # noqa: F401

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "chatwoot" / "payloads"


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """Load a recorded payload by its path under ``payloads/``."""

    def load(name: str) -> Any:
        return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))

    return load


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """Run a fresh Chatwoot sandbox on an ephemeral port (pings every 0.2 s)."""
    async with SandboxServer(SandboxConfig(ping_interval=0.2)) as server:
        yield server


@pytest.fixture
async def control(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    """Drive the sandbox's agent control API."""
    async with httpx.AsyncClient(base_url=sandbox.url + "/sandbox/api") as session:
        yield session


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[ChatwootClient]:
    """Return a Client API client pointed at the sandbox's inbox."""
    async with ChatwootClient(sandbox.url, sandbox.config.inbox_identifier, timeout=2.0) as c:
        yield c
