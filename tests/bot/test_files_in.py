"""Files an employee sends the bot reach the current ticket in Chatwoot with the same bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.files import incoming_files
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser
from tests.bot.test_conversation import FORM, conversations, open_form
from tests.web.files import PDF, png

Client = TestClient[web.Request, web.Application]


class FileHost:
    """Where Teams keeps the files: a picture behind the bot's token, a pre-authorised file."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.headers: dict[str, str | None] = {}

    async def serve(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.headers[name] = request.headers.get("Authorization")
        if name not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[name])


@pytest.fixture
async def host() -> AsyncIterator[tuple[FileHost, str]]:
    """A local file host on an ephemeral port."""
    files = FileHost()
    app = web.Application()
    app.router.add_get("/files/{name}", files.serve)
    async with TestServer(app, host="127.0.0.1") as server:
        yield files, str(server.make_url("/files")).rstrip("/")


async def _with_ticket(user: TeamsUser) -> None:
    message_id, form_id = await open_form(user)
    await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))


def _picture(url: str) -> dict[str, Any]:
    return {"contentType": "image/png", "contentUrl": url}


def _file(name: str, url: str) -> dict[str, Any]:
    return {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "name": name,
        "contentUrl": url,
        "content": {"downloadUrl": url, "uniqueId": "1", "fileType": name.rsplit(".", 1)[-1]},
    }


async def _bytes(message: dict[str, Any]) -> list[bytes]:
    async with httpx.AsyncClient(follow_redirects=True) as http:
        return [(await http.get(a["data_url"])).content for a in message["attachments"]]


async def test_a_pasted_picture_and_a_file_reach_the_ticket(
    user: TeamsUser, sandbox: SandboxServer, host: tuple[FileHost, str]
) -> None:
    files, base = host
    image, report = png(12, 9), PDF
    files.files.update({"shot.png": image, "relatorio.pdf": report})
    await _with_ticket(user)
    html = {"contentType": "text/html", "content": "<div><img src='x'></div>"}
    pasted = user.activity(
        "message",
        text="segue a tela",
        attachments=[_picture(f"{base}/shot.png"), html],
    )
    await user.send(pasted)
    assert "Mensagem enviada no chamado" in (user.inbox()[-1].text or "")
    await user.send(
        user.activity("message", attachments=[_file("relatorio.pdf", f"{base}/relatorio.pdf")])
    )
    [record] = await conversations(sandbox)
    incoming = [m for m in record["messages"] if m["message_type"] == "incoming"]
    with_files = [m for m in incoming if m["attachments"]]
    assert [m["content"] for m in with_files] == ["segue a tela", None]
    assert await _bytes(with_files[0]) == [image]
    assert await _bytes(with_files[1]) == [report]
    # The picture needed the bot's token; the pre-authorised download got none.
    assert (files.headers["shot.png"] or "").startswith("Bearer ")
    assert files.headers["relatorio.pdf"] is None


async def test_refused_and_missing_files_get_a_short_reply_and_send_nothing(
    user: TeamsUser, sandbox: SandboxServer, host: tuple[FileHost, str]
) -> None:
    files, base = host
    files.files["setup.exe"] = b"MZ"
    await _with_ticket(user)
    await user.send(user.activity("message", attachments=[_file("setup.exe", f"{base}/setup.exe")]))
    assert "setup.exe: tipo de arquivo não aceito" in (user.inbox()[-1].text or "")
    await user.send(user.activity("message", attachments=[_file("sumiu.pdf", f"{base}/sumiu.pdf")]))
    assert "Não consegui baixar o arquivo do Teams" in (user.inbox()[-1].text or "")
    [record] = await conversations(sandbox)
    assert not [m for m in record["messages"] if m["attachments"]]


def test_the_bot_token_goes_only_to_teams_hosts() -> None:
    service = "https://smba.trafficmanager.net/amer/"
    pasted = [
        SimpleNamespace(content_type="image/png", content_url=url, name=None, content=None)
        for url in (
            "https://smba.trafficmanager.net/amer/v3/attachments/1/views/original",
            "https://us-api.asm.skype.com.evil.example/v1/objects/1",
            "http://127.0.0.1:9/files/x.png",
        )
    ]
    found = incoming_files(pasted, service)
    assert [f.needs_token for f in found] == [True, False, False]
    assert [f.name for f in found] == ["imagem-1.png", "imagem-2.png", "imagem-3.png"]
