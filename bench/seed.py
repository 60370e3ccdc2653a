"""Fill a bench database fast with set-based SQL (never through the API)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass

import asyncpg

# Seeded rows use ids far above what the service's own sequences hand out during a bench.
ID_BASE = 10_000_000
CONVERSATION_BASE = 10_000_000
TENANT = "bench-tenant"


@dataclass(frozen=True)
class Seeded:
    """Ids of a seeded range: users own `per_user` consecutive tickets each."""

    first: int
    stop: int
    per_user: int

    def conversation(self, index: int) -> int:
        """Return the Chatwoot conversation id of the index-th seeded ticket."""
        return CONVERSATION_BASE + index

    def user(self, index: int) -> int:
        """Return the id of the user owning the index-th seeded ticket."""
        return ID_BASE + index // self.per_user

    def ticket(self, index: int) -> int:
        """Return the id of the index-th seeded ticket."""
        return ID_BASE + index


def plain(url: str) -> str:
    """Return the asyncpg form of a database URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed_tickets(
    database_url: str,
    *,
    first: int,
    stop: int,
    per_user: int = 20,
    messages_per_ticket: int = 2,
    service_url: str,
    tenants: int = 1,
) -> Seeded:
    """Insert tickets [first, stop), their owners, one Teams chat per owner and some messages.

    Each owner's Teams chat reference has the shape the bot stores (a serialized
    ConversationReference) and points at `service_url`, the fake Bot Connector.
    """
    seeded = Seeded(first, stop, per_user)
    user_first, user_stop = first // per_user, (stop + per_user - 1) // per_user
    connection = await asyncpg.connect(plain(database_url))
    try:
        async with connection.transaction():
            await _insert_users(connection, user_first, user_stop, tenants)
            await _insert_chat_refs(connection, user_first, user_stop, service_url, tenants)
            await _insert_tickets(connection, first, stop, per_user)
            if messages_per_ticket:
                await _insert_messages(connection, first, stop, messages_per_ticket)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return seeded


async def _insert_users(
    connection: asyncpg.Connection, user_first: int, user_stop: int, tenants: int
) -> None:
    """Insert the bench users [user_first, user_stop), spread over `tenants` tenants."""
    await connection.execute(
        """
        INSERT INTO users (id, email, display_name, entra_oid, entra_tid)
        SELECT $3 + g, 'bench' || g || '@example.com', 'Bench User ' || g,
               'oid-' || g, $4::text || '-' || (g % $5::bigint)
        FROM generate_series($1::bigint, $2::bigint - 1) AS g
        ON CONFLICT DO NOTHING
        """,
        user_first,
        user_stop,
        ID_BASE,
        TENANT,
        tenants,
    )


async def _insert_chat_refs(
    connection: asyncpg.Connection,
    user_first: int,
    user_stop: int,
    service_url: str,
    tenants: int,
) -> None:
    """Insert one personal Teams chat reference per bench user, pointing at `service_url`."""
    await connection.execute(
        """
        INSERT INTO teams_conversation_refs
            (user_id, tenant_id, conversation_id, service_url, reference)
        SELECT $3 + g, $4::text || '-' || (g % $6::bigint), 'a:bench-' || g, $5::text,
               jsonb_build_object(
                   'activityId', 'incoming-1',
                   'user', jsonb_build_object(
                       'id', '29:oid-' || g, 'aadObjectId', 'oid-' || g,
                       'name', 'Bench User ' || g),
                   'bot', jsonb_build_object('id', '28:bot', 'name', 'Chamados'),
                   'conversation', jsonb_build_object(
                       'id', 'a:bench-' || g,
                       'tenantId', $4::text || '-' || (g % $6::bigint),
                       'conversationType', 'personal'),
                   'channelId', 'msteams',
                   'locale', 'pt-BR',
                   'serviceUrl', $5::text)
        FROM generate_series($1::bigint, $2::bigint - 1) AS g
        ON CONFLICT DO NOTHING
        """,
        user_first,
        user_stop,
        ID_BASE,
        TENANT,
        service_url,
        tenants,
    )


