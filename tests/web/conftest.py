"""Fixtures for the web area: the real app on 127.0.0.1 with a sandbox, and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from chatwoot.sandbox import SandboxServer
from tests.conftest import settings_for
from tickets.app import create_app

Client = TestClient[web.Request, web.Application]
MakeWeb = Callable[..., Awaitable[Client]]
PASSWORD = "correct horse battery"
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@pytest.fixture
async def make_web(database_url: str, sandbox: SandboxServer) -> AsyncIterator[MakeWeb]:
    """Start the real app with setting overrides; each call gives a client with its own cookies."""
    async with AsyncExitStack() as stack:
        server: TestServer | None = None

        async def make(**overrides: Any) -> Client:
            nonlocal server
            if server is None:
                app = create_app(settings_for(database_url, sandbox, **overrides))
                server = TestServer(app, host="127.0.0.1")
                await stack.enter_async_context(server)
                hook = str(server.make_url("/api/chatwoot/webhook")) + "?token=test-webhook-token"
                async with httpx.AsyncClient() as http:
                    answer = await http.post(
                        f"{sandbox.url}/sandbox/api/webhook",
                        json={"url": hook, "secret": "test-webhook-secret"},
                    )
                    answer.raise_for_status()
            client: Client = TestClient(server)
            await stack.enter_async_context(client)
            return client

        yield make


@pytest.fixture
async def web_client(make_web: MakeWeb) -> Client:
    """One anonymous browser-like client of the default app."""
    return await make_web()


async def page_csrf(client: Client, path: str = "/login") -> str:
    """Open a page and return the CSRF token from its meta tag."""
    response = await client.get(path)
    html = await response.text()
    found = META_CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


async def signup(client: Client, email: str, name: str = "Ana Souza") -> str:
    """Create an account through the sign-up form; return the new session's CSRF token."""
    token = await page_csrf(client, "/signup")
    response = await client.post(
        "/signup",
        data={"csrf_token": token, "name": name, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    session = await client.get("/api/session")
    body = await session.json()
    assert body["user"]["email"] == email
    return str(body["csrf_token"])


async def open_ticket(
    client: Client, csrf: str, title: str = "Impressora parada"
) -> dict[str, Any]:
    """Open a ticket through the JSON API."""
    response = await client.post(
        "/api/conversations",
        json={"title": title, "description": "Não imprime.", "complexity": "baixa", "sector": "TI"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body
