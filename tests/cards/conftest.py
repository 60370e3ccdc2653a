"""Fixtures for the card tests: the built cards, the harness server and a headless Chromium page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Page, async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.cards.cases import all_cards

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / "js" / "node_modules"
HARNESS = Path(__file__).resolve().parent / "js" / "harness.html"
ARTIFACTS = ROOT / "tests" / "artifacts" / "cards"


@pytest.fixture(scope="session")
def built_cards() -> dict[str, dict[str, Any]]:
    return all_cards()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness_url() -> AsyncIterator[str]:
    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(HARNESS)

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_static("/node_modules/", NODE_MODULES)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def harness(
    harness_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 620, "height": 900},
            device_scale_factor=1,
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(harness_url)
            await page.wait_for_function("window.harnessReady === true")
            yield page
        finally:
            await context.close()


async def render(page: Page, card: dict[str, Any]) -> list[dict[str, Any]]:
    """Render ``card`` in the harness and return the renderer's parse/validation events."""
    events: list[dict[str, Any]] = await page.evaluate(
        "(json) => window.renderCard(json)", json.loads(json.dumps(card))
    )
    return events
