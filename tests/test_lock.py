"""The hashed lock files agree with pyproject.toml, and the floors shut out known CVEs."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")

# Versions the security review showed to be vulnerable; the floors must refuse each one.
VULNERABLE = {
    "aiohttp": "3.12.13",
    "jinja2": "3.1.5",
    "cryptography": "44.0.0",
    "pyjwt": "2.10.0",
    "requests": "2.32.3",
    "urllib3": "2.4.0",
    "h11": "0.15.0",
    "setuptools": "78.1.0",
}


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements(*extras: str) -> list[Requirement]:
    data = _pyproject()
    project = data["project"]
    assert isinstance(project, dict)
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    build = data["build-system"]
    assert isinstance(build, dict)
    return [Requirement(text) for text in [*names, *build["requires"]]]


def _pins(lock: str) -> dict[str, tuple[Version, list[str]]]:
    """Map each locked package to its version and the hashes listed for it."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements" / lock).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (Version(match.group(2)), [])
        elif line.strip().startswith("--hash=sha256:") and current:
            pins[current][1].append(line.strip())
    return pins


def _lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock", ROOT / "requirements" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("lock", "extras"), [("runtime.lock", ()), ("dev.lock", ("dev",))])
def test_every_requirement_is_locked_within_its_floor(lock: str, extras: tuple[str, ...]) -> None:
    pins = _pins(lock)
    for requirement in _requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is missing from requirements/{lock}"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements/{lock} pins {name}=={version}, outside {requirement}"
        )
        assert hashes, f"requirements/{lock} lists no hash for {name}"


def test_every_locked_package_has_a_hash_and_both_locks_agree() -> None:
    runtime, dev = _pins("runtime.lock"), _pins("dev.lock")
    assert len(runtime) > 30
    assert all(hashes for _, hashes in dev.values())
    assert {name: runtime[name][0] for name in runtime} == {name: dev[name][0] for name in runtime}


def test_the_locks_were_compiled_from_this_pyproject() -> None:
    lock = _lock_module()
    assert lock.check() == 0
    for name in ("runtime.lock", "dev.lock"):
        assert lock.recorded(ROOT / "requirements" / name) == lock.fingerprint()


def test_a_changed_pyproject_is_caught(tmp_path: Path) -> None:
    lock = _lock_module()
    changed = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    changed.write_text(text.replace('"alembic>=1.13",', '"alembic>=1.13",\n    "attrs>=23",'))
    assert lock.fingerprint(changed) != lock.fingerprint()


@pytest.mark.parametrize(("package", "bad"), sorted(VULNERABLE.items()))
def test_floors_refuse_known_vulnerable_versions(package: str, bad: str) -> None:
    wanted = [r for r in _requirements() if canonicalize_name(r.name) == package]
    assert wanted, f"pyproject.toml sets no floor for {package}"
    assert all(not r.specifier.contains(bad) for r in wanted), f"{package}=={bad} is allowed"
