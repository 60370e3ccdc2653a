"""JSON API and server-rendered pages: status codes, validation, authorization, bad inputs."""

from __future__ import annotations

import io
import re

import aiohttp
import httpx
from aiohttp import WSMsgType

from sandbox import SandboxServer
from tests.web.conftest import Client, MakeWeb, open_ticket, page_csrf, signup


async def _fault(sandbox: SandboxServer, **switches: object) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{sandbox.url}/sandbox/api/faults", json=switches)
        answer.raise_for_status()


async def test_session_endpoint_anonymous_then_signed_in(web_client: Client) -> None:
    anonymous = await (await web_client.get("/api/session")).json()
    assert anonymous["user"] is None
    assert len(anonymous["csrf_token"]) > 20
    await signup(web_client, "ana@example.com")
    signed = await (await web_client.get("/api/session")).json()
    assert signed["user"]["email"] == "ana@example.com"
    assert signed["user"]["microsoftLinked"] is False
    assert signed["csrf_token"] != anonymous["csrf_token"]


async def test_conversation_lifecycle_over_the_api(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    assert ticket["title"] == "Impressora parada"
    assert ticket["status"] == "open"
    assert ticket["chatwootConversationId"] > 0
    listing = await (await web_client.get("/api/conversations")).json()
    assert [t["id"] for t in listing["conversations"]] == [ticket["id"]]
    assert listing["total"] == 1
    one = await web_client.get(f"/api/conversations/{ticket['id']}")
    assert (await one.json())["id"] == ticket["id"]

    posted = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages",
        json={"content": "Já reiniciei."},
        headers={"X-CSRF-Token": csrf},
    )
    assert posted.status == 201
    message = await posted.json()
    assert message["direction"] == "requester"
    assert message["content"] == "Já reiniciei."
    assert {"id", "author", "createdAt"} <= message.keys()
    messages = await (await web_client.get(f"/api/conversations/{ticket['id']}/messages")).json()
    assert [m["content"] for m in messages["messages"]][-1] == "Já reiniciei."
    after = await web_client.get(
        f"/api/conversations/{ticket['id']}/messages?after={message['id']}"
    )
    assert (await after.json())["messages"] == []
    async with httpx.AsyncClient() as http:
        truth = (await http.get(f"{sandbox.url}/sandbox/api/conversations")).json()
    contents = [m["content"] for m in truth[0]["messages"]]
    assert "Já reiniciei." in contents


async def test_api_refuses_bad_requests_precisely(web_client: Client) -> None:
    unauthenticated = await web_client.get("/api/conversations")
    assert unauthenticated.status == 401
    assert await unauthenticated.json() == {"error": "unauthenticated"}
    refused = await web_client.post("/api/conversations", json={})
    assert refused.status == 401

    csrf = await signup(web_client, "ana@example.com")
    headers = {"X-CSRF-Token": csrf}
    no_csrf = await web_client.post("/api/conversations", json={"title": "abc"})
    assert no_csrf.status == 403
    assert (await no_csrf.json())["error"] == "forbidden"
    forged = await web_client.post(
        "/api/conversations", json={}, headers={"X-CSRF-Token": "forged"}
    )
    assert forged.status == 403

    bad_json = await web_client.post(
        "/api/conversations",
        data=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert bad_json.status == 400
    assert (await bad_json.json())["error"] == "bad_json"
    not_object = await web_client.post("/api/conversations", json=[1, 2], headers=headers)
    assert not_object.status == 400
    huge = await web_client.post(
        "/api/conversations", json={"title": "x" * 300_000}, headers=headers
    )
    assert huge.status == 413
    assert (await huge.json())["error"] == "too_large"

    invalid = await web_client.post(
        "/api/conversations",
        json={"title": "ab", "complexity": "nope", "forOther": True, "beneficiaryEmail": "x"},
        headers=headers,
    )
    assert invalid.status == 422
    body = await invalid.json()
    assert body["error"] == "validation"
    assert body["fields"] == {
        "title": "too_short",
        "complexity": "invalid_choice",
        "sector": "required",
        "beneficiaryName": "required",
        "beneficiaryEmail": "invalid_email",
    }
    for path in ("/api/conversations/999", "/api/conversations/99999999999999999999"):
        missing = await web_client.get(path)
        assert missing.status == 404
        assert await missing.json() == {"error": "not_found"}
    assert (await web_client.get("/api/conversations/abc")).status == 404
    assert (await web_client.get("/api/conversations?limit=x")).status == 400
    assert (await web_client.get("/api/conversations?status=weird")).status == 400
    ticket = await open_ticket(web_client, csrf)
    empty = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages", json={"content": "   "}, headers=headers
    )
    assert empty.status == 422
    assert (await empty.json())["fields"] == {"content": "required"}
    wrong_type = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages", json={"content": 5}, headers=headers
    )
    assert wrong_type.status == 422


