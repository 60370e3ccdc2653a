"""Async engine and session factory, and the probes and locks of dedicated asyncpg connections."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def async_url(url: str) -> str:
    """Turn a plain postgresql:// URL into the asyncpg dialect URL SQLAlchemy wants."""
    parts = urlsplit(url)
    scheme = "postgresql+asyncpg"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Create the engine; connections are checked before use so a dropped one is replaced."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the session factory; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def plain_dsn(url: str) -> str:
    """Return the libpq-style URL asyncpg accepts (no SQLAlchemy dialect suffix)."""
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1``: raises when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def probe(connection: asyncpg.Connection, *, within: float) -> None:
    """Run ``SELECT 1`` on a dedicated connection: a dropped backend is not always reported."""
    await asyncio.wait_for(connection.execute("SELECT 1"), timeout=within)


async def try_advisory_lock(connection: asyncpg.Connection, key: int) -> bool:
    """Take a session-level advisory lock if it is free; held until the connection closes."""
    return bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", key))


# Failures that say the database is out of reach or dropped the connection, not that a
# statement was wrong: the same request may work again in a moment.
_UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutdown, backend terminated, cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.exceptions.InternalClientError,  # a connection left mid-operation by a drop
    asyncpg.InterfaceError,
)


def unreachable(failure: BaseException) -> bool:
    """Tell whether a database failure means "out of reach for now" rather than a bug.

    A connection refused, dropped or terminated by an administrator, a pool with no connection
    free in time, and any failure outside a statement (connecting, committing) but a
    constraint's count; a statement PostgreSQL refused (bad SQL, a constraint) does not.
    """
    if not isinstance(
        failure, (sa_exc.SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError)
    ):
        return False
    seen: set[int] = set()
    link: BaseException | None = failure
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, _UNREACHABLE):
            return True
        if isinstance(link, sa_exc.DBAPIError):
            if link.connection_invalidated:
                return True
            if link.statement is None and not isinstance(link, sa_exc.IntegrityError):
                return True
        link = link.__cause__ or link.__context__
    return False
