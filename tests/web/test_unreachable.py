"""The database out of reach: 503 with Retry-After, never "internal error", and back by itself.

A failover, a restart or an administrator terminating backends drops the pooled connections;
while PostgreSQL refuses new ones, every request that needs it fails. That is no bug of the
request: the page and the API say "unavailable, try again" (503), and the next request after
PostgreSQL is back works without a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from db.embedded import EmbeddedPostgres
from tests.web.conftest import MakeWeb, signup


@asynccontextmanager
async def out_of_reach(postgres: EmbeddedPostgres, database_url: str) -> AsyncIterator[None]:
    """Refuse new connections to the test's database and drop the ones it has, for the block."""
    name = database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        yield
    finally:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await admin.close()


async def test_pages_and_api_answer_503_while_the_database_is_away_then_work_again(
    make_web: MakeWeb, postgres: EmbeddedPostgres, database_url: str
) -> None:
    client = await make_web()
    await signup(client, "ana@example.com")
    assert (await client.get("/")).status == 200

    async with out_of_reach(postgres, database_url):
        page = await client.get("/", allow_redirects=False)
        body = await page.text()
        assert page.status == 503, body
        assert page.headers["Retry-After"] == "5"
        assert "Traceback" not in body and "asyncpg" not in body
        api = await client.get("/api/conversations")
        assert api.status == 503
        assert api.headers["Retry-After"] == "5"
        answer = await api.json()
        assert answer["error"] == "unavailable" and len(answer["errorId"]) == 8

    # Back: the same session, without a restart.
    assert (await client.get("/")).status == 200
    listed = await client.get("/api/conversations")
    assert listed.status == 200
