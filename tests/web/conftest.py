"""Fixtures for the web area: the real app on 127.0.0.1 with a sandbox, and signed-in clients."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from sandbox import SandboxServer
from sandbox.mail import Mailbox, MailServer, ReceivedMail
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import aim_webhooks, settings_for
from tickets.app import create_app
from tickets.http_limits import runner_options

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
                settings = settings_for(database_url, sandbox, **overrides)
                app = create_app(settings)
                server = TestServer(app, host="127.0.0.1")
                # TestServer drops options given to its constructor: start it with them.
                await server.start_server(**runner_options(settings))
                await stack.enter_async_context(server)
                await aim_webhooks(sandbox, server)
            client: Client = TestClient(server)
            await stack.enter_async_context(client)
            return client

        yield make


@pytest.fixture
async def mail_server(sandbox: SandboxServer) -> AsyncIterator[MailServer]:
    """The sandbox's local mail server on an ephemeral port (its mailbox is the console's)."""
    server = MailServer(sandbox.mailbox)
    await server.start("127.0.0.1", 0)
    yield server
    await server.stop()


async def mails_to(
    mailbox: Mailbox, address: str, count: int = 1, timeout: float = 15.0
) -> list[ReceivedMail]:
    """Wait for `count` messages to `address`; return every message it received."""

    def mine(messages: list[ReceivedMail]) -> list[ReceivedMail]:
        return [mail for mail in messages if mail.to == address]

    async with asyncio.timeout(timeout):
        await mailbox.wait_for(lambda messages: len(mine(messages)) >= count)
    return mine(mailbox.messages)


def link_in(mail: ReceivedMail) -> str:
    """Return the one link of an account e-mail's plain-text part."""
    found = re.findall(r"https?://\S+", mail.text)
    assert len(found) == 1, mail.text
    return str(found[0])


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
    """Create an account through the sign-up form, then sign in; return the session's CSRF."""
    token = await page_csrf(client, "/signup")
    response = await client.post(
        "/signup",
        data={"csrf_token": token, "name": name, "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/signup/sent"
    return await login(client, email)


async def login(client: Client, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the new session's CSRF token."""
    token = await page_csrf(client, "/login")
    response = await client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password},
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


# ---- browser -------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, once per test session."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def new_page(chromium: Browser) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """Open pages in fresh browser contexts (own cookies), closed after the test."""
    contexts: list[BrowserContext] = []

    async def make(
        locale: str = "pt-BR", width: int = 1100, height: int = 860, touch: bool = False
    ) -> Page:
        context = await chromium.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            ignore_https_errors=True,
            has_touch=touch,
            is_mobile=touch,
        )
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        await context.close()


def shot_path(name: str) -> str:
    """Return where a screenshot goes (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)


async def browser_signup(page: Page, base: str, email: str, name: str = "Ana Souza") -> None:
    """Create an account through the real sign-up page, then sign in with it."""
    await page.goto(f"{base}/signup")
    await page.locator("#name").fill(name)
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form[action='/signup'] button[type=submit]").click()
    await page.wait_for_url(f"{base}/signup/sent")
    await browser_login(page, base, email)


async def browser_login(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real sign-in page."""
    await page.goto(f"{base}/login")
    await page.locator("#email").fill(email)
    await page.locator("#password").fill(password)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await page.wait_for_url(f"{base}/")


AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
# axe-core's impact levels that fail a page; "moderate" and "minor" are reported by axe only.
BLOCKING_IMPACTS = ("serious", "critical")


async def accessibility_problems(page: Page) -> list[str]:
    """Run axe-core on the page and return its serious and critical violations, described.

    The script goes in through the DevTools protocol (``evaluate``), so the page keeps its
    strict Content-Security-Policy: no inline script is added to it.
    """
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    results = await page.evaluate(
        "() => axe.run(document, { resultTypes: ['violations'] })"
        ".then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))"
    )
    return [
        f"{page.url}: {item['id']} ({item['impact']}) {item['help']} at {item['targets']}"
        for item in results
        if item["impact"] in BLOCKING_IMPACTS
    ]