async def test_other_users_tickets_are_not_found_everywhere(make_web: MakeWeb) -> None:
    alice = await make_web()
    csrf_a = await signup(alice, "alice@example.com", name="Alice")
    ticket = await open_ticket(alice, csrf_a)
    bob = await make_web()
    csrf_b = await signup(bob, "bob@example.com", name="Bob")
    page = await bob.get(f"/tickets/{ticket['id']}")
    assert page.status == 404
    assert "Não encontramos esta página." in await page.text()
    api = await bob.get(f"/api/conversations/{ticket['id']}")
    assert api.status == 404
    messages = await bob.get(f"/api/conversations/{ticket['id']}/messages")
    assert messages.status == 404
    post = await bob.post(
        f"/api/conversations/{ticket['id']}/messages",
        json={"content": "intruso"},
        headers={"X-CSRF-Token": csrf_b},
    )
    assert post.status == 404
    form = await bob.post(
        f"/tickets/{ticket['id']}", data={"csrf_token": csrf_b, "content": "intruso"}
    )
    assert form.status == 404
    listing = await (await bob.get("/api/conversations")).json()
    assert listing == {"conversations": [], "total": 0}


async def test_helpdesk_down_keeps_the_form_and_says_so(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    await _fault(sandbox, http_status=503)
    values = {
        "csrf_token": csrf,
        "idempotency_key": "form-7f3a",
        "title": "VPN cai toda hora",
        "description": "Desde segunda <b>feira</b>.",
        "complexity": "alta",
        "sector": "TI",
        "for_other": "on",
        "beneficiary_name": "Carla Dias",
        "beneficiary_email": "carla@example.com",
    }
    response = await web_client.post("/tickets/new", data=values)
    assert response.status == 503
    html = await response.text()
    assert "O sistema de suporte não respondeu agora" in html
    assert 'value="VPN cai toda hora"' in html
    assert "Desde segunda &lt;b&gt;feira&lt;/b&gt;." in html
    assert 'value="Carla Dias"' in html
    assert '<option value="alta" selected>' in html
    assert 'value="form-7f3a"' in html
    api = await web_client.post(
        "/api/conversations",
        json={"title": "VPN", "complexity": "alta", "sector": "TI"},
        headers={"X-CSRF-Token": csrf},
    )
    assert api.status == 503
    assert (await api.json())["error"] == "helpdesk_unavailable"
    await _fault(sandbox)
    retried = await web_client.post("/tickets/new", data=values, allow_redirects=False)
    assert retried.status == 303
    assert retried.headers["Location"].startswith("/tickets/")
    # The same form submitted twice (a double click) opens one ticket.
    again = await web_client.post("/tickets/new", data=values, allow_redirects=False)
    assert again.headers["Location"] == retried.headers["Location"]


async def test_form_validation_shows_inline_errors_and_keeps_input(web_client: Client) -> None:
    csrf = await signup(web_client, "ana@example.com")
    form = await web_client.get("/tickets/new")
    key = (await form.text()).split('name="idempotency_key" value="')[1].split('"')[0]
    response = await web_client.post(
        "/tickets/new",
        data={
            "csrf_token": csrf,
            "idempotency_key": key,
            "title": "ok",
            "description": "x" * 5001,
            "complexity": "baixa",
            "sector": "Marte",
            "for_other": "on",
            "beneficiary_email": "nope",
        },
    )
    assert response.status == 422
    html = await response.text()
    assert "O título precisa ter pelo menos 3 caracteres." in html
    assert "A descrição pode ter no máximo 5.000 caracteres." in html
    assert "Escolha um setor da lista." in html
    assert "Informe o nome da pessoa." in html
    assert "Informe um e-mail válido" in html
    assert 'aria-invalid="true"' in html
    assert f'value="{key}"' in html
    assert 'value="ok"' in html


async def test_pages_need_sign_in_and_errors_have_pages(web_client: Client) -> None:
    for path in ("/", "/tickets/new", "/tickets/1", "/profile"):
        response = await web_client.get(path, allow_redirects=False)
        assert response.status == 303, path
        assert response.headers["Location"] == f"/login?next={path}"
    missing = await web_client.get("/no/such/page")
    assert missing.status == 404
    html = await missing.text()
    assert "Não encontramos esta página." in html and "Traceback" not in html
    wrong_method = await web_client.delete("/login")
    assert wrong_method.status in (403, 405)
    for path in ("/privacy", "/terms"):
        page = await web_client.get(path, headers={"Accept-Language": "en"})
        assert page.status == 200
        assert "<h1>" in await page.text()


async def test_no_js_reply_form_posts_a_message(web_client: Client) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    response = await web_client.post(
        f"/tickets/{ticket['id']}",
        data={"csrf_token": csrf, "content": "Resposta <sem> script"},
        allow_redirects=False,
    )
    assert response.status == 303
    page = await (await web_client.get(f"/tickets/{ticket['id']}")).text()
    assert "Resposta &lt;sem&gt; script" in page
    empty = await web_client.post(
        f"/tickets/{ticket['id']}", data={"csrf_token": csrf, "content": " "}, allow_redirects=False
    )
    assert empty.headers["Location"].endswith("?error=required")
    assert "Escreva uma mensagem." in await (await web_client.get(empty.headers["Location"])).text()
    _ = await page_csrf(web_client, "/")


INPUT = re.compile(r"<(input|select|textarea)\b([^>]*)>")


async def test_bad_inputs_on_forms_get_calm_answers(web_client: Client) -> None:
    token = await page_csrf(web_client, "/login")
    empty = await web_client.post("/login", data={"csrf_token": token}, allow_redirects=False)
    assert empty.status == 401
    assert "E-mail ou senha incorretos." in await empty.text()
    upload = aiohttp.FormData()
    upload.add_field("csrf_token", token)
    upload.add_field("email", b"binary", filename="x.bin")
    upload.add_field("password", "whatever-long")
    as_file = await web_client.post("/login", data=upload, allow_redirects=False)
    assert as_file.status == 401
    body = io.BytesIO(f"csrf_token={token}&name=".encode() + b"x" * (3 * 1024 * 1024))
    huge = await web_client.post(
        "/signup", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert huge.status == 413
    assert "grande demais" in await huge.text()

    csrf = await signup(web_client, "ana@example.com")
    evil_next = await web_client.post(
        "/locale",
        data={"csrf_token": csrf, "locale": "klingon", "next": "//evil.example/"},
        allow_redirects=False,
    )
    assert evil_next.headers["Location"] == "/"
    for path in ("/?status=weird&page=abc", "/?page=-4", "/?page=99999999999"):
        assert (await web_client.get(path)).status == 200, path
    for path in ("/tickets/0", "/tickets/99999999999999999999", "/tickets/abc"):
        assert (await web_client.get(path)).status == 404, path
    junk_profile = await web_client.post(
        "/profile", data={"csrf_token": csrf, "locale": "<script>"}, allow_redirects=False
    )
    assert junk_profile.status == 303
    assert '<html lang="pt-BR">' in await (await web_client.get("/profile")).text()

    origin = str(web_client.make_url("/")).rstrip("/")
    async with web_client.ws_connect("/ws", headers={"Origin": origin}) as socket:
        await socket.send_str("x" * 10_000)
        closing = await socket.receive()
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


async def test_every_field_has_a_label_and_pages_declare_language(web_client: Client) -> None:
    pages = ["/login", "/signup", "/privacy"]
    await signup(web_client, "ana@example.com")
    pages += ["/", "/tickets/new", "/profile"]
    for path in pages:
        html = await (await web_client.get(path)).text()
        assert html.startswith("<!doctype html>\n<html lang=")
        assert '<main id="main"' in html
        for _tag, attributes in INPUT.findall(html):
            if 'type="hidden"' in attributes:
                continue
            field_id = re.search(r'id="([^"]+)"', attributes)
            assert field_id, (path, attributes)
            assert f'for="{field_id.group(1)}"' in html, (path, field_id.group(1))
