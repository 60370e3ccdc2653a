"""Attachments in the sandbox: multipart in, Chatwoot's attachment objects out, bytes served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.chatwoot.sandbox_support import (
    Api,
    WebhookReceiver,
    assert_same_shape,
    collect_events,
    drain,
    load_payload,
    png_bytes,
    subscribe_frame,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@asynccontextmanager
async def cable_for(api: Api, token: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Open a cable socket subscribed to one contact token."""
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()  # welcome
        _, command = subscribe_frame(token)
        await ws.send_json(command)
        assert (await ws.receive_json())["type"] == "confirm_subscription"
        yield ws


def form(content: str | None, files: list[tuple[str, bytes, str]], name: str) -> aiohttp.FormData:
    """Build a multipart body with ``content`` and file parts named ``name``."""
    data = aiohttp.FormData()
    if content is not None:
        data.add_field("content", content)
    for filename, body, kind in files:
        data.add_field(name, body, filename=filename, content_type=kind)
    return data


async def contact_and_conversation(api: Api) -> tuple[Any, int]:
    """Create Jane and one conversation; return the contact and the conversation id."""
    contact = await api.contact()
    conv = await api.conversation()
    return contact, int(conv["id"])


async def test_contact_files_reach_client_api_webhook_and_cable_as_chatwoot_shows_them(
    api: Api, hooks: WebhookReceiver
) -> None:
    contact, cid = await contact_and_conversation(api)
    image = png_bytes()
    async with cable_for(api, contact["pubsub_token"]) as ws:
        status, created = await api.call(
            "POST",
            f"/contacts/teams-jane/conversations/{cid}/messages",
            data=form(
                "Here is what the screen shows.",
                [("screenshot.png", image, "image/png"), ("report.pdf", PDF, "application/pdf")],
                "attachments[]",
            ),
        )
        frames = await collect_events(ws)
    await drain(api.sb)
    assert status == 200, created
    assert_same_shape(
        created, load_payload("public_api", "messages.create.with_attachment.200.json")
    )
    png, pdf = created["attachments"]
    assert (png["file_type"], png["extension"], png["content_type"]) == (
        "image",
        "png",
        "image/png",
    )
    assert (pdf["file_type"], pdf["extension"], pdf["thumb_url"]) == ("file", "pdf", "")
    assert png["file_size"] == len(image) and pdf["file_size"] == len(PDF)
    assert png["message_id"] == created["id"] and png["thumb_url"].startswith(api.sb.url)

    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == created["id"])
    assert_same_shape(webhook, load_payload("webhooks", "message_created.with_attachment.json"))
    assert webhook["attachments"] == created["attachments"]
    assert webhook["conversation"]["messages"][0]["attachments"] == created["attachments"]

    echo = next(f for f in frames if f["message"]["event"] == "message.created")
    expected = load_payload("cable", "message.created.incoming_echo.json")
    expected["message"]["data"]["attachments"] = load_payload(
        "public_api", "messages.create.with_attachment.200.json"
    )["attachments"]
    expected["message"]["data"].pop("echo_id")
    assert_same_shape(echo, expected)
    assert echo["message"]["data"]["attachments"] == created["attachments"]


async def test_data_url_redirects_to_the_bytes_like_active_storage(api: Api) -> None:
    _, cid = await contact_and_conversation(api)
    image = png_bytes(3, 2)
    _, created = await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{cid}/messages",
        data=form(
            None,
            [("tela.png", image, "image/png"), ("notes.txt", b"ok", "text/plain")],
            "attachments[]",
        ),
    )
    png, txt = created["attachments"]
    async with api.http.get(png["data_url"], allow_redirects=False) as r:
        assert r.status == 302
        assert "/rails/active_storage/disk/" in r.headers["Location"]
    async with api.http.get(png["data_url"]) as r:
        assert r.status == 200 and r.content_type == "image/png"
        assert await r.read() == image
        assert r.headers["Content-Disposition"].startswith("inline")
    async with api.http.get(png["thumb_url"]) as r:
        assert r.status == 200 and await r.read() == image
    async with api.http.get(txt["data_url"]) as r:
        assert await r.read() == b"ok"
        assert r.headers["Content-Disposition"].startswith("attachment")
    forged = png["data_url"].replace("--", "--0", 1)
    async with api.http.get(forged, allow_redirects=False) as r:
        assert r.status == 404