async def _insert_tickets(
    connection: asyncpg.Connection, first: int, stop: int, per_user: int
) -> None:
    """Insert tickets [first, stop), `per_user` to an owner, every third one resolved."""
    await connection.execute(
        """
        INSERT INTO tickets (id, requester_id, title, description, complexity, sector,
                             chatwoot_conversation_id, status, origin, last_activity_at)
        SELECT $3 + g, $3 + g / $5, 'Bench ticket ' || g, 'Seeded for a benchmark',
               'baixa', 'TI', $4 + g,
               (CASE WHEN g % 3 = 0 THEN 'resolved' ELSE 'open' END)::ticket_status,
               'web'::origin, now() - make_interval(secs => ($2 - g))
        FROM generate_series($1::bigint, $2::bigint - 1) AS g
        """,
        first,
        stop,
        ID_BASE,
        CONVERSATION_BASE,
        per_user,
    )


async def _insert_messages(
    connection: asyncpg.Connection, first: int, stop: int, messages_per_ticket: int
) -> None:
    """Insert `messages_per_ticket` alternating requester/agent messages on each ticket."""
    await connection.execute(
        """
        INSERT INTO messages (ticket_id, direction, author, content, origin)
        SELECT $3 + g,
               (CASE WHEN m % 2 = 0 THEN 'requester' ELSE 'agent' END)::direction,
               'Bench', 'Seeded message ' || m, 'web'::origin
        FROM generate_series($1::bigint, $2::bigint - 1) AS g,
             generate_series(0, $4 - 1) AS m
        """,
        first,
        stop,
        ID_BASE,
        messages_per_ticket,
    )


async def count_rows(database_url: str, tables: tuple[str, ...]) -> dict[str, int]:
    """Count the rows of each table."""
    connection = await asyncpg.connect(plain(database_url))
    try:
        counts: dict[str, int] = {}
        for table in tables:
            query = f"SELECT count(*) FROM {table}"  # noqa: S608 (our own fixed table names)
            counts[table] = int(await connection.fetchval(query))
        return counts
    finally:
        await connection.close()


async def mint_sessions(database_url: str, user_ids: list[int]) -> dict[int, str]:
    """Create a signed-in browser session per user, as the login would; return cookie tokens.

    The cookie carries a random token and the table keys the session by its SHA-256 (see
    `web.sessions`), so a bench can sign thousands of users in without thousands of logins.
    """
    tokens = {user_id: f"bench-{user_id}-{secrets.token_urlsafe(16)}" for user_id in user_ids}
    rows = [
        (hashlib.sha256(token.encode()).hexdigest(), user_id, secrets.token_urlsafe(16))
        for user_id, token in tokens.items()
    ]
    connection = await asyncpg.connect(plain(database_url))
    try:
        await connection.executemany(
            """
            INSERT INTO web_sessions (id, user_id, csrf_token, expires_at)
            VALUES ($1, $2, $3, now() + interval '1 day')
            """,
            rows,
        )
    finally:
        await connection.close()
    return tokens


async def settle(database_url: str, tables: tuple[str, ...], *, limit: float = 30.0) -> float:
    """Wait until the service stops writing (requests a client gave up on still finish).

    Returns how long that took, so a report can show the backlog an overload left behind.
    """
    started = time.monotonic()
    previous = -1
    while time.monotonic() - started < limit:
        current = sum((await count_rows(database_url, tables)).values())
        if current == previous:
            break
        previous = current
        await asyncio.sleep(0.5)
    return round(time.monotonic() - started, 1)


async def drain_outbox(database_url: str, *, limit: float = 60.0) -> float:
    """Wait until the outbox worker has delivered every pending Teams message; return seconds."""
    started = time.monotonic()
    connection = await asyncpg.connect(plain(database_url))
    try:
        while time.monotonic() - started < limit:
            pending = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE state = 'pending'"
            )
            if not pending:
                break
            await asyncio.sleep(0.25)
    finally:
        await connection.close()
    return round(time.monotonic() - started, 1)
