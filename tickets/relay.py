"""Follow Chatwoot's cable for every linked contact, and catch up through the Client API.

Only one process holds the cable (a PostgreSQL advisory lock), so several instances do not
multiply it; the others stand by and take over when the holder goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.cable import CableListener
from chatwoot.client import CATCHUP_LIMIT, ChatwootClient
from chatwoot.errors import ChatwootError
from chatwoot.events import ChatwootEvent
from chatwoot.models import Conversation
from chatwoot.parsing import message_event_from_api, state_from_api
from db import repo
from db.engine import probe, try_advisory_lock
from tickets.ingest import Ingestor
from tickets.tasks import ConnectionLoop, stop_gracefully

log = logging.getLogger(__name__)

LOCK_KEY = 0x7F1C_4E75  # arbitrary, stable: "the cable of this database"
CATCH_UP_WINDOW = timedelta(days=14)


def cable_url(base_url: str) -> str:
    """Turn Chatwoot's base URL into its `/cable` WebSocket URL."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/cable", "", ""))


class CableRelay:
    """Hold the cable while this process owns the advisory lock; feed ingest from it."""

    def __init__(
        self,
        ingestor: Ingestor,
        chatwoot: ChatwootClient,
        sessions: async_sessionmaker[AsyncSession],
        *,
        cable_url: str,
        lock_dsn: str,
        poll_interval: float = 2.0,
        periodic_catch_up: float = 300.0,
    ) -> None:
        self._ingestor = ingestor
        self._chatwoot = chatwoot
        self._sessions = sessions
        self._cable_url = cable_url
        self._poll = poll_interval
        self._loop = ConnectionLoop(
            lock_dsn, self._hold_lock, name="cable-relay", delay=poll_interval, backoff=False
        )
        self.listener: CableListener | None = None
        self.holding = asyncio.Event()
        self.catch_ups = 0
        # Why catch-ups were asked for (tests and logs read it).
        self.catch_up_requests: Counter[str] = Counter()
        self._tokens: set[str] = set()
        self._catch_up_wanted = asyncio.Event()
        self._periodic = periodic_catch_up
        self._catch_up_task: asyncio.Task[None] | None = None
        self._watchers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start trying to hold the cable in the background."""
        self._loop.start()
        self._catch_up_task = asyncio.create_task(self._catch_up_loop(), name="catch-up")

    async def stop(self) -> None:
        """Let go of the cable and the lock."""
        await self._loop.stop()
        catch_up, self._catch_up_task = self._catch_up_task, None
        await stop_gracefully(catch_up, self._loop.stopping)
        for watcher in list(self._watchers):
            watcher.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def _hold_lock(self, connection: asyncpg.Connection) -> None:
        try:
            if await self._acquire(connection):
                log.info("this process now holds the Chatwoot cable")
                await self._hold(connection)
        finally:
            self.holding.clear()

    async def _acquire(self, connection: asyncpg.Connection) -> bool:
        """Wait until this process holds the advisory lock; False when asked to stop first."""
        while not self._loop.stopped:
            if await try_advisory_lock(connection, LOCK_KEY):
                return True
            await self._loop.pause(self._poll * 2.5)
        return False

    async def _hold(self, lock_connection: asyncpg.Connection) -> None:
        listener = CableListener(
            self._cable_url, on_event=self._on_event, on_connected=self._catch_up_quietly
        )
        self.listener = listener
        self._tokens = set()
        runner = asyncio.create_task(listener.run(), name="cable-listener")
        self.holding.set()
        try:
            while not runner.done():
                await self._sync_subscriptions(listener)
                # Losing the lock connection means another process may take the cable.
                await probe(lock_connection, within=5)
                if await self._loop.pause(self._poll):
                    return
        finally:
            await listener.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            self.listener = None

    async def _sync_subscriptions(self, listener: CableListener) -> None:
        async with self._sessions() as session:
            tokens = await repo.pubsub_tokens(session)
        # Tokens whose subscription got no confirmation are asked for again on every pass.
        new = (tokens - self._tokens) | (tokens & listener.failed)
        for token in new:
            await listener.subscribe(token)
            self._tokens.add(token)
        if new:
            # What happened before the new streams went live is only in the Client API.
            watcher = asyncio.create_task(self._catch_up_when_live(listener, new))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)

    async def _catch_up_when_live(self, listener: CableListener, tokens: set[str]) -> None:
        for _ in range(100):
            if tokens <= (listener.subscribed | listener.failed) or self._loop.stopped:
                break
            await asyncio.sleep(0.1)
        self.request_catch_up("subscribed")

    async def _on_event(self, event: ChatwootEvent) -> None:
        try:
            await self._ingestor.ingest(event)
        except Exception:
            # The cable does not redeliver: read the ticket back through the Client API soon.
            self.request_catch_up("failed ingest")
            raise

    async def _catch_up_quietly(self) -> None:
        # Run it in the relay's own loop: the listener cancels its callback on the next cut,
        # and the loop retries a catch-up that failed.
        self.request_catch_up("connected")

    def request_catch_up(self, reason: str = "asked") -> None:
        """Ask for a catch-up soon (an event could not be stored, or a read failed)."""
        self.catch_up_requests[reason] += 1
        self._catch_up_wanted.set()

    async def _catch_up_loop(self) -> None:
        """Run requested catch-ups in this process, and a periodic one while holding the cable."""
        delay = 1.0
        while not self._loop.stopped:
            await self._loop.pause_until(self._catch_up_wanted, self._periodic)
            if self._loop.stopped:
                return
            requested = self._catch_up_wanted.is_set()
            self._catch_up_wanted.clear()
            if not requested and not self.holding.is_set():
                continue
            try:
                complete = await self.catch_up()
            except Exception:
                log.exception("catch-up failed; retrying in %.0f s", delay)
                complete = False
            if complete:
                delay = 1.0
                continue
            self.request_catch_up("retry")
            if await self._loop.pause(delay):
                return
            delay = min(delay * 2, 60.0)

    async def catch_up(self) -> bool:
        """Read back from Chatwoot what we may have missed; True when every ticket was read.

        Each ticket is read from its watermark (the id up to which a read proved we hold every
        message), every message goes through the idempotent ingest, and only then does the
        watermark move.
        """
        self.catch_ups += 1
        # Events parked for a ticket whose creator died before replaying them.
        await self._ingestor.replay_all_parked()
        since = datetime.now(UTC) - CATCH_UP_WINDOW
        async with self._sessions() as session:
            tickets = await repo.catch_up_targets(session, changed_since=since)
        complete = True
        for ticket_id, conversation_id, synced, source_id in tickets:
            try:
                await self._catch_up_ticket(ticket_id, conversation_id, synced or 0, source_id)
            except ChatwootError as exc:
                log.warning("catch-up of ticket %s failed: %s", ticket_id, exc)
                complete = False
        return complete

    async def _catch_up_ticket(
        self, ticket_id: int, conversation_id: int, synced: int, source_id: str
    ) -> None:
        chatwoot = self._chatwoot
        observed = datetime.now(UTC)
        messages = await chatwoot.list_messages_since(source_id, conversation_id, synced)
        for message in messages:
            await self._ingestor.ingest(message_event_from_api(message, source_id=source_id))
        if len(messages) >= CATCHUP_LIMIT:
            # A forward read holds everything up to its last id; the rest comes next time.
            log.warning("catch-up of ticket %s read its page cap; more next time", ticket_id)
        if messages:
            async with self._sessions.begin() as session:
                await repo.set_watermark(session, ticket_id, max(m.id for m in messages))
        conversation = await chatwoot.get_conversation(source_id, conversation_id)
        await self._catch_up_state(conversation, source_id, observed)

    async def _catch_up_state(
        self, conversation: Conversation, source_id: str, observed: datetime
    ) -> None:
        """Apply what the conversation holds now: deletes, status and (if readable) assignee."""
        for message in conversation.messages:
            if message.deleted:
                # A delete below the watermark is seen only here. It is final, so applying it
                # as an update is safe whenever it comes (an older copy never undoes it).
                await self._ingestor.ingest(
                    message_event_from_api(message, source_id=source_id, kind="updated")
                )
        # Only the Application API knows the assignee: an assignment whose webhook and cable
        # copies were both lost is read back here.
        assignee = None
        if self._chatwoot.application_api_enabled:
            assignee = await self._chatwoot.get_assignee(conversation.id)
        for state in state_from_api(conversation, assignee, observed):
            await self._ingestor.ingest(state)
