"""Agent files on the web: the JSON contract, and our owner-only route that streams the bytes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from sandbox import SandboxServer
from tests.conftest import settings_for
from tests.web.conftest import Client, MakeWeb, open_ticket, signup
from tests.web.files import PDF, agent_files, png
from tickets.attachments import signature

FIELDS = {"id", "name", "contentType", "size", "url", "thumbUrl"}


async def agent_item(client: Client, ticket_id: int, count: int = 1) -> list[dict[str, Any]]:
    """Wait until `count` agent messages are in the ticket's timeline; return them."""
    async with asyncio.timeout(15):
        while True:
            response = await client.get(f"/api/conversations/{ticket_id}/messages")
            items = [m for m in (await response.json())["messages"] if m["direction"] == "agent"]
            if len(items) >= count:
                return items
            await asyncio.sleep(0.1)


async def test_agent_files_reach_the_owner_only_through_our_route(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    ana = await make_web()
    csrf = await signup(ana, "ana@example.com")
    ticket = await open_ticket(ana, csrf)
    image = png()
    files = [
        ("tela.png", image, "image/png"),
        ("relatório.pdf", PDF, "application/pdf"),
        ("page.html", b"<script>alert(1)</script>", "text/html"),
    ]
    await agent_files(sandbox, ticket["chatwootConversationId"], "Veja", files)
    (reply,) = await agent_item(ana, ticket["id"])
    assert reply["deleted"] is False and reply["content"] == "Veja"
    shown = reply["attachments"]
    assert [set(a) for a in shown] == [FIELDS] * 3
    names = [a["name"] for a in shown]
    assert names == ["tela.png", "relatório.pdf", "page.html"]
    assert [a["size"] for a in shown] == [len(image), len(PDF), 25]
    picture, pdf, html = shown
    assert picture["contentType"] == "image/png"
    assert picture["url"] == f"/tickets/{ticket['id']}/attachments/{picture['id']}"
    assert picture["thumbUrl"] == picture["url"] + "/thumb" and pdf["thumbUrl"] is None

    full = await ana.get(picture["url"])
    assert full.status == 200 and await full.read() == image
    assert full.headers["Content-Type"] == "image/png"
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    assert full.headers["Content-Disposition"].startswith('inline; filename="tela.png"')
    assert "sandbox" in full.headers["Content-Security-Policy"]
    thumb = await ana.get(picture["thumbUrl"])
    assert thumb.status == 200 and await thumb.read() == image
    document = await ana.get(pdf["url"])
    assert await document.read() == PDF
    assert document.headers["Content-Type"] == "application/octet-stream"
    assert document.headers["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''relat%C3%B3rio.pdf" in document.headers["Content-Disposition"]
    page = await ana.get(html["url"])
    assert page.headers["Content-Type"] == "application/octet-stream"
    assert page.headers["Content-Disposition"].startswith('attachment; filename="page.html"')

    # Anyone else: anonymous, another user, another user's ticket id with Ana's file id.
    anonymous = await make_web()
    assert (await anonymous.get(picture["url"])).status == 404
    bob = await make_web()
    bob_csrf = await signup(bob, "bob@example.com", name="Bob")
    bob_ticket = await open_ticket(bob, bob_csrf)
    assert (await bob.get(picture["url"])).status == 404
    assert (await bob.get(f"/tickets/{bob_ticket['id']}/attachments/{picture['id']}")).status == 404
    assert (await ana.get(f"/tickets/{ticket['id']}/attachments/999999")).status == 404


async def test_attachment_only_message_and_delete(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    conversation = ticket["chatwootConversationId"]
    sent = await agent_files(sandbox, conversation, "", [("foto.png", png(), "image/png")])
    (reply,) = await agent_item(web_client, ticket["id"])
    assert reply["content"] == "" and len(reply["attachments"]) == 1
    url = reply["attachments"][0]["url"]
    assert (await web_client.get(url)).status == 200
    async with httpx.AsyncClient() as http:
        gone = await http.delete(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/messages/{sent['id']}"
        )
        gone.raise_for_status()
    async with asyncio.timeout(15):
        while True:
            (reply,) = await agent_item(web_client, ticket["id"])
            if reply["deleted"]:
                break
            await asyncio.sleep(0.1)
    assert reply["attachments"] == []
    assert (await web_client.get(url)).status == 404


async def test_signed_links_open_without_a_cookie_until_they_expire(
    make_web: MakeWeb, database_url: str, sandbox: SandboxServer
) -> None:
    ana = await make_web()
    csrf = await signup(ana, "ana@example.com")
    ticket = await open_ticket(ana, csrf)
    image = png(3, 3)
    await agent_files(
        sandbox, ticket["chatwootConversationId"], "img", [("a.png", image, "image/png")]
    )
    (reply,) = await agent_item(ana, ticket["id"])
    picture = reply["attachments"][0]
    secret = settings_for(database_url, sandbox).SECRET_KEY.get_secret_value()
    expires = int(time.time()) + 600
    sig = signature(secret, ticket["id"], picture["id"], expires)
    stranger = await make_web()
    good = await stranger.get(picture["url"], params={"expires": str(expires), "sig": sig})
    assert good.status == 200 and await good.read() == image
    stale = int(time.time()) - 1
    old_sig = signature(secret, ticket["id"], picture["id"], stale)
    for params in (
        {"expires": str(stale), "sig": old_sig},
        {"expires": str(expires), "sig": "0" * 64},
        {"expires": str(expires + 1), "sig": sig},
        {"expires": "soon", "sig": sig},
    ):
        assert (await stranger.get(picture["url"], params=params)).status == 404
    other = f"/tickets/{ticket['id'] + 1}/attachments/{picture['id']}"
    assert (await stranger.get(other, params={"expires": str(expires), "sig": sig})).status == 404


async def test_a_file_over_the_limit_is_refused(make_web: MakeWeb, sandbox: SandboxServer) -> None:
    client = await make_web(ATTACHMENT_MAX_BYTES=2048)
    csrf = await signup(client, "ana@example.com")
    ticket = await open_ticket(client, csrf)
    big = b"x" * 4096
    await agent_files(
        sandbox, ticket["chatwootConversationId"], "big", [("big.txt", big, "text/plain")]
    )
    (reply,) = await agent_item(client, ticket["id"])
    answer = await client.get(reply["attachments"][0]["url"])
    assert answer.status == 502
