"""Employee files on the web: multipart messages reach Chatwoot whole, bad input is refused."""

from __future__ import annotations

import io
import os
from typing import Any

import aiohttp
import httpx

from sandbox import SandboxServer
from tests.web.conftest import Client, MakeWeb, open_ticket, signup
from tests.web.files import PDF, png

MB = 1024 * 1024


async def _sandbox_messages(sandbox: SandboxServer, conversation: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/sandbox/api/conversations/{conversation}")
        answer.raise_for_status()
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages


async def _bytes_at(url: str) -> bytes:
    async with httpx.AsyncClient(follow_redirects=True) as http:
        answer = await http.get(url)
        answer.raise_for_status()
        return answer.content


async def _fault(sandbox: SandboxServer, **switches: object) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{sandbox.url}/sandbox/api/faults", json=switches)
        answer.raise_for_status()


def _form(content: str | None, files: list[tuple[str, bytes, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    if content is not None:
        form.add_field("content", content)
    for name, data, kind in files:
        form.add_field(
            "attachments",
            io.BytesIO(data),  # bytes over 1 MB warn: a file object is what a client streams
            filename=name,
            content_type=kind or "application/octet-stream",
        )
    return form


async def _post(
    client: Client, ticket_id: int, csrf: str, form: aiohttp.FormData, **headers: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/api/conversations/{ticket_id}/messages",
        data=form,
        headers={"X-CSRF-Token": csrf, **headers},
    )
    return response.status, await response.json()


async def test_text_and_files_go_as_one_message_with_the_same_bytes(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    image = png(4, 3)
    status, message = await _post(
        web_client,
        ticket["id"],
        csrf,
        _form("Segue a tela", [("tela.png", image, "image/png"), ("log.pdf", PDF, "")]),
    )
    assert status == 201, message
    assert message["content"] == "Segue a tela" and message["direction"] == "requester"
    assert [(a["name"], a["contentType"], a["size"]) for a in message["attachments"]] == [
        ("tela.png", "image/png", len(image)),
        ("log.pdf", "application/pdf", len(PDF)),
    ]
    # Our own route gives the owner the bytes back.
    first = await web_client.get(message["attachments"][0]["url"])
    assert await first.read() == image

    remote = await _sandbox_messages(sandbox, ticket["chatwootConversationId"])
    (sent,) = [m for m in remote if m["content"] == "Segue a tela"]
    assert [a["content_type"] for a in sent["attachments"]] == ["image/png", "application/pdf"]
    assert await _bytes_at(sent["attachments"][0]["data_url"]) == image
    assert await _bytes_at(sent["attachments"][1]["data_url"]) == PDF

    # Files alone are a message too; the timeline shows each message once.
    status, alone = await _post(web_client, ticket["id"], csrf, _form("", [("b.png", image, "")]))
    assert status == 201 and alone["content"] == "" and len(alone["attachments"]) == 1
    listed = await (await web_client.get(f"/api/conversations/{ticket['id']}/messages")).json()
    ids = [m["id"] for m in listed["messages"]]
    assert ids.count(message["id"]) == 1 and ids.count(alone["id"]) == 1


async def test_limits_each_named_and_nothing_sent(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    client = await make_web(ATTACHMENT_MAX_BYTES=25 * MB)
    csrf = await signup(client, "ana@example.com")
    ticket = await open_ticket(client, csrf)
    before = len(await _sandbox_messages(sandbox, ticket["chatwootConversationId"]))

    status, body = await _post(
        client, ticket["id"], csrf, _form("big", [("big.pdf", os.urandom(26 * MB), "")])
    )
    assert status == 413
    assert body["reason"] == "too_large" and body["limit"] == 25 * MB
    assert str(25 * MB) in body["message"]

    many = [(f"f{n}.txt", b"x", "text/plain") for n in range(16)]
    status, body = await _post(client, ticket["id"], csrf, _form("many", many))
    assert status == 422 and body["reason"] == "too_many" and body["limit"] == 15
    assert "15" in body["message"]

    exe = [("setup.exe", b"MZ\x90\x00", "application/octet-stream")]
    status, body = await _post(client, ticket["id"], csrf, _form("exe", exe))
    assert status == 422 and body["reason"] == "type_refused" and body["name"] == "setup.exe"
    assert "image/png" in body["message"]
    # A refused extension is refused whatever type the browser claims.
    disguised = [("setup.exe", b"MZ\x90\x00", "image/png")]
    status, body = await _post(client, ticket["id"], csrf, _form("exe", disguised))
    assert status == 422 and body["reason"] == "type_refused"

    status, body = await _post(
        client, ticket["id"], csrf, aiohttp.FormData({"other": "x"}, default_to_multipart=True)
    )
    assert status == 422 and body["fields"] == {"content": "required"}
    status, body = await _post(client, ticket["id"], csrf, _form("   ", []))
    assert status == 422 and body["fields"] == {"content": "required"}

    nameless = [("", b"data", "text/plain")]
    status, body = await _post(client, ticket["id"], csrf, _form("sem nome", nameless))
    assert status == 422 and body["reason"] == "no_name"

    after = await _sandbox_messages(sandbox, ticket["chatwootConversationId"])
    assert len(after) == before


async def test_an_empty_multipart_body_is_refused(web_client: Client) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    response = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages",
        data=b"",
        headers={"X-CSRF-Token": csrf, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status in (400, 422)
    assert (await response.json())["error"] in ("bad_multipart", "validation")


async def test_files_need_the_csrf_token_and_the_owner(make_web: MakeWeb) -> None:
    ana = await make_web()
    csrf = await signup(ana, "ana@example.com")
    ticket = await open_ticket(ana, csrf)
    image = [("tela.png", png(), "image/png")]
    forged = await ana.post(f"/api/conversations/{ticket['id']}/messages", data=_form("x", image))
    assert forged.status == 403
    bob = await make_web()
    bob_csrf = await signup(bob, "bob@example.com", name="Bob")
    status, body = await _post(bob, ticket["id"], bob_csrf, _form("x", image))
    assert status == 404 and body["error"] == "not_found"


async def test_a_helpdesk_failure_keeps_nothing_and_a_retry_sends_once(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    files = [("tela.png", png(), "image/png")]
    await _fault(sandbox, http_status=503)
    status, body = await _post(
        web_client, ticket["id"], csrf, _form("tentativa", files), **{"Idempotency-Key": "m-1"}
    )
    assert status == 503 and body["error"] == "helpdesk_unavailable"
    await _fault(sandbox)
    status, first = await _post(
        web_client, ticket["id"], csrf, _form("tentativa", files), **{"Idempotency-Key": "m-1"}
    )
    assert status == 201
    status, again = await _post(
        web_client, ticket["id"], csrf, _form("tentativa", files), **{"Idempotency-Key": "m-1"}
    )
    assert status == 201 and again["id"] == first["id"]
    remote = await _sandbox_messages(sandbox, ticket["chatwootConversationId"])
    assert [m["content"] for m in remote].count("tentativa") == 1


def _ticket_form(csrf: str | None, files: list[tuple[str, bytes, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    if csrf is not None:
        form.add_field("csrf_token", csrf)
    for name, value in (
        ("idempotency_key", "form-files-1"),
        ("title", "Planilha não abre"),
        ("description", "Erro ao abrir o arquivo anexo."),
        ("complexity", "media"),
        ("sector", "TI"),
    ):
        form.add_field(name, value)
    for name, data, kind in files:
        form.add_field("attachments", io.BytesIO(data), filename=name, content_type=kind)
    return form


async def test_the_new_ticket_form_sends_its_files_with_the_first_message(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    image = png(8, 8)
    files = [("tela.png", image, "image/png"), ("dados.csv", b"a;b\n1;2\n", "text/csv")]

    forged = await web_client.post("/tickets/new", data=_ticket_form(None, files))
    assert forged.status == 403
    refused = await web_client.post(
        "/tickets/new", data=_ticket_form(csrf, [("setup.exe", b"MZ", "application/x-msdownload")])
    )
    assert refused.status == 422
    html = await refused.text()
    assert "setup.exe: tipo de arquivo não aceito" in html
    assert 'value="Planilha não abre"' in html and '<option value="media" selected>' in html

    made = await web_client.post(
        "/tickets/new", data=_ticket_form(csrf, files), allow_redirects=False
    )
    assert made.status == 303, await made.text()
    ticket_id = int(made.headers["Location"].rsplit("/", 1)[1])
    listed = await (await web_client.get(f"/api/conversations/{ticket_id}/messages")).json()
    (first,) = [m for m in listed["messages"] if m["direction"] == "requester"]
    assert "Erro ao abrir o arquivo anexo." in first["content"]
    assert [a["name"] for a in first["attachments"]] == ["tela.png", "dados.csv"]
    ticket = await (await web_client.get(f"/api/conversations/{ticket_id}")).json()
    remote = await _sandbox_messages(sandbox, ticket["chatwootConversationId"])
    assert await _bytes_at(remote[0]["attachments"][0]["data_url"]) == image

    # A form without files (the file input left empty) still opens a ticket.
    empty = _ticket_form(csrf, [])
    empty.add_field(
        "attachments", io.BytesIO(b""), filename="", content_type="application/octet-stream"
    )
    again = await web_client.post("/tickets/new", data=empty, allow_redirects=False)
    assert again.status == 303
