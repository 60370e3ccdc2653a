"""The profile page in Chromium: name, password, signed-in browsers, both languages, axe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import (
    PASSWORD,
    MakeWeb,
    accessibility_problems,
    browser_login,
    browser_signup,
    shot_path,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]
NEW_PASSWORD = "lanterna azul do farol"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"

WORDS = {
    "pt-BR": {
        "nav": "Perfil",
        "wrong": "A senha atual não confere.",
        "required": "Informe sua senha atual.",
        "common": "mais usadas em vazamentos",
        "name_saved": "Nome salvo.",
        "password_saved": "Senha trocada.",
        "this": "Este navegador",
        "ended": "Sessão encerrada.",
        "everywhere": "Sair de todos os outros navegadores",
        "everywhere_done": "você saiu de todos os outros navegadores",
    },
    "en": {
        "nav": "Profile",
        "wrong": "The current password is not right.",
        "required": "Enter your current password.",
        "common": "most used in leaks",
        "name_saved": "Name saved.",
        "password_saved": "Password changed.",
        "this": "This browser",
        "ended": "Session ended.",
        "everywhere": "Sign out every other browser",
        "everywhere_done": "every other browser is signed out",
    },
}


async def _second_browser(new_page: NewPage, base: str, email: str, locale: str) -> Page:
    page = await new_page(locale=locale)
    await page.context.set_extra_http_headers({"User-Agent": FIREFOX})
    await browser_login(page, base, email)
    return page


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_profile_name_password_and_sessions_in_chromium(
    make_web: MakeWeb, new_page: NewPage, locale: str
) -> None:
    client = await make_web()
    base = str(client.make_url("")).rstrip("/")
    words = WORDS[locale]
    email = f"perfil.{locale.lower()}@example.com"
    page = await new_page(locale=locale, width=1280, height=800)
    await browser_signup(page, base, email, name="Ana Souza")
    laptop = await _second_browser(new_page, base, email, locale)
    await page.get_by_role("link", name=words["nav"]).click()
    await page.wait_for_url(f"{base}/profile")
    await expect(page.locator("#browsers li")).to_have_count(2)
    await expect(page.locator("#browsers li.current")).to_contain_text(words["this"])
    await expect(page.locator("#browsers")).to_contain_text("Firefox · Windows")
    await page.screenshot(path=shot_path(f"profile.{locale}.png"), full_page=True)
    assert await accessibility_problems(page) == []

    await page.locator("#name").fill("Ana Souza Lima")
    await page.locator("form[action='/profile/name'] button").click()
    await expect(page.locator("#profile-notice")).to_have_text(words["name_saved"])
    await expect(page.locator("#name")).to_have_value("Ana Souza Lima")

    await page.locator("#new_password").fill("1234567890")
    await page.locator("#password-form button").click()
    await expect(page.locator("#current_password-error")).to_have_text(words["required"])
    await expect(page.locator("#new_password-error")).to_contain_text(words["common"])
    await expect(page.locator("#new_password")).to_have_attribute("aria-invalid", "true")
    await page.screenshot(path=shot_path(f"profile_errors.{locale}.png"), full_page=True)
    assert await accessibility_problems(page) == []
    await page.locator("#current_password").fill("not my password")
    await page.locator("#new_password").fill(NEW_PASSWORD)
    await page.locator("#password-form button").click()
    await expect(page.locator("#current_password-error")).to_have_text(words["wrong"])
    await expect(page.locator("#current_password")).to_have_attribute("aria-invalid", "true")

    # End the other browser's session from this one: it is signed out at its next step.
    other = page.locator("#browsers li:not(.current)")
    await other.get_by_role("button").click()
    await expect(page.locator("#profile-notice")).to_have_text(words["ended"])
    await expect(page.locator("#browsers li")).to_have_count(1)
    await laptop.reload()
    assert "/login" in laptop.url

    laptop = await _second_browser(new_page, base, email, locale)
    await page.reload()
    await expect(page.locator("#browsers li")).to_have_count(2)
    await page.get_by_role("button", name=words["everywhere"]).click()
    await expect(page.locator("#profile-notice")).to_contain_text(words["everywhere_done"])
    await expect(page.locator("#browsers li")).to_have_count(1)
    await laptop.reload()
    assert "/login" in laptop.url

    await page.locator("#current_password").fill(PASSWORD)
    await page.locator("#new_password").fill(NEW_PASSWORD)
    await page.locator("#password-form button").click()
    await expect(page.locator("#profile-notice")).to_contain_text(words["password_saved"])
    await page.screenshot(path=shot_path(f"profile_saved.{locale}.png"), full_page=True)

    phone = await new_page(locale=locale, width=375, height=800, touch=True)
    await browser_login(phone, base, email, NEW_PASSWORD)
    await phone.goto(f"{base}/profile")
    await expect(phone.locator("#browsers li")).to_have_count(2)
    widths = await phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing sticks out sideways on a phone
    await phone.screenshot(path=shot_path(f"profile_mobile.{locale}.png"), full_page=True)
    assert await accessibility_problems(phone) == []
