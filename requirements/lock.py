"""Compile the hashed lock files from pyproject.toml, or check that they still match it.

`python requirements/lock.py compile` (what `make lock` runs) needs `uv` (a dev tool);
`python requirements/lock.py check` needs only the standard library, so `make run` and
`make test` can refuse a stale lock before installing anything from it.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
RUNTIME = ROOT / "requirements" / "runtime.lock"
DEV = ROOT / "requirements" / "dev.lock"
MARK = "# pyproject-fingerprint: "


def fingerprint(pyproject: Path = PYPROJECT) -> str:
    """Hash every dependency list of pyproject.toml (build, runtime, extras, Python)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    wanted = {
        "build": sorted(data.get("build-system", {}).get("requires", [])),
        "python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "extras": {k: sorted(v) for k, v in project.get("optional-dependencies", {}).items()},
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def recorded(lock: Path) -> str | None:
    """Return the fingerprint a lock file was compiled from, if it says."""
    if not lock.exists():
        return None
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(MARK):
            return line.removeprefix(MARK).strip()
    return None


def check() -> int:
    """Exit non-zero with one line when a lock file is missing or older than pyproject.toml."""
    current = fingerprint()
    stale = [lock.name for lock in (RUNTIME, DEV) if recorded(lock) != current]
    if stale:
        print(
            f"requirements/{', requirements/'.join(stale)} no longer match pyproject.toml's "
            "dependencies: run `make lock` and commit the result",
            file=sys.stderr,
        )
        return 1
    return 0


def _uv_compile(output: Path, extras: list[str], build_in: Path, constraint: Path | None) -> None:
    command = [
        str(Path(sys.executable).parent / "uv"),
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--universal",
        "--python-version",
        "3.11",
        "--no-header",
        "--output-file",
        str(output),
        str(PYPROJECT),
        str(build_in),
    ]
    for extra in extras:
        command += ["--extra", extra]
    if constraint is not None:
        # The runtime lock pins the same versions as the dev lock, so `make run` then
        # `make test` never swap a package under the other.
        command += ["--constraints", str(constraint)]
    subprocess.run(command, check=True, cwd=ROOT)


def _stamp(lock: Path, what: str, current: str, build_in: Path) -> None:
    # uv names the temporary build.in it read; a machine path does not belong in the repo.
    body = lock.read_text(encoding="utf-8").replace(str(build_in), "build-system.requires")
    header = (
        f"# Hashed lock for {what}; regenerate with `make lock` (never edit by hand).\n"
        f"{MARK}{current}\n"
    )
    lock.write_text(header + body, encoding="utf-8")


def compile_locks() -> int:
    """Regenerate both lock files from pyproject.toml (needs network)."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    current = fingerprint()
    with tempfile.TemporaryDirectory() as tmp:
        # The build back-end is locked too: the project installs with --no-build-isolation.
        build_in = Path(tmp) / "build.in"
        build_in.write_text("\n".join(data["build-system"]["requires"]) + "\n", encoding="utf-8")
        _uv_compile(DEV, ["dev"], build_in, None)
        _uv_compile(RUNTIME, [], build_in, DEV)
        _stamp(DEV, "`make test` (runtime + dev tools)", current, build_in)
        _stamp(RUNTIME, "`make run` (runtime only)", current, build_in)
    print("requirements: runtime.lock and dev.lock regenerated")
    return 0


if __name__ == "__main__":
    commands = {"check": check, "compile": compile_locks}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("usage: python requirements/lock.py check|compile", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