async def test_file_without_text_has_null_content_everywhere(
    api: Api, hooks: WebhookReceiver
) -> None:
    _, cid = await contact_and_conversation(api)
    status, created = await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{cid}/messages",
        data=form(None, [("voice.ogg", b"OggS....", "audio/ogg")], "attachments[]"),
    )
    await drain(api.sb)
    assert status == 200 and created["content"] is None
    audio = created["attachments"][0]
    assert audio["file_type"] == "audio" and audio["transcribed_text"] == ""
    assert audio["data_url"].endswith("?disposition=inline")
    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == created["id"])
    assert webhook["content"] is None and webhook["attachments"] == created["attachments"]
    _, listed = await api.call("GET", f"/contacts/teams-jane/conversations/{cid}/messages")
    assert listed[-1]["content"] is None and listed[-1]["attachments"] == created["attachments"]


async def test_more_than_fifteen_files_is_refused_and_nothing_is_stored(api: Api) -> None:
    _, cid = await contact_and_conversation(api)
    files = [(f"f{n}.txt", b"x", "text/plain") for n in range(16)]
    status, body = await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{cid}/messages",
        data=form("too many", files, "attachments[]"),
    )
    assert status == 422 and body["attributes"] == ["attachments"]
    assert api.sb.state.conversations[cid].messages == [] and api.sb.state.blobs == {}
    status, ok = await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{cid}/messages",
        data=form("fifteen", files[:15], "attachments[]"),
    )
    assert status == 200 and len(ok["attachments"]) == 15


async def test_agent_files_through_the_control_api(api: Api, hooks: WebhookReceiver) -> None:
    contact, cid = await contact_and_conversation(api)
    url = f"{api.sb.url}/sandbox/api/conversations/{cid}/messages"
    async with cable_for(api, contact["pubsub_token"]) as ws:
        data = form("Segue o manual", [("manual.pdf", PDF, "application/pdf")], "attachments")
        data.add_field("agent", "Sam Agent")
        async with api.http.post(url, data=data) as r:
            assert r.status == 200
            record = await r.json()
        private = form(None, [("log.txt", b"secret", "text/plain")], "attachments")
        private.add_field("private", "true")
        async with api.http.post(url, data=private) as r:
            note = await r.json()
        status, last = await api.control(
            "POST", f"/conversations/{cid}/messages", {"content": "Mais alguma coisa?"}
        )
        assert status == 200
        frames = []
        while not frames or frames[-1]["message"]["data"].get("id") != last["id"]:
            frames.extend(await collect_events(ws, quiet=2.0))
    # A private note and its file never reach the contact's cable.
    assert note["id"] not in {f["message"]["data"].get("id") for f in frames}
    await drain(api.sb)
    assert record["content"] == "Segue o manual" and record["sender"]["name"] == "Sam Agent"
    assert record["attachments"][0]["file_type"] == "file"
    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == record["id"])
    assert webhook["message_type"] == "outgoing" and webhook["sender"]["type"] == "user"
    assert webhook["attachments"] == record["attachments"]
    created = next(f for f in frames if f["message"]["event"] == "message.created")
    assert created["message"]["data"]["attachments"] == record["attachments"]
    assert note["private"] is True and note["content"] is None
    _, shown = await api.control("GET", f"/conversations/{cid}")
    assert [m["attachments"] for m in shown["messages"]] == [
        record["attachments"],
        note["attachments"],
        [],
    ]


async def test_control_api_refuses_an_empty_agent_message(api: Api) -> None:
    _, cid = await contact_and_conversation(api)
    status, body = await api.control("POST", f"/conversations/{cid}/messages", {"content": " "})
    assert status == 400 and "content" in body["error"]
    url = f"{api.sb.url}/sandbox/api/conversations/{cid}/messages"
    async with api.http.post(url, data=form(None, [], "attachments")) as r:
        assert r.status == 400
    assert api.sb.state.conversations[cid].messages == []
