"""The profile page: name, password, signed-in browsers; CSRF, throttling and others' sessions."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import WSMsgType, WSServerHandshakeError

from db.models import WebSession
from sandbox import SandboxServer
from tests.web.conftest import PASSWORD, Client, MakeWeb, login, open_ticket, page_csrf, signup
from tickets import keys
from web.profile import PASSWORD_TRIES, public_id
from web.sessions import hash_token

NEW_PASSWORD = "lanterna azul do farol"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
SESSION_IDS = re.compile(r'data-session="([0-9a-f]+)"')


async def _post(client: Client, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


async def _who(client: Client) -> str | None:
    user = (await (await client.get("/api/session")).json())["user"]
    return None if user is None else str(user["email"])


def _cookie(client: Client) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["tft_session"].value


async def test_name_change_is_kept_and_reaches_the_agents(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    client = await make_web()
    csrf = await signup(client, "nome@example.com", name="Ana Souza")
    await open_ticket(client, csrf)
    status, location, _ = await _post(client, "/profile/name", {"csrf_token": csrf, "name": ""})
    assert status == 422
    status, _, page = await _post(client, "/profile/name", {"csrf_token": csrf, "name": "x" * 201})
    assert status == 422 and "Use no máximo 200 caracteres." in page
    status, location, _ = await _post(
        client, "/profile/name", {"csrf_token": csrf, "name": "  Ana   Souza  Lima "}
    )
    assert (status, location) == (303, "/profile?saved=name")
    page = await (await client.get(location)).text()
    assert 'value="Ana Souza Lima"' in page and "Nome salvo." in page
    [contact] = sandbox.state.contacts.values()
    assert contact.name == "Ana Souza Lima"


async def test_password_change_checks_the_current_one_and_the_new_one(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "senha@example.com")
    path = "/profile/password"
    wrong = {
        "csrf_token": csrf,
        "current_password": "not my password",
        "new_password": NEW_PASSWORD,
    }
    status, _, page = await _post(client, path, wrong)
    assert status == 422 and "A senha atual não confere." in page
    for weak, message in (
        ("1234567890", "uma das mais usadas em vazamentos"),
        ("curta", "pelo menos 10 caracteres"),
        ("a" * 12, "não repita um só caractere"),
    ):
        data = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": weak}
        status, _, page = await _post(client, path, data)
        assert status == 422 and message in page, weak
    status, _, page = await _post(client, path, {"csrf_token": csrf, "new_password": NEW_PASSWORD})
    assert status == 422 and "Informe sua senha atual." in page
    # Nothing changed so far: the old password still signs in.
    assert await _who(await _signed_in(make_web, "senha@example.com", PASSWORD)) is not None

    old_cookie = _cookie(client)
    right = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await _post(client, path, right))[:2] == (303, "/profile?saved=password")
    assert _cookie(client) != old_cookie  # this browser got a fresh session
    assert await _who(client) == "senha@example.com"
    fresh = await make_web()
    status, _, _ = await _post(
        fresh,
        "/login",
        {
            "csrf_token": await page_csrf(fresh),
            "email": "senha@example.com",
            "password": PASSWORD,
        },
    )
    assert status == 401
    assert await _who(await _signed_in(make_web, "senha@example.com", NEW_PASSWORD)) is not None


async def _signed_in(make_web: MakeWeb, email: str, password: str, agent: str = "") -> Client:
    client = await make_web()
    if agent:
        client.session.headers["User-Agent"] = agent
    await login(client, email, password)
    return client


async def test_password_change_signs_out_every_other_browser(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "outros@example.com")
    laptop = await _signed_in(make_web, "outros@example.com", PASSWORD)
    right = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await _post(client, "/profile/password", right))[0] == 303
    assert await _who(laptop) is None
    assert await _who(client) == "outros@example.com"


async def test_wrong_current_passwords_are_throttled_like_sign_ins(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "travada@example.com")
    guess = {"csrf_token": csrf, "current_password": "guess guess", "new_password": NEW_PASSWORD}
    statuses = [
        (await _post(client, "/profile/password", guess))[0] for _ in range(PASSWORD_TRIES.count)
    ]
    assert statuses == [422] * PASSWORD_TRIES.count
    right = {"csrf_token": csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.post("/profile/password", data=right, allow_redirects=False)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Muitas tentativas com a senha atual." in await response.text()
    # The password was not changed by the refused attempt.
    assert await _who(await _signed_in(make_web, "travada@example.com", PASSWORD)) is not None


async def test_sign_out_everywhere_reissues_this_browser(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "todos@example.com")
    phone = await _signed_in(make_web, "todos@example.com", PASSWORD)
    old_cookie = _cookie(client)
    status, location, _ = await _post(client, "/profile/sessions/end-all", {"csrf_token": csrf})
    assert (status, location) == (303, "/profile?saved=everywhere")
    assert await _who(phone) is None
    assert await _who(client) == "todos@example.com"
    async with client.app[keys.SESSIONMAKER]() as db:
        old = await db.get(WebSession, hash_token(old_cookie))
    assert old is not None and old.revoked_at is not None
    # The re-issued session has a new CSRF token too: the old one is refused.
    refused, _, _ = await _post(client, "/profile/sessions/end-all", {"csrf_token": csrf})
    assert refused == 403


async def test_sessions_are_listed_and_ended_one_by_one(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "lista@example.com")
    other = await _signed_in(make_web, "lista@example.com", PASSWORD, agent=FIREFOX)
    page = await (await client.get("/profile")).text()
    assert "Firefox · Windows" in page and "Este navegador" in page
    ids = SESSION_IDS.findall(page)
    assert len(ids) == 2
    assert hash_token(_cookie(client)) not in page  # the database key never reaches the page
    theirs = public_id(hash_token(_cookie(other)))
    assert theirs in ids
    status, location, _ = await _post(
        client, f"/profile/sessions/{theirs}/end", {"csrf_token": csrf}
    )
    assert (status, location) == (303, "/profile?saved=session")
    assert await _who(other) is None
    assert await _who(client) == "lista@example.com"
    again, _, _ = await _post(client, f"/profile/sessions/{theirs}/end", {"csrf_token": csrf})
    assert again == 404


async def test_another_users_session_is_not_found(make_web: MakeWeb) -> None:
    owner = await make_web()
    await signup(owner, "dona@example.com")
    intruder = await make_web()
    csrf = await signup(intruder, "intrusa@example.com")
    target = public_id(hash_token(_cookie(owner)))
    for sid in (target, "0" * 24, "not-hex", hash_token(_cookie(owner))):
        status, _, _ = await _post(intruder, f"/profile/sessions/{sid}/end", {"csrf_token": csrf})
        assert status == 404, sid
    assert await _who(owner) == "dona@example.com"


async def test_every_profile_form_needs_the_csrf_token_and_a_user(make_web: MakeWeb) -> None:
    client = await make_web()
    await signup(client, "csrf@example.com")
    sid = public_id(hash_token(_cookie(client)))
    forms = {
        "/profile": {"locale": "en"},
        "/profile/name": {"name": "Mallory"},
        "/profile/password": {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        "/profile/sessions/end-all": {},
        f"/profile/sessions/{sid}/end": {},
    }
    for path, data in forms.items():
        assert (await _post(client, path, data))[0] == 403, path
        assert (await _post(client, path, {**data, "csrf_token": "forged"}))[0] == 403, path
    assert await _who(client) == "csrf@example.com"
    page = await (await client.get("/profile")).text()
    assert "Mallory" not in page
    anonymous = await make_web()
    token = await page_csrf(anonymous)
    for path, data in forms.items():
        status, location, _ = await _post(anonymous, path, {**data, "csrf_token": token})
        assert status == 303 and location.startswith("/login"), path


async def test_unlink_is_not_offered_without_microsoft_login(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "semms@example.com")
    assert (await _post(client, "/profile/microsoft/unlink", {"csrf_token": csrf}))[0] == 404
    assert "/profile/microsoft" not in await (await client.get("/profile")).text()


async def test_ending_sessions_closes_their_live_sockets(make_web: MakeWeb) -> None:
    client = await make_web()
    csrf = await signup(client, "socket@example.com")
    phone = await _signed_in(make_web, "socket@example.com", PASSWORD)
    origin = str(phone.make_url("")).rstrip("/")
    async with phone.ws_connect("/ws", headers={"Origin": origin}) as socket:
        await socket.send_json({"type": "ping"})
        assert await socket.receive_json() == {"type": "pong"}
        assert (await _post(client, "/profile/sessions/end-all", {"csrf_token": csrf}))[0] == 303
        async with asyncio.timeout(10):
            closing = await socket.receive()
        # The server says "going away" (pages reconnect on it); on a loaded machine the close
        # handshake may be cut short (1006), so only the end of the socket is asserted.
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED), closing
    # The page reconnects, and the ended session is refused before the upgrade.
    with pytest.raises(WSServerHandshakeError) as refused:
        await phone.ws_connect("/ws", headers={"Origin": origin})
    assert refused.value.status == 403
