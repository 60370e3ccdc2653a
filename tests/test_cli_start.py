"""`tickets` start-up: each mistake is one line and exit 2 before anything starts."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from db.embedded import free_port
from tests.test_manifest import MANIFEST_SCHEMA, open_package, schema_errors

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
APP_ID = "3f1b0c2e-8a4d-4e6f-9b7a-1c2d3e4f5a6b"


def run_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tickets", *args],
        env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def listening() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield int(sock.getsockname()[1])


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.stderr
    assert "Unclosed" not in result.stderr
    return lines[0]


def test_public_host_flag_without_app_id_is_the_same_check_as_the_setting(tmp_path: Path) -> None:
    data = tmp_path / "data"
    by_flag = run_cli(tmp_path, "serve", "--host", "0.0.0.0", DATA_DIR=str(data))
    by_setting = run_cli(tmp_path, "serve", HOST="0.0.0.0", DATA_DIR=str(data))
    assert assert_one_line_exit_2(by_flag, "MICROSOFT_APP_ID") == assert_one_line_exit_2(
        by_setting, "MICROSOFT_APP_ID"
    )
    # Refused before the database was created, let alone migrated.
    assert not data.exists()


def test_busy_port_names_it_and_the_setting_that_moves_it(tmp_path: Path, listening: int) -> None:
    data = tmp_path / "data"
    result = run_cli(
        tmp_path, "serve", PORT=str(listening), SANDBOX_PORT=str(free_port()), DATA_DIR=str(data)
    )
    line = assert_one_line_exit_2(result, str(listening), "PORT", "make run")
    assert "SANDBOX_PORT" not in line
    assert not data.exists()


def test_busy_port_flag_is_checked_too(tmp_path: Path, listening: int) -> None:
    result = run_cli(
        tmp_path,
        "serve",
        "--port",
        str(listening),
        SANDBOX_PORT=str(free_port()),
        DATA_DIR=str(tmp_path / "data"),
    )
    assert_one_line_exit_2(result, str(listening), "PORT")


def test_busy_sandbox_port_names_sandbox_port(tmp_path: Path, listening: int) -> None:
    data = tmp_path / "data"
    result = run_cli(
        tmp_path, "serve", PORT=str(free_port()), SANDBOX_PORT=str(listening), DATA_DIR=str(data)
    )
    assert_one_line_exit_2(result, str(listening), "SANDBOX_PORT", "make run")
    assert not data.exists()


def test_https_public_url_refuses_the_embedded_database_unless_allowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "PUBLIC_URL": "https://tickets.example.com",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": secrets.token_urlsafe(24),
        "MICROSOFT_APP_TENANT_ID": "0b7c5e1a-2f3d-4c6b-8a9e-7d1f2e3c4b5a",
    }
    refused = run_cli(tmp_path, "migrate", DATA_DIR=str(data), **env)
    assert_one_line_exit_2(refused, "DATABASE_URL", "ALLOW_EMBEDDED_DATABASE")
    assert not data.exists()
    allowed = run_cli(
        tmp_path, "migrate", DATA_DIR=str(data), ALLOW_EMBEDDED_DATABASE="true", **env
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "newest revision" in allowed.stdout


def test_manifest_needs_only_the_app_id_and_public_url(tmp_path: Path) -> None:
    # A .env with production secrets missing must not matter to building the package.
    out = tmp_path / "app.zip"
    result = run_cli(
        tmp_path,
        "manifest",
        "--out",
        str(out),
        MICROSOFT_APP_ID=APP_ID,
        PUBLIC_URL="https://tickets.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tickets manifest: wrote {out}"
    package = open_package(out)
    manifest = package.json("manifest.json")
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert "tickets.example.com" in manifest["validDomains"]
    validator = jsonschema.Draft4Validator(json.loads(MANIFEST_SCHEMA.read_text("utf-8")))
    assert schema_errors(validator, manifest) == []


def test_manifest_still_names_what_it_lacks(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "manifest", MICROSOFT_APP_ID=APP_ID)
    assert_one_line_exit_2(result, "PUBLIC_URL")
    assert not (tmp_path / "tickets-app.zip").exists()
