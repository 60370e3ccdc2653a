"""Service-side ActionCable listener: one WebSocket, one RoomChannel subscription per contact."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from chatwoot.events import ChatwootEvent, EventSource
from chatwoot.parsing import parse_event

log = logging.getLogger(__name__)

_CONTROL_TYPES = frozenset(
    {"welcome", "ping", "confirm_subscription", "reject_subscription", "disconnect"}
)


def room_identifier(pubsub_token: str) -> str:
    """Return the subscription identifier string for a contact token, as the widget sends it."""
    # The server echoes these exact bytes on confirmations and broadcasts, so build them once.
    return json.dumps(
        {"channel": "RoomChannel", "pubsub_token": pubsub_token}, separators=(",", ":")
    )


def identifier_token(identifier: Any) -> str | None:
    """Return the ``pubsub_token`` inside an identifier string, if it is one of ours."""
    if not isinstance(identifier, str):
        return None
    try:
        decoded = json.loads(identifier)
    except json.JSONDecodeError:
        return None
    if not isinstance(decoded, dict):
        return None
    token = decoded.get("pubsub_token")
    return token if isinstance(token, str) else None


def parse_cable_frame(frame: Mapping[str, Any]) -> list[ChatwootEvent]:
    """Turn one server frame into typed events; control frames yield none."""
    if frame.get("type") in _CONTROL_TYPES:
        return []
    message = frame.get("message")
    if not isinstance(message, Mapping):
        return []
    kind = message.get("event")
    data = message.get("data")
    if not isinstance(kind, str) or not isinstance(data, Mapping):
        return []
    return parse_event(kind, data, source=EventSource.CABLE)


class _Reconnect(Exception):
    """Raised inside the read loop to drop the socket and reconnect."""


class CableListener:
    """Follow many contacts' RoomChannel streams over one reconnecting WebSocket."""

    def __init__(
        self,
        cable_url: str,
        *,
        on_event: Callable[[ChatwootEvent], Awaitable[None]],
        on_connected: Callable[[], Awaitable[None]] | None = None,
        confirm_timeout: float = 5.0,
        ping_timeout: float = 6.0,
        backoff_min: float = 0.5,
        backoff_max: float = 30.0,
        open_timeout: float = 10.0,
    ) -> None:
        self.cable_url = cable_url
        self._on_event = on_event
        self._on_connected = on_connected
        self._confirm_timeout = confirm_timeout
        self._ping_timeout = ping_timeout
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._open_timeout = open_timeout
        self._wanted: set[str] = set()
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._ws: ClientConnection | None = None
        self._closing = False
        self._stopped = asyncio.Event()
        self._catchup: asyncio.Task[None] | None = None
        self.subscribed: set[str] = set()
        """Tokens the server confirmed on the current connection."""
        self.failed: set[str] = set()
        """Tokens that got no confirmation in time; retried on the next reconnect."""
        self.connected = asyncio.Event()
        """Set while a socket is open and welcomed."""
        self.connections = 0
        """How many times a connection was welcomed (for tests and metrics)."""

    # ---- public API ---------------------------------------------------------------------

    async def subscribe(self, pubsub_token: str) -> None:
        """Follow a contact's stream (now if connected, else on the next connect)."""
        self._wanted.add(pubsub_token)
        if self._ws is None or not self.connected.is_set():
            return
        if pubsub_token in self.subscribed or pubsub_token in self._pending:
            return
        # A socket dying under us is fine: the token is wanted, the next connect subscribes it.
        with contextlib.suppress(WebSocketException, OSError):
            if pubsub_token in self.failed:
                # The server keeps the identifier registered even when `subscribed` failed
                # and ignores an identical subscribe; unsubscribe first so the retry is heard.
                await self._send(self._ws, "unsubscribe", pubsub_token)
            await self._send_subscribe(self._ws, pubsub_token)

    async def unsubscribe(self, pubsub_token: str) -> None:
        """Stop following a contact's stream."""
        self._wanted.discard(pubsub_token)
        self.failed.discard(pubsub_token)
        pending = self._pending.pop(pubsub_token, None)
        if pending is not None:
            pending.cancel()
        was_subscribed = pubsub_token in self.subscribed
        self.subscribed.discard(pubsub_token)
        if self._ws is not None and (was_subscribed or pending is not None):
            with contextlib.suppress(WebSocketException, OSError):
                await self._send(self._ws, "unsubscribe", pubsub_token)

    async def run(self) -> None:
        """Connect, subscribe, dispatch events and reconnect with backoff until closed."""
        self._stopped.clear()
        self._closing = False
        loop = asyncio.create_task(self._loop())
        stop = asyncio.create_task(self._stopped.wait())
        try:
            await asyncio.wait({loop, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # close() may land while we connect or back off; cancelling the inner loop
            # makes it take effect at once instead of after the current wait.
            for task in (loop, stop):
                task.cancel()
            await asyncio.gather(loop, stop, return_exceptions=True)
            self._drop_connection()

    async def close(self) -> None:
        """Stop the loop (``run()`` then returns) and close the socket."""
        self._closing = True
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await ws.close()

    async def _loop(self) -> None:
        failures = 0
        while not self._closing:
            welcomed_before = self.connections
            try:
                async with connect(
                    self.cable_url,
                    open_timeout=self._open_timeout,
                    close_timeout=2.0,
                    max_size=2**22,
                ) as ws:
                    self._ws = ws
                    await self._serve(ws)
            except (_Reconnect, WebSocketException, OSError, TimeoutError) as exc:
                if not self._closing:
                    log.warning("cable connection to %s lost: %r", self.cable_url, exc)
            finally:
                self._drop_connection()
            # A connection that got as far as the welcome resets the backoff.
            failures = 1 if self.connections > welcomed_before else failures + 1
            delay = min(self._backoff_max, self._backoff_min * 2 ** (failures - 1))
            await asyncio.sleep(random.uniform(delay / 2, delay))

    # ---- connection ---------------------------------------------------------------------

    def _drop_connection(self) -> None:
        self._ws = None
        self.connected.clear()
        self.subscribed.clear()
        for task in self._pending.values():
            task.cancel()
        self._pending.clear()
        if self._catchup is not None:
            # The next connection will catch up again; finishing this one is pointless.
            self._catchup.cancel()
            self._catchup = None

    async def _serve(self, ws: ClientConnection) -> None:
        """Read frames until the connection must be dropped (always ends by raising)."""
        loop = asyncio.get_running_loop()
        last_ping = loop.time()
        welcomed = False
        while True:
            # A slow on_event can overrun the deadline while pings sit in the buffer; give
            # those a moment to be read before calling the connection dead.
            remaining = max(0.01, self._ping_timeout - (loop.time() - last_ping))
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=remaining)
            except TimeoutError:
                raise _Reconnect(f"no ping for {self._ping_timeout}s") from None
            try:
                frame = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                log.warning("ignoring non-JSON cable frame")
                continue
            if not isinstance(frame, dict):
                continue
            kind = frame.get("type")
            if kind in ("ping", "welcome"):
                last_ping = loop.time()
            if kind == "welcome" and not welcomed:
                welcomed = True
                await self._on_welcome(ws)
            elif kind == "confirm_subscription":
                self._confirmed(frame.get("identifier"))
            elif kind == "reject_subscription":
                self._failed(identifier_token(frame.get("identifier")), "rejected")
            elif kind == "disconnect":
                raise _Reconnect(f"server disconnect: {frame.get('reason')}")
            elif kind is None:
                await self._dispatch(frame)

    async def _on_welcome(self, ws: ClientConnection) -> None:
        self.connections += 1
        self.connected.set()
        for token in sorted(self._wanted):
            await self._send_subscribe(ws, token)
        if self._on_connected is not None:
            self._catchup = asyncio.create_task(self._after_confirmations())

    async def _after_confirmations(self) -> None:
        # Catch up only once the streams are live (or given up on), so nothing falls in a gap.
        pending = list(self._pending.values())
        if pending:
            await asyncio.wait(pending)
        assert self._on_connected is not None
        try:
            await self._on_connected()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cable on_connected callback failed")

    async def _send(self, ws: ClientConnection, command: str, token: str) -> None:
        await ws.send(json.dumps({"command": command, "identifier": room_identifier(token)}))

    async def _send_subscribe(self, ws: ClientConnection, token: str) -> None:
        self.failed.discard(token)
        self._pending[token] = asyncio.create_task(self._confirm_watch(token))
        await self._send(ws, "subscribe", token)

    async def _confirm_watch(self, token: str) -> None:
        await asyncio.sleep(self._confirm_timeout)
        self._failed(token, f"no confirmation within {self._confirm_timeout}s")

    def _confirmed(self, identifier: Any) -> None:
        token = identifier_token(identifier)
        if token is None or token not in self._wanted:
            return
        watch = self._pending.pop(token, None)
        if watch is not None:
            watch.cancel()
        self.failed.discard(token)
        self.subscribed.add(token)

    def _failed(self, token: str | None, why: str) -> None:
        if token is None:
            return
        # Pop without cancelling: this may run inside the watch task itself.
        self._pending.pop(token, None)
        self.subscribed.discard(token)
        if token in self._wanted:
            self.failed.add(token)
            log.warning("cable subscription %s…%s failed: %s", token[:4], token[-2:], why)

    async def _dispatch(self, frame: Mapping[str, Any]) -> None:
        for event in parse_cable_frame(frame):
            try:
                await self._on_event(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                # One bad event must not take the stream down; the webhook or catch-up
                # will deliver it again.
                log.exception("cable on_event failed for %s", event.dedupe_key)
