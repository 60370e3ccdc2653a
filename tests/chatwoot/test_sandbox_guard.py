"""The sandbox stays local: JSON-only control API, loopback Host/Origin, no secrets, quiet log."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from sandbox import SandboxConfig, SandboxServer
from sandbox.guard import redact
from tests.chatwoot.sandbox_support import SECRET, Api, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]


async def _count(api: Api) -> int:
    _, conversations = await api.control("GET", "/conversations")
    return len(conversations)


async def test_control_api_refuses_cross_site_body_types_with_415(
    api: Api, http: aiohttp.ClientSession
) -> None:
    await api.contact()
    await api.conversation()
    url = f"{api.sb.url}/sandbox/api/reset"
    form = aiohttp.FormData()
    form.add_field("x", b"1", filename="x.txt")
    for kwargs in (
        {"data": "{}", "headers": {"Content-Type": "text/plain"}},
        {"data": {"x": "1"}},  # application/x-www-form-urlencoded
        {"data": form},  # multipart outside the message routes
    ):
        async with http.post(url, **kwargs) as r:  # type: ignore[arg-type]
            assert r.status == 415
            assert "application/json" in (await r.json())["error"]
    assert await _count(api) == 1  # nothing was wiped
    async with http.post(url, json={}) as r:
        assert r.status == 200
    assert await _count(api) == 0


async def test_control_api_and_console_answer_loopback_hosts_only(
    sb: SandboxServer, http: aiohttp.ClientSession
) -> None:
    port = sb.url.rsplit(":", 1)[1]
    for path in ("/sandbox/api/conversations", "/sandbox/", "/sandbox/api/inbox"):
        async with http.get(sb.url + path, headers={"Host": f"evil.example:{port}"}) as r:
            assert r.status == 403, path
        async with http.get(sb.url + path, headers={"Host": f"localhost:{port}"}) as r:
            assert r.status == 200, path
    # The Client API is what the product calls, under whatever name it was given.
    inbox = f"/public/api/v1/inboxes/{sb.config.inbox_identifier}"
    async with http.get(sb.url + inbox, headers={"Host": "chatwoot.internal"}) as r:
        assert r.status == 200


async def test_cross_site_origin_is_refused(api: Api, http: aiohttp.ClientSession) -> None:
    await api.contact()
    await api.conversation()
    url = f"{api.sb.url}/sandbox/api/reset"
    async with http.post(url, headers={"Origin": "https://evil.example"}) as r:
        assert r.status == 403
    assert await _count(api) == 1
    async with http.post(url, headers={"Origin": api.sb.url}) as r:
        assert r.status == 200


async def test_answers_hold_no_webhook_secret_or_token(
    api: Api, hooks: WebhookReceiver, http: aiohttp.ClientSession
) -> None:
    token = hooks.url.split("token=")[1]
    async with http.get(f"{api.sb.url}/sandbox/api/webhook") as r:
        text = await r.text()
        body = await r.json()
    assert SECRET not in text and f"token={token}" not in text
    assert body == {"url": hooks.url.split("?")[0] + "?[redacted]", "secret_set": True}


async def test_access_log_is_off_by_default_and_redacts_identifiers_when_on(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.access")
    for access_log in (False, True):
        async with SandboxServer(SandboxConfig(access_log=access_log)) as server:
            base = f"{server.url}/public/api/v1/inboxes/{server.config.inbox_identifier}"
            async with http.post(f"{base}/contacts", json={"source_id": "teams-secret-sid"}) as r:
                contact = await r.json()
            async with http.get(f"{base}/contacts/teams-secret-sid?x=1") as r:
                assert r.status == 200
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        if not access_log:
            assert lines == []
            continue
        assert len(lines) == 2
        text = "\n".join(lines)
        for secret in (server.config.inbox_identifier, "teams-secret-sid", "x=1"):
            assert secret not in text
        assert contact["pubsub_token"] not in text
        assert "GET /public/api/v1/inboxes/[redacted]/contacts/[redacted]?[redacted] 200" in text


def test_redact_covers_every_identifier_segment() -> None:
    assert redact("/public/api/v1/inboxes/abc/contacts/sid/conversations/3?token=t") == (
        "/public/api/v1/inboxes/[redacted]/contacts/[redacted]/conversations/3?[redacted]"
    )
    assert redact("/sandbox/api/conversations/4") == "/sandbox/api/conversations/4"


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.isupper() or k in {"PATH", "HOME"}}
    return subprocess.run(
        [sys.executable, "-m", "tickets", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )


def test_standalone_sandbox_refuses_a_public_host() -> None:
    result = _cli("sandbox", "--host", "0.0.0.0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "loopback" in lines[0], result.stderr


def test_serve_refuses_the_sandbox_behind_an_https_public_url(tmp_path: Path) -> None:
    result = _cli(
        "serve",
        PUBLIC_URL="https://tickets.example.com",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATA_DIR=str(tmp_path),
        # An external database, so that only the sandbox check speaks (nothing connects to it).
        DATABASE_URL="postgresql://tickets:unused@127.0.0.1:9/tickets",
        MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001",
        MICROSOFT_APP_PASSWORD="bot-password-not-used",
        MICROSOFT_APP_TENANT_ID="00000000-0000-0000-0000-000000000002",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CHATWOOT_BASE_URL" in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything started
