"""Account e-mail in Debian's Chromium: the sandbox mailbox, verification, reset, the mails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

import i18n
from sandbox import SandboxServer
from sandbox.mail import MailServer
from tests.web.conftest import PASSWORD, MakeWeb, browser_login, mails_to, shot_path
from tickets.mails import MailKind, MailRenderer

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
NewPage = Callable[..., Awaitable[Page]]
NEW_PASSWORD = "a brand new passphrase"

TEXT = {
    "pt-BR": {
        "sent": "Confira seu e-mail",
        "verify_subject": "Confirme seu e-mail",
        "verified": "E-mail confirmado",
        "confirmed": "Confirmado",
        "forgot": "Esqueceu a senha?",
        "send_link": "Enviar link",
        "reset_subject": "Crie uma senha nova",
        "reset_title": "Criar senha nova",
        "save": "Salvar senha nova",
        "reset_done": "Senha alterada. Entre com a senha nova.",
    },
    "en": {
        "sent": "Check your e-mail",
        "verify_subject": "Confirm your e-mail",
        "verified": "E-mail confirmed",
        "confirmed": "Confirmed",
        "forgot": "Forgot your password?",
        "send_link": "Send link",
        "reset_subject": "Choose a new password",
        "reset_title": "Choose a new password",
        "save": "Save new password",
        "reset_done": "Password changed. Sign in with the new one.",
    },
}


async def _open_mail_link(
    page: Page, sandbox: SandboxServer, address: str, subject: str, shot: str
) -> None:
    """Open the sandbox mailbox, find the newest mail to `address` and follow its link."""
    await page.goto(f"{sandbox.url}/sandbox/mail")
    mail = page.locator(f"article.mail[data-to='{address}']", has_text=subject).first
    await expect(mail).to_be_visible()
    await page.screenshot(path=shot_path(shot), full_page=True)
    await mail.locator("pre.text a").click()


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_signup_verify_sign_out_reset_ends_old_sessions(
    make_web: MakeWeb,
    sandbox: SandboxServer,
    mail_server: MailServer,
    new_page: NewPage,
    locale: str,
) -> None:
    client = await make_web(SMTP_URL=mail_server.url)
    base = str(client.make_url("")).rstrip("/")
    words = TEXT[locale]
    address = f"bia.{locale.lower()}@example.com"
    page = await new_page(locale=locale)

    await page.goto(f"{base}/signup")
    await page.locator("#name").fill("Bia Lima")
    await page.locator("#email").fill(address)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("form[action='/signup'] button[type=submit]").click()
    await page.wait_for_url(f"{base}/signup/sent")
    await expect(page.locator("h1")).to_have_text(words["sent"])
    await page.screenshot(path=shot_path(f"mail_signup_sent.{locale}.png"), full_page=True)

    await mails_to(sandbox.mailbox, address)
    await _open_mail_link(
        page, sandbox, address, words["verify_subject"], f"mail_mailbox_1.{locale}.png"
    )
    await expect(page.locator("h1")).to_have_text(words["verified"])
    await page.screenshot(path=shot_path(f"mail_verified.{locale}.png"), full_page=True)

    await browser_login(page, base, address)
    await page.goto(f"{base}/profile")
    await expect(page.locator("#email-state")).to_have_text(words["confirmed"])
    # A second browser stays signed in: the reset must end its session too.
    other = await new_page(locale=locale)
    await browser_login(other, base, address)
    await page.locator("form[action='/logout'] button").click()
    await page.wait_for_url(f"{base}/login")

    await page.get_by_role("link", name=words["forgot"]).click()
    await page.locator("#email").fill(address)
    await page.get_by_role("button", name=words["send_link"]).click()
    await expect(page.locator("#mail-notice")).to_contain_text(address)
    await page.screenshot(path=shot_path(f"mail_forgot_sent.{locale}.png"), full_page=True)
    await mails_to(sandbox.mailbox, address, count=2)
    await _open_mail_link(
        page, sandbox, address, words["reset_subject"], f"mail_mailbox_2.{locale}.png"
    )
    await expect(page.locator("h1")).to_have_text(words["reset_title"])
    await page.screenshot(path=shot_path(f"mail_reset_form.{locale}.png"), full_page=True)
    await page.locator("#password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name=words["save"]).click()
    await page.wait_for_url(f"{base}/login?reset=1")
    await expect(page.locator("#login-notice")).to_have_text(words["reset_done"])

    await other.goto(f"{base}/")
    await other.wait_for_url(f"{base}/login?next=/")
    await browser_login(page, base, address, NEW_PASSWORD)


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
async def test_account_mails_render(new_page: NewPage, locale: str) -> None:
    renderer = MailRenderer()
    page = await new_page(locale=locale, width=720, height=900)
    for kind in MailKind:
        mail = renderer.render(kind, locale, link="http://127.0.0.1:3978/x?token=abc&def")
        await page.set_content(mail.html)
        await expect(page.locator("h1")).to_have_text(mail.subject)
        button = page.locator("a").first
        await expect(button).to_have_text(i18n.t(f"mail.{kind.value}.button", locale))
        await expect(button).to_have_attribute("href", "http://127.0.0.1:3978/x?token=abc&def")
        await expect(page.locator("html")).to_have_attribute("lang", locale)
        await page.screenshot(path=shot_path(f"mail_{kind.value}.{locale}.png"), full_page=True)
