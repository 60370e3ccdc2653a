"""Shared helpers for the sandbox tests: a webhook receiver, fixtures, payload/schema loading."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from sandbox import SandboxConfig, SandboxServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "chatwoot"
SECRET = "Wq7XbN3kTz9pLm2RvY5cHd8s"


def load_payload(kind: str, name: str) -> Any:
    """Load one of Chatwoot's example payloads."""
    return json.loads((FIXTURES / "payloads" / kind / name).read_text())


@dataclass
class Delivery:
    """One webhook POST as received: headers and the raw body bytes."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """Return the decoded body."""
        return json.loads(self.body)

    @property
    def event(self) -> str:
        """Return the body's ``event``."""
        return str(self.json["event"])


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that records every webhook POST."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.status = 200
        self.delay = 0.0
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._arrived = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.deliveries.append(Delivery(dict(request.headers), body))
        self._arrived.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status)

    async def start(self) -> None:
        """Start listening on an ephemeral port."""
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook?token=abc"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self) -> list[str]:
        """Return the received events in arrival order."""
        return [d.event for d in self.deliveries]

    def of(self, event: str) -> list[Delivery]:
        """Return the deliveries of one event."""
        return [d for d in self.deliveries if d.event == event]


@pytest.fixture
async def hooks() -> AsyncIterator[WebhookReceiver]:
    """Run a webhook receiver for one test."""
    rec = WebhookReceiver()
    await rec.start()
    yield rec
    await rec.stop()


@pytest.fixture
async def sb(hooks: WebhookReceiver) -> AsyncIterator[SandboxServer]:
    """Run a sandbox (fast pings) whose webhook points at the receiver, with a secret."""
    config = SandboxConfig(webhook_url=hooks.url, webhook_secret=SECRET, ping_interval=0.2)
    async with SandboxServer(config) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Give a test an HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


async def drain(server: SandboxServer) -> None:
    """Wait for the sandbox's queued webhooks to be delivered."""
    async with asyncio.timeout(10):
        await server.drain_webhooks()


class Api:
    """A thin helper over the Client and control APIs of one sandbox."""

    def __init__(self, server: SandboxServer, http: aiohttp.ClientSession) -> None:
        self.sb = server
        self.http = http
        self.base = f"{server.url}/public/api/v1/inboxes/{server.config.inbox_identifier}"

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Call the Client API; return status and decoded JSON (or text)."""
        async with self.http.request(method, self.base + path, **kwargs) as r:
            text = await r.text()
            try:
                return r.status, json.loads(text) if text else None
            except json.JSONDecodeError:
                return r.status, text

    async def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Call the control API."""
        async with self.http.request(method, f"{self.sb.url}/sandbox/api{path}", json=body) as r:
            return r.status, await r.json()

    async def contact(self, source_id: str = "teams-jane", name: str = "Jane Doe") -> Any:
        """Create a contact."""
        status, body = await self.call(
            "POST", "/contacts", json={"source_id": source_id, "name": name}
        )
        assert status == 200, body
        return body

    async def conversation(self, source_id: str = "teams-jane", **attrs: Any) -> Any:
        """Create a conversation with custom attributes."""
        status, body = await self.call(
            "POST",
            f"/contacts/{source_id}/conversations",
            json={"custom_attributes": attrs or {"title": "Laptop"}},
        )
        assert status == 200, body
        return body

    async def message(self, conv_id: int, content: str, echo_id: str | None = None) -> Any:
        """Post a contact message."""
        body: dict[str, Any] = {"content": content}
        if echo_id:
            body["echo_id"] = echo_id
        status, out = await self.call(
            "POST", f"/contacts/teams-jane/conversations/{conv_id}/messages", json=body
        )
        assert status == 200, out
        return out


def swagger_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Return a validator for a schema from the client swagger, with ``$ref``s resolved."""
    spec = json.loads((FIXTURES / "swagger" / "client_swagger.json").read_text())
    registry: Registry[Any] = Registry().with_resource(
        "urn:client-swagger", Resource.from_contents(spec, default_specification=_DRAFT)
    )
    wrapped = {**schema, "$id": "urn:wrapped"}
    text = json.dumps(wrapped).replace('"#/components', '"urn:client-swagger#/components')
    return Draft202012Validator(json.loads(text), registry=registry)


def swagger_response_schema(path: str, method: str) -> dict[str, Any]:
    """Return the 200 response schema the swagger documents for a route."""
    spec = json.loads((FIXTURES / "swagger" / "client_swagger.json").read_text())
    op = spec["paths"][path][method]
    schema: dict[str, Any] = op["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


_DRAFT = _draft()


def subscribe_frame(token: str) -> tuple[str, dict[str, str]]:
    """Return a contact's identifier string and its subscribe command."""
    identifier = json.dumps({"channel": "RoomChannel", "pubsub_token": token})
    return identifier, {"command": "subscribe", "identifier": identifier}


async def next_event(ws: aiohttp.ClientWebSocketResponse, wait: float = 3.0) -> Any:
    """Return the next non-ping, non-presence cable frame."""
    async with asyncio.timeout(wait):
        while True:
            frame = await ws.receive_json()
            if frame.get("type") == "ping":
                continue
            message = frame.get("message")
            if isinstance(message, dict) and message.get("event") == "presence.update":
                continue
            return frame


async def collect_events(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.5) -> list[Any]:
    """Collect event frames until none arrives for ``quiet`` seconds."""
    frames = []
    while True:
        try:
            frames.append(await next_event(ws, quiet))
        except TimeoutError:
            return frames


# Maps whose keys are data, not schema: their contents differ between scenarios by design.
FREE_FORM = {
    "custom_attributes",
    "additional_attributes",
    "content_attributes",
    "sentiment",
    "external_source_ids",
    "users",
    "previous_value",
    "current_value",
}


def assert_same_keys(actual: Any, expected: Any, where: str = "$") -> None:
    """Assert two JSON values have the same key sets wherever both hold objects."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        assert set(actual) == set(expected), (
            f"{where}: extra {set(actual) - set(expected)}, missing {set(expected) - set(actual)}"
        )
        for key in expected:
            if key not in FREE_FORM:
                assert_same_keys(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(actual, list) and isinstance(expected, list) and actual and expected:
        assert_same_keys(actual[0], expected[0], f"{where}[0]")


@pytest.fixture
def api(sb: SandboxServer, http: aiohttp.ClientSession) -> Api:
    """Give a test the Client/control API helper for the running sandbox."""
    return Api(sb, http)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "integer" if isinstance(value, int) else "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), "null")


def assert_same_shape(actual: Any, expected: Any, where: str = "$") -> None:
    """Assert the same key sets and the same JSON value types wherever both sides hold a value.

    A null on either side matches anything: a fixture's ``null`` (no assignee yet, a width not
    analysed yet) says the key is nullable, not that the sandbox must leave it empty.
    """
    if actual is None or expected is None:
        return
    assert _json_type(actual) == _json_type(expected), (
        f"{where}: {_json_type(actual)} != {_json_type(expected)}"
    )
    if isinstance(actual, dict):
        assert set(actual) == set(expected), (
            f"{where}: extra {set(actual) - set(expected)}, missing {set(expected) - set(actual)}"
        )
        for key in expected:
            if key not in FREE_FORM:
                assert_same_shape(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(actual, list) and actual and expected:
        assert_same_shape(actual[0], expected[0], f"{where}[0]")


def png_bytes(width: int = 2, height: int = 1) -> bytes:
    """Return a small valid PNG image (grey pixels)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )
