"""Account-webhook deliveries: signed POSTs, in the background, ordered per conversation."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.shapes import rails_json
from sandbox.state import SandboxState

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
# How long a held delivery waits for a successor to swap with when the reorder fault is on.
REORDER_HOLD_SECONDS = 0.3
_MAX_LOG = 500


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return Chatwoot's signature header value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


Build = Callable[[], dict[str, Any]]


@dataclass
class _Delivery:
    event: str
    body: bytes
    delivery_id: str
    # Under late snapshots: rebuilds the body when the job runs, as Chatwoot's jobs re-read.
    build: Build | None = None

    def payload(self) -> bytes:
        """Return the body to send now."""
        return rails_json(self.build()) if self.build is not None else self.body


class WebhookDispatcher:
    """Queue webhook deliveries and send them one at a time per conversation."""

    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[str, deque[_Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, tuple[_Delivery, asyncio.TimerHandle]] = {}
        # Late-snapshot jobs: one task per delivery, unordered, keyed like the queues.
        self._loose: dict[str, set[asyncio.Task[None]]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        """Open the HTTP session."""
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        self._session = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        """Stop every worker and close the HTTP session."""
        for _, handle in self._held.values():
            handle.cancel()
        self._held.clear()
        workers = [*self._workers.values(), *(t for ts in self._loose.values() for t in ts)]
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._loose.clear()
        self._queues.clear()
        self._idle.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def enqueue(self, key: str, payload: dict[str, Any], build: Build | None = None) -> None:
        """Schedule one event for delivery (after applying the webhook fault switches).

        ``build`` rebuilds the payload at delivery time; it is used under late snapshots.
        """
        if not self._state.webhook_url:
            return
        faults = self._state.faults
        event = str(payload.get("event", ""))
        if faults.webhook_drop:
            if faults.webhook_drop is not True and isinstance(faults.webhook_drop, int):
                faults.webhook_drop -= 1
            self._record(event, "-", "dropped by fault")
            return
        body = rails_json(payload)
        late = self._state.late_snapshots
        copies = [
            _Delivery(event, body, str(uuid.uuid4()), build if late else None)
            for _ in range(max(1, faults.webhook_duplicate))
        ]
        for item in copies:
            if late:
                self._later(key, item)
            elif faults.webhook_reorder:
                self._reorder(key, item)
            else:
                self._push(key, item)

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted (wrap in a timeout)."""
        while self._held or not self._idle.is_set():
            await self._idle.wait()
            if self._held:
                await asyncio.sleep(0.05)

    async def flush(self, key: str) -> None:
        """Wait until every delivery queued so far under ``key`` has been attempted."""
        while True:
            tasks = [*self._loose.get(key, ())]
            worker = self._workers.get(key)
            if worker is not None:
                tasks.append(worker)
            if tasks:
                await asyncio.wait(tasks)
            elif key in self._held:
                await asyncio.sleep(0.02)
            else:
                return

    def _later(self, key: str, item: _Delivery) -> None:
        # Sidekiq runs each job on its own after a queueing delay: no order between them.
        delay = random.uniform(0, self._state.snapshot_jitter_ms / 1000)
        task = asyncio.get_running_loop().create_task(self._send_later(delay, item))
        self._loose.setdefault(key, set()).add(task)
        self._idle.clear()
        task.add_done_callback(lambda done: self._forget(key, done))

    async def _send_later(self, delay: float, item: _Delivery) -> None:
        await asyncio.sleep(delay)
        await self._send(item)

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        tasks = self._loose.get(key)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._loose[key]
        self._settle()

    def _settle(self) -> None:
        if not self._workers and not self._loose:
            self._idle.set()

    def _reorder(self, key: str, item: _Delivery) -> None:
        held = self._held.pop(key, None)
        if held is None:
            handle = asyncio.get_running_loop().call_later(
                REORDER_HOLD_SECONDS, self._flush_held, key
            )
            self._held[key] = (item, handle)
            return
        earlier, handle = held
        handle.cancel()
        self._push(key, item)
        self._push(key, earlier)

    def _flush_held(self, key: str) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            self._push(key, held[0])

    def _push(self, key: str, item: _Delivery) -> None:
        self._queues.setdefault(key, deque()).append(item)
        self._idle.clear()
        if key not in self._workers:
            self._workers[key] = asyncio.get_running_loop().create_task(self._work(key))

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                await self._send(queue.popleft())
        finally:
            self._queues.pop(key, None)
            self._workers.pop(key, None)
            self._settle()

    async def _send(self, item: _Delivery) -> None:
        url = self._state.webhook_url
        if not url or self._session is None:
            return
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Chatwoot-Delivery": item.delivery_id,
            "User-Agent": "Ruby",
        }
        body = item.payload()
        secret = self._state.webhook_secret
        if secret:
            timestamp = str(int(time.time()))
            headers["X-Chatwoot-Timestamp"] = timestamp
            headers["X-Chatwoot-Signature"] = sign(secret, timestamp, body)
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                await response.read()
                outcome = str(response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Chatwoot only logs a failed account-webhook delivery; it never retries.
            outcome = f"error: {type(exc).__name__}"
            # The URL's query carries the receiver's token: log where, never the query.
            where = urlsplit(url)._replace(query="", fragment="").geturl()
            log.info("webhook %s to %s failed: %s", item.event, where, type(exc).__name__)
        self._record(item.event, item.delivery_id, outcome)

    def _record(self, event: str, delivery_id: str, outcome: str) -> None:
        log_ = self._state.deliveries
        log_.append(
            {"event": event, "delivery_id": delivery_id, "outcome": outcome, "at": time.time()}
        )
        del log_[:-_MAX_LOG]
