"""Accounts: sign-up, sign-in, throttling, sessions, cookies and CSRF against the real app."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

from argon2 import PasswordHasher
from sqlalchemy import select, text

from db.models import RateHit, User, WebSession
from tests.bot.harness import APP_ID, APP_PASSWORD, TENANT
from tests.web.conftest import PASSWORD, Client, MakeWeb, page_csrf, signup
from tickets import keys
from web.sessions import hash_token

# A service reachable from outside must authenticate its bot endpoint.
BOT_IDENTITY = {
    "MICROSOFT_APP_ID": APP_ID,
    "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
    "MICROSOFT_APP_TENANT_ID": TENANT,
}


def _cookie(response_headers: object) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for value in response_headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        jar.load(value)
    return jar


async def _login(client: Client, email: str, password: str) -> tuple[int, str]:
    token = await page_csrf(client, "/login")
    response = await client.post(
        "/login",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
    )
    return response.status, await response.text()


async def test_logout_revokes_the_session(web_client: Client) -> None:
    csrf = await signup(web_client, "ana@example.com")
    listing = await web_client.get("/")
    assert listing.status == 200
    assert "Meus chamados" in await listing.text()
    cookie = web_client.session.cookie_jar.filter_cookies(web_client.make_url("/"))
    token = cookie["tft_session"].value

    out = await web_client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert out.status == 303
    assert out.headers["Location"] == "/login"
    async with web_client.app[keys.SESSIONMAKER]() as db:
        row = await db.get(WebSession, hash_token(token))
    assert row is not None and row.revoked_at is not None
    # The old cookie, replayed, is worth nothing.
    web_client.session.cookie_jar.update_cookies({"tft_session": token})
    again = await web_client.get("/", allow_redirects=False)
    assert again.status == 303
    assert again.headers["Location"].startswith("/login")


async def test_session_id_rotates_on_login_and_db_holds_only_a_hash(make_web: MakeWeb) -> None:
    first = await make_web()
    await signup(first, "bia@example.com")
    client = await make_web()
    # An anonymous session (kept for a language choice) is ended, not reused, on sign-in.
    token = await page_csrf(client, "/login")
    chosen = await client.post(
        "/locale",
        data={"csrf_token": token, "locale": "en", "next": "/login"},
        allow_redirects=False,
    )
    assert chosen.status == 303
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["tft_session"].value
    status, _ = await _login(client, "BIA@example.com", PASSWORD)
    assert status == 303
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["tft_session"].value
    assert after != before
    async with client.app[keys.SESSIONMAKER]() as db:
        ids = set((await db.execute(select(WebSession.id))).scalars())
        anonymous = await db.get(WebSession, hash_token(before))
    assert after not in ids and hash_token(after) in ids
    assert anonymous is not None and anonymous.revoked_at is not None


async def test_unknown_email_and_wrong_password_look_the_same(make_web: MakeWeb) -> None:
    owner = await make_web()
    await signup(owner, "caio@example.com")
    client = await make_web()
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    bodies: dict[str, str] = {}
    for _ in range(2):
        for case, email in (("unknown", "nobody@example.com"), ("wrong", "caio@example.com")):
            started = time.perf_counter()
            status, body = await _login(client, email, "not the password")
            timings[case].append(time.perf_counter() - started)
            assert status == 401
            bodies[case] = body.replace(email, "EMAIL")
    assert "E-mail ou senha incorretos." in bodies["unknown"]
    strip = [b.split('name="csrf-token" content="')[0] for b in bodies.values()]
    assert strip[0] == strip[1]
    # Both paths run one argon2 verification: their costs are of the same order.
    fast, slow = sorted([min(timings["unknown"]), min(timings["wrong"])])
    assert slow < fast * 3 + 0.05


async def test_login_throttling_per_account_then_per_address(make_web: MakeWeb) -> None:
    owner = await make_web()
    await signup(owner, "davi@example.com")
    client = await make_web()
    for _ in range(5):
        status, _ = await _login(client, "davi@example.com", "wrong password!")
        assert status == 401
    status, body = await _login(client, "davi@example.com", PASSWORD)
    assert status == 429
    assert "Muitas tentativas de entrada" in body
    # Other accounts from the same address are tried until the address limit (20): earlier
    # failures of this address are stored rows, so seed 14 of them rather than hash 14 times.
    async with client.app[keys.SESSIONMAKER].begin() as db:
        db.add_all(RateHit(key="ip:127.0.0.1") for _ in range(14))
    status, _ = await _login(client, "x@example.com", "wrong password!")
    assert status == 401
    status, body = await _login(client, "someone@example.com", PASSWORD)
    assert status == 429
    assert "Muitas tentativas de entrada" in body


async def test_cookie_flags_plain_and_https(make_web: MakeWeb) -> None:
    client = await make_web(PUBLIC_URL="https://tickets.example.com", **BOT_IDENTITY)
    response = await client.get("/login")
    cookie = _cookie(response.headers)
    # The sign-in form's token rides on a cookie of its own (no session row for visitors).
    assert "__Host-tft_csrf" in cookie
    morsel = cookie["__Host-tft_csrf"]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_cookie_without_secure_on_plain_http(web_client: Client) -> None:
    response = await web_client.get("/login")
    morsel = _cookie(response.headers)["tft_csrf"]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"]


async def test_forms_without_csrf_are_refused(web_client: Client) -> None:
    await page_csrf(web_client, "/login")
    for path, data in (
        ("/login", {"email": "a@example.com", "password": PASSWORD}),
        ("/signup", {"name": "A", "email": "a@example.com", "password": PASSWORD}),
        ("/logout", {}),
        ("/locale", {"locale": "en"}),
    ):
        response = await web_client.post(path, data=data, allow_redirects=False)
        assert response.status == 403, path
        assert "Acesso negado" in await response.text()
        wrong = await web_client.post(
            path, data={**data, "csrf_token": "forged"}, allow_redirects=False
        )
        assert wrong.status == 403, path


async def test_signup_validation_keeps_values(web_client: Client) -> None:
    token = await page_csrf(web_client, "/signup")
    response = await web_client.post(
        "/signup",
        data={
            "csrf_token": token,
            "name": "  ",
            "email": "not-an-email",
            "password": "aaaaaaaaaaaa",
        },
    )
    assert response.status == 422
    html = await response.text()
    assert "Informe seu nome." in html
    assert "Informe um e-mail válido" in html
    assert "não repita um só caractere" in html
    assert 'value="not-an-email"' in html
    short = await web_client.post(
        "/signup", data={"csrf_token": token, "name": "Ana", "email": "a@b.co", "password": "short"}
    )
    assert "pelo menos 10 caracteres" in await short.text()


async def test_old_hash_parameters_are_upgraded_on_login(web_client: Client) -> None:
    await signup(web_client, "fabio@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with web_client.app[keys.SESSIONMAKER].begin() as db:
        await db.execute(
            text("UPDATE users SET password_hash = :h WHERE email = 'fabio@example.com'"),
            {"h": weak},
        )
    client = web_client
    status, _ = await _login(client, "fabio@example.com", PASSWORD)
    assert status == 303
    async with web_client.app[keys.SESSIONMAKER]() as db:
        user = (
            await db.execute(select(User).where(User.email == "fabio@example.com"))
        ).scalar_one()
    assert user.password_hash != weak
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


async def test_locale_from_accept_language_then_user_setting(web_client: Client) -> None:
    english = await web_client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = await english.text()
    assert '<html lang="en">' in html and "Sign in" in html
    portuguese = await web_client.get("/login", headers={"Accept-Language": "fr, pt;q=0.5"})
    assert '<html lang="pt-BR">' in await portuguese.text()
    csrf = await signup(web_client, "gui@example.com")
    saved = await web_client.post(
        "/profile", data={"csrf_token": csrf, "locale": "en"}, allow_redirects=False
    )
    assert saved.status == 303
    page = await web_client.get("/", headers={"Accept-Language": "pt-BR"})
    assert "My tickets" in await page.text()


async def test_behind_a_proxy_throttling_counts_the_forwarded_client(make_web: MakeWeb) -> None:
    client = await make_web(TRUSTED_PROXY_HOPS=1, **BOT_IDENTITY)
    async with client.app[keys.SESSIONMAKER].begin() as db:
        db.add_all(RateHit(key="ip:203.0.113.7") for _ in range(20))

    async def login_from(address: str) -> int:
        token = await page_csrf(client, "/login")
        response = await client.post(
            "/login",
            data={"csrf_token": token, "email": "z@example.com", "password": "wrong password!"},
            headers={"X-Forwarded-For": f"198.51.100.1, {address}"},
            allow_redirects=False,
        )
        return response.status

    # The proxy's own address (the socket's) is not the client: another client still gets in.
    assert await login_from("192.0.2.44") == 401
    # The throttled client is recognised by the hop our proxy recorded, not the spoofable left.
    assert await login_from("203.0.113.7") == 429
