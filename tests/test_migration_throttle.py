"""Migration 0010: sign-in attempts move into the one throttle's table and back."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from db.migrate import alembic_config


def _migrate(connection: Connection, target: str, downgrade: bool = False) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    (command.downgrade if downgrade else command.upgrade)(config, target)


async def test_sign_in_attempts_in_their_window_survive_the_merge(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO rate_hits (key) VALUES ('ip:10.0.0.1'), ('signup:10.0.0.1')")
        )
        await connection.run_sync(_migrate, "0009", True)
        # Down: the sign-in keys went back to their old table, the others stayed.
        moved_back = await connection.scalar(text("SELECT count(*) FROM login_attempts"))
        left = (await connection.scalars(text("SELECT key FROM rate_hits"))).all()
        assert moved_back == 1 and left == ["signup:10.0.0.1"]
        await connection.execute(
            text(
                "INSERT INTO login_attempts (key, attempted_at) VALUES"
                " ('email:ana@example.com', now() - interval '1 minute'),"
                " ('email:ana@example.com', now() - interval '2 days')"
            )
        )
        await connection.run_sync(_migrate, "head")
        keys = (await connection.scalars(text("SELECT key FROM rate_hits ORDER BY key"))).all()
        gone = await connection.scalar(text("SELECT to_regclass('login_attempts')"))
    # Up: recent attempts keep throttling, the long-settled one is not carried over.
    assert keys == ["email:ana@example.com", "ip:10.0.0.1", "signup:10.0.0.1"]
    assert gone is None
