"""The sandbox remembers: records survive a restart (and a SIGKILL); ids never repeat."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from db.embedded import free_port
from sandbox import SandboxConfig, SandboxServer
from sandbox.store import JOURNAL, StoreInUse
from tests.conftest import make_settings
from tickets.cli import chatwoot

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "teams-jane"


class Client:
    """The Client and control APIs of one running sandbox."""

    def __init__(self, http: aiohttp.ClientSession, url: str, inbox: str) -> None:
        self.http, self.url = http, url
        self.base = f"{url}/public/api/v1/inboxes/{inbox}"

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, self.base + path, json=body) as r:
            assert r.status == 200, await r.text()
            text = await r.text()
            return json.loads(text) if text else None

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with self.http.request(method, f"{self.url}/sandbox/api{path}", json=body) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    async def ticket(self, text: str) -> tuple[Any, int]:
        contact = await self.call("POST", "/contacts", {"source_id": SOURCE, "name": "Jane"})
        conv = await self.call(
            "POST", f"/contacts/{SOURCE}/conversations", {"custom_attributes": {"t": text}}
        )
        await self.call(
            "POST", f"/contacts/{SOURCE}/conversations/{conv['id']}/messages", {"content": text}
        )
        return contact, int(conv["id"])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _config(folder: Path) -> SandboxConfig:
    return SandboxConfig(state_dir=str(folder), agents=("Sam Agent",))


async def test_everything_survives_a_restart_and_ids_keep_growing(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with SandboxServer(_config(tmp_path)) as first:
        api = Client(http, first.url, first.config.inbox_identifier)
        contact, cid = await api.ticket("Laptop")
        await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam Agent"})
        await api.control(
            "POST", f"/conversations/{cid}/messages", {"content": "On it", "agent": "Sam Agent"}
        )
        await api.control("POST", f"/conversations/{cid}/labels", {"labels": ["vip"]})
        await api.control("POST", f"/conversations/{cid}/priority", {"priority": "high"})
        await api.control("POST", f"/conversations/{cid}/team", {"team": "it"})
        await api.control("POST", "/agents", {"name": "Sam Agent", "available_name": "Sam"})
        await api.control("PATCH", "/inbox", {"greeting_enabled": True, "timezone": "Asia/Tokyo"})
        await api.call("POST", f"/contacts/{SOURCE}/conversations/{cid}/update_last_seen")
        before = await api.control("GET", "/conversations")
        settings = await api.control("GET", "/inbox")
        public = await api.call("GET", f"/contacts/{SOURCE}/conversations/{cid}")
    async with SandboxServer(_config(tmp_path)) as second:
        api = Client(http, second.url, second.config.inbox_identifier)
        assert await api.control("GET", "/conversations") == before
        assert await api.control("GET", "/inbox") == settings
        assert await api.call("GET", f"/contacts/{SOURCE}/conversations/{cid}") == public
        again = await api.call("POST", "/contacts", {"source_id": SOURCE})
        assert again["pubsub_token"] == contact["pubsub_token"]  # the same session
        agents = await api.control("GET", "/agents")
        assert [(a["name"], a["available_name"]) for a in agents] == [("Sam Agent", "Sam")]
        _, newer = await api.ticket("Printer")
    assert newer > cid
    record = next(c for c in before if c["id"] == cid)
    assert record["labels"] == ["vip"] and record["team"]["name"] == "it"
    assert [m["content"] for m in record["messages"] if m["message_type"] != "activity"] == [
        "Laptop",
        "On it",
    ]
    assert record["messages"][-1]["status"] in ("read", "sent")


async def test_reset_empties_the_store_but_ids_never_repeat(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with SandboxServer(_config(tmp_path)) as first:
        api = Client(http, first.url, first.config.inbox_identifier)
        _, cid = await api.ticket("one")
        messages = (await api.control("GET", f"/conversations/{cid}"))["messages"]
        await api.control("PATCH", "/inbox", {"csat_survey_enabled": True})
        await api.control("POST", "/reset")
    async with SandboxServer(_config(tmp_path)) as second:
        api = Client(http, second.url, second.config.inbox_identifier)
        assert await api.control("GET", "/conversations") == []
        assert (await api.control("GET", "/inbox"))["csat_survey_enabled"] is False
        _, newer = await api.ticket("two")
        fresh = (await api.control("GET", f"/conversations/{newer}"))["messages"]
    assert newer > cid
    assert fresh[0]["id"] > messages[-1]["id"]


async def test_a_torn_last_line_is_ignored_and_a_second_sandbox_is_refused(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with SandboxServer(_config(tmp_path)) as first:
        api = Client(http, first.url, first.config.inbox_identifier)
        _, cid = await api.ticket("kept")
        with pytest.raises(StoreInUse):
            SandboxServer(_config(tmp_path))
    with (tmp_path / JOURNAL).open("a") as journal:
        journal.write('{"k":"conversation","v":{"display_id":')  # a crash mid-append
    async with SandboxServer(_config(tmp_path)) as second:
        api = Client(http, second.url, second.config.inbox_identifier)
        assert [c["id"] for c in await api.control("GET", "/conversations")] == [cid]


SERVE = """
import asyncio, sys
from sandbox import SandboxConfig, run_sandbox
asyncio.run(run_sandbox("127.0.0.1", int(sys.argv[2]), SandboxConfig(state_dir=sys.argv[1])))
"""


async def _start(folder: Path, port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVE,
        str(folder),
        str(port),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    async with asyncio.timeout(30):
        line = await process.stdout.readline()
    assert b"Chatwoot sandbox" in line
    return process


async def test_acknowledged_writes_survive_a_sigkill(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await _start(tmp_path, port)
    try:
        api = Client(http, url, SandboxConfig().inbox_identifier)
        _, cid = await api.ticket("first")
        acknowledged = []
        for n in range(20):
            reply = await api.control(
                "POST", f"/conversations/{cid}/messages", {"content": f"r{n}"}
            )
            acknowledged.append(reply["id"])
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    process = await _start(tmp_path, port)
    try:
        record = await api.control("GET", f"/conversations/{cid}")
        stored = [m["id"] for m in record["messages"]]
        assert set(acknowledged) <= set(stored)
        _, newer = await api.ticket("second")
        assert newer > cid
    finally:
        process.terminate()
        await process.wait()


async def test_tickets_serve_keeps_its_sandbox_under_data_dir(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    settings = make_settings(DATA_DIR=str(tmp_path), SANDBOX_PORT=free_port())
    async with chatwoot(settings, "http://127.0.0.1:9") as resolved:
        api = Client(http, resolved.CHATWOOT_BASE_URL, resolved.CHATWOOT_INBOX_IDENTIFIER)
        _, cid = await api.ticket("kept across restarts")
        inbox = await api.control("GET", "/inbox")
    assert inbox["enable_auto_assignment"] is True  # as Chatwoot's default
    assert (tmp_path / "sandbox" / JOURNAL).exists()
    async with chatwoot(settings, "http://127.0.0.1:9") as resolved:
        api = Client(http, resolved.CHATWOOT_BASE_URL, resolved.CHATWOOT_INBOX_IDENTIFIER)
        record = await api.control("GET", f"/conversations/{cid}")
        assert record["custom_attributes"] == {"t": "kept across restarts"}
        assert record["assignee"]["name"] == "Sandbox Agent"  # auto-assigned at create
        _, newer = await api.ticket("new")
    assert newer > cid
    lines = (tmp_path / "sandbox" / JOURNAL).read_text().splitlines()
    assert all(json.loads(line)["k"] for line in lines)


async def test_attachments_and_their_bytes_survive_a_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    config = SandboxConfig(state_dir=str(tmp_path), frontend_url=f"http://127.0.0.1:{port}")
    first = SandboxServer(config)
    await first.start(port=port)
    try:
        api = Client(http, first.url, config.inbox_identifier)
        _, cid = await api.ticket("with a file")
        form = aiohttp.FormData()
        form.add_field("content", "see attached")
        form.add_field("attachments[]", b"\x00\x01binary", filename="log.bin")
        path = f"{api.base}/contacts/{SOURCE}/conversations/{cid}/messages"
        async with http.post(path, data=form) as r:
            assert r.status == 200
            sent = await r.json()
    finally:
        await first.stop()
    (blob_file,) = (tmp_path / "blobs").iterdir()
    assert blob_file.read_bytes() == b"\x00\x01binary"
    second = SandboxServer(config)
    await second.start(port=port)
    try:
        (attachment,) = sent["attachments"]
        async with http.get(attachment["data_url"]) as r:
            assert r.status == 200
            assert await r.read() == b"\x00\x01binary"
        listed = await Client(http, second.url, config.inbox_identifier).call(
            "GET", f"/contacts/{SOURCE}/conversations/{cid}/messages"
        )
        assert listed[-1]["attachments"] == sent["attachments"]
    finally:
        await second.stop()
