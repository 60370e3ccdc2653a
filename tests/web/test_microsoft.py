"""Microsoft login through msal's real auth-code flow against a local https identity provider."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import ClientResponse
from playwright.async_api import Page, expect
from sqlalchemy import select

from db.models import User
from tests.fakes.oidc import FakeIdentityProvider, IdpUser
from tests.web.conftest import (
    Client,
    MakeWeb,
    accessibility_problems,
    page_csrf,
    shot_path,
    signup,
)
from tickets import keys
from tickets.users import find_or_create_entra_user

TENANT = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "fake-client-secret-value"
OID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def idp(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeIdentityProvider]:
    """The stand-in identity provider; msal's requests trust its certificate through the CA env."""
    provider = FakeIdentityProvider(
        tenant=TENANT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        user=IdpUser(
            oid=OID, tid=TENANT, name="Marta Lima", preferred_username="marta@contoso.com"
        ),
    )
    await provider.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", provider.ca_file)
    yield provider
    await provider.stop()


async def _ms_web(make_web: MakeWeb, idp: FakeIdentityProvider) -> Client:
    return await make_web(
        MICROSOFT_CLIENT_ID=CLIENT_ID,
        MICROSOFT_CLIENT_SECRET=SECRET,
        MICROSOFT_TENANT_ID=TENANT,
        MICROSOFT_AUTHORITY_HOST=idp.url,
    )


FORM = re.compile(r'<form method="post" action="([^"]+)">')
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


async def _through_idp(client: Client, idp: FakeIdentityProvider, location: str) -> ClientResponse:
    """Do what the browser does: visit the provider, post its answer back cross-site (no
    cookie), then post our relay page again same-site (with the cookie)."""
    assert location.startswith(f"{idp.url}/{TENANT}/oauth2/v2.0/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_mode"] == ["form_post"]
    assert query["nonce"] and query["state"]
    context = ssl.create_default_context(cafile=idp.ca_file)
    async with aiohttp.ClientSession() as http:
        page = await (await http.get(location, allow_redirects=False, ssl=context)).text()
        action = html.unescape(FORM.findall(page)[0])
        fields = {k: html.unescape(v) for k, v in FIELD.findall(page)}
        assert urlsplit(action).path == "/auth/microsoft/callback"
        relay = await (await http.post(action, data=fields, allow_redirects=False)).text()
    assert "relay.js" in relay
    relayed = {k: html.unescape(v) for k, v in FIELD.findall(relay)}
    assert relayed.pop("relay") == "1"
    assert relayed == fields
    return await client.post(
        "/auth/microsoft/callback", data={**relayed, "relay": "1"}, allow_redirects=False
    )


async def _microsoft_login(client: Client, idp: FakeIdentityProvider) -> ClientResponse:
    start = await client.get("/auth/microsoft?next=/tickets/new", allow_redirects=False)
    assert start.status == 302
    return await _through_idp(client, idp, start.headers["Location"])


async def test_microsoft_login_finds_the_teams_user(
    make_web: MakeWeb, idp: FakeIdentityProvider
) -> None:
    client = await _ms_web(make_web, idp)
    # The same person already talked to the bot in Teams: one user, found by oid + tid.
    async with client.app[keys.SESSIONMAKER].begin() as db:
        teams_user = await find_or_create_entra_user(
            db, oid=OID, tid=TENANT, name="Marta", email=None
        )
    login_page = await (await client.get("/login")).text()
    assert "Entrar com Microsoft" in login_page
    done = await _microsoft_login(client, idp)
    assert done.status == 303
    assert done.headers["Location"] == "/tickets/new"
    session = await (await client.get("/api/session")).json()
    assert session["user"]["id"] == teams_user.id
    assert session["user"]["microsoftLinked"] is True
    assert session["user"]["name"] == "Marta Lima"
    assert f"POST /{TENANT}/oauth2/v2.0/token" in idp.requests
    assert idp.token_errors == []


async def test_microsoft_login_never_links_a_password_account_by_email(
    make_web: MakeWeb, idp: FakeIdentityProvider
) -> None:
    owner = await _ms_web(make_web, idp)
    await signup(owner, "marta@contoso.com", name="Marta (senha)")
    client = await make_web()
    done = await _microsoft_login(client, idp)
    assert done.status == 303
    session = await (await client.get("/api/session")).json()
    async with client.app[keys.SESSIONMAKER]() as db:
        users = (await db.execute(select(User).order_by(User.id))).scalars().all()
    assert len(users) == 2
    password_user, entra_user = users
    assert session["user"]["id"] == entra_user.id
    assert password_user.entra_oid is None
    assert entra_user.email is None


async def test_tampered_state_replay_denial_and_bad_nonce_are_refused(
    make_web: MakeWeb, idp: FakeIdentityProvider
) -> None:
    client = await _ms_web(make_web, idp)
    start = await client.get("/auth/microsoft", allow_redirects=False)
    location = start.headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    forged_state = location.replace(f"state={state}", f"state=x{state}")
    refused = await _through_idp(client, idp, forged_state)
    assert refused.status == 400
    assert "Não foi possível entrar com a Microsoft" in await refused.text()
    # The flow was single-use: even the genuine answer now finds nothing to finish.
    start_again = location
    replay = await _through_idp(client, idp, start_again)
    assert replay.status == 400
    assert (await (await client.get("/api/session")).json())["user"] is None

    idp.deny = True
    start = await client.get("/auth/microsoft", allow_redirects=False)
    denied = await _through_idp(client, idp, start.headers["Location"])
    assert denied.status == 400
    idp.deny, idp.wrong_nonce = False, True
    start = await client.get("/auth/microsoft", allow_redirects=False)
    bad_nonce = await _through_idp(client, idp, start.headers["Location"])
    assert bad_nonce.status == 400
    assert (await (await client.get("/api/session")).json())["user"] is None
    no_flow = await (await make_web()).get("/auth/microsoft/callback?code=x&state=y")
    assert no_flow.status == 400


