"""Follow Chatwoot's cable for every linked contact, and catch up through the Client API.

Only one process holds the cable (a PostgreSQL advisory lock), so several instances do not
multiply it; the others stand by and take over when the holder goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatwoot.cable import CableListener
from chatwoot.errors import ChatwootError
from chatwoot.events import ChatwootEvent, EventSource, StatusChanged, message_event_from_api
from db.models import ChatwootContactLink, Message, Ticket, TicketStatus
from tickets.service import TicketService
from tickets.tasks import stop_gracefully

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
        service: TicketService,
        sessions: async_sessionmaker[AsyncSession],
        *,
        cable_url: str,
        lock_dsn: str,
        poll_interval: float = 2.0,
    ) -> None:
        self._service = service
        self._sessions = sessions
        self._cable_url = cable_url
        self._lock_dsn = lock_dsn
        self._poll = poll_interval
        self._task: asyncio.Task[None] | None = None
        self.listener: CableListener | None = None
        self.holding = asyncio.Event()
        self.catch_ups = 0
        self._tokens: set[str] = set()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Start trying to hold the cable in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="cable-relay")

    async def stop(self) -> None:
        """Let go of the cable and the lock."""
        task, self._task = self._task, None
        await stop_gracefully(task, self._stopping)

    async def _pause(self, seconds: float) -> bool:
        """Sleep unless asked to stop; return True when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return self._stopping.is_set()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._lock_dsn)
                if await self._acquire(connection):
                    log.info("this process now holds the Chatwoot cable")
                    await self._hold(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("cable relay: database connection lost (%s); retrying", exc)
            finally:
                self.holding.clear()
                if connection is not None:
                    try:
                        await connection.close(timeout=2)
                    except Exception:  # a broken connection is dropped hard
                        connection.terminate()
            if await self._pause(self._poll):
                return

    async def _acquire(self, connection: asyncpg.Connection) -> bool:
        """Wait until this process holds the advisory lock; False when asked to stop first."""
        while not self._stopping.is_set():
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                return True
            await self._pause(self._poll * 2.5)
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
                await asyncio.wait_for(lock_connection.fetchval("SELECT 1"), timeout=5)
                if await self._pause(self._poll):
                    return
        finally:
            await listener.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
            self.listener = None

    async def _sync_subscriptions(self, listener: CableListener) -> None:
        async with self._sessions() as session:
            result = await session.execute(
                select(ChatwootContactLink.pubsub_token).where(
                    ChatwootContactLink.pubsub_token.is_not(None)
                )
            )
            tokens = {token for token in result.scalars().all() if token}
        for token in tokens - self._tokens:
            await listener.subscribe(token)
            self._tokens.add(token)

    async def _on_event(self, event: ChatwootEvent) -> None:
        await self._service.ingest(event)

    async def _catch_up_quietly(self) -> None:
        await self.catch_up()

    async def catch_up(self) -> int:
        """Read what the Client API has that we may have missed; return events applied."""
        self.catch_ups += 1
        applied = 0
        since = datetime.now(UTC) - CATCH_UP_WINDOW
        async with self._sessions() as session:
            rows = await session.execute(
                select(Ticket, ChatwootContactLink.source_id)
                .join(ChatwootContactLink, Ticket.contact_link_id == ChatwootContactLink.id)
                .where(or_(Ticket.status != TicketStatus.RESOLVED, Ticket.updated_at > since))
            )
            tickets = rows.all()
        chatwoot = self._service.chatwoot
        for ticket, source_id in tickets:
            try:
                async with self._sessions() as session:
                    last = await session.scalar(
                        select(func.max(Message.chatwoot_message_id)).where(
                            Message.ticket_id == ticket.id
                        )
                    )
                observed = datetime.now(UTC)
                messages = await chatwoot.list_messages_since(
                    source_id, ticket.chatwoot_conversation_id, int(last or 0)
                )
                for message in messages:
                    event = message_event_from_api(message, source_id=source_id)
                    await self._service.ingest(event)
                    applied += 1
                conversation = await chatwoot.get_conversation(
                    source_id, ticket.chatwoot_conversation_id
                )
                if conversation.status is not None:
                    await self._service.ingest(
                        StatusChanged(
                            conversation_id=conversation.id,
                            inbox_id=conversation.inbox_id,
                            status=conversation.status,
                            occurred_at=observed,
                            source=EventSource.CATCHUP,
                        )
                    )
            except ChatwootError as exc:
                log.warning("catch-up of ticket %s failed: %s", ticket.id, exc)
        return applied