async def test_password_user_links_microsoft_from_profile(
    make_web: MakeWeb, idp: FakeIdentityProvider
) -> None:
    client = await _ms_web(make_web, idp)
    csrf = await signup(client, "paula@example.com", name="Paula")
    profile = await (await client.get("/profile")).text()
    assert "Ligar conta Microsoft" in profile
    refused = await client.post("/profile/microsoft", data={}, allow_redirects=False)
    assert refused.status == 403
    start = await client.post(
        "/profile/microsoft", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert start.status == 302
    done = await _through_idp(client, idp, start.headers["Location"])
    assert done.headers["Location"] == "/profile?microsoft=done"
    page = await (await client.get(done.headers["Location"])).text()
    assert "Conta Microsoft ligada." in page
    me = (await (await client.get("/api/session")).json())["user"]
    assert me["microsoftLinked"] is True and me["email"] == "paula@example.com"

    # Signing in with Microsoft later lands in the same (password) account.
    other = await make_web()
    await _microsoft_login(other, idp)
    assert (await (await other.get("/api/session")).json())["user"]["id"] == me["id"]

    # Someone else cannot link the same Microsoft account.
    third = await make_web()
    csrf3 = await signup(third, "rui@example.com", name="Rui")
    start = await third.post(
        "/profile/microsoft", data={"csrf_token": csrf3}, allow_redirects=False
    )
    taken = await _through_idp(third, idp, start.headers["Location"])
    assert taken.headers["Location"] == "/profile?microsoft=taken"


async def test_microsoft_routes_hidden_when_not_configured(make_web: MakeWeb) -> None:
    client = await make_web()
    assert (await client.get("/auth/microsoft")).status == 404
    assert (await client.get("/auth/microsoft/callback?code=x")).status == 404
    html = await (await client.get("/login")).text()
    assert "/auth/microsoft" not in html
    csrf = await page_csrf(client, "/signup")
    assert csrf


@pytest.mark.browser
async def test_microsoft_login_in_chromium(
    make_web: MakeWeb, idp: FakeIdentityProvider, new_page: NewPage
) -> None:
    client = await _ms_web(make_web, idp)
    base = str(client.make_url("")).rstrip("/")
    page = await new_page(locale="en")
    await page.goto(f"{base}/login")
    await page.get_by_role("link", name="Sign in with Microsoft").click()
    await page.wait_for_url(f"{base}/")
    await expect(page.locator("h1")).to_have_text("My tickets")
    session = await page.evaluate("fetch('/api/session').then((r) => r.json())")
    assert session["user"]["name"] == "Marta Lima"
    assert session["user"]["microsoftLinked"] is True
    await page.screenshot(path=shot_path("microsoft_login_done.en.png"))
    # Its profile: no password to change, and Microsoft cannot be unlinked (the only way in).
    await page.get_by_role("link", name="Profile").click()
    await expect(page.locator("#ms-only")).to_be_visible()
    await expect(page.locator("#password-none")).to_be_visible()
    await page.screenshot(path=shot_path("profile_microsoft.en.png"), full_page=True)
    assert await accessibility_problems(page) == []


async def test_unlink_microsoft_only_while_another_way_to_sign_in_is_left(
    make_web: MakeWeb, idp: FakeIdentityProvider
) -> None:
    # A Microsoft-only account: unlinking would lock its owner out.
    only = await _ms_web(make_web, idp)
    await _microsoft_login(only, idp)
    only_csrf = (await (await only.get("/api/session")).json())["csrf_token"]
    page = await (await only.get("/profile")).text()
    assert "não pode ser desligada" in page and "/profile/microsoft/unlink" not in page
    assert "esta conta não tem senha para trocar" in page
    refused = await only.post(
        "/profile/microsoft/unlink", data={"csrf_token": only_csrf}, allow_redirects=False
    )
    assert refused.status == 409
    assert "a Microsoft é a única forma de entrar" in await refused.text()
    assert (await (await only.get("/api/session")).json())["user"]["microsoftLinked"] is True
    # Its own name choice survives the next Microsoft sign-in (which reports "Marta Lima").
    named = await only.post(
        "/profile/name", data={"csrf_token": only_csrf, "name": "Marta L."}, allow_redirects=False
    )
    assert named.status == 303
    again = await make_web()
    await _microsoft_login(again, idp)
    assert (await (await again.get("/api/session")).json())["user"]["name"] == "Marta L."

    # A password account with Microsoft linked may unlink it (CSRF required).
    client = await make_web()
    csrf = await signup(client, "duas@example.com", name="Duas Formas")
    idp.user = IdpUser(
        oid="bbbbbbbb-cccc-dddd-eeee-ffffffffffff",
        tid=TENANT,
        name="Duas Formas",
        preferred_username="duas@contoso.com",
    )
    start = await client.post(
        "/profile/microsoft", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert (await _through_idp(client, idp, start.headers["Location"])).status == 303
    assert "/profile/microsoft/unlink" in await (await client.get("/profile")).text()
    forged = await client.post("/profile/microsoft/unlink", data={}, allow_redirects=False)
    assert forged.status == 403
    done = await client.post(
        "/profile/microsoft/unlink", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert done.headers["Location"] == "/profile?saved=unlinked"
    me = (await (await client.get("/api/session")).json())["user"]
    assert me["microsoftLinked"] is False and me["email"] == "duas@example.com"
