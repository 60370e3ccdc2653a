"""Agent edits and deletes: one ``message_updated`` each, deletes as Chatwoot shows them."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.chatwoot.sandbox_support import (
    Api,
    WebhookReceiver,
    assert_same_shape,
    drain,
    load_payload,
    next_event,
    png_bytes,
    subscribe_frame,
)


async def subscribed(api: Api, token: str) -> aiohttp.ClientWebSocketResponse:
    """Open a cable socket subscribed to ``token`` (the caller closes it)."""
    ws = await api.http.ws_connect(api.sb.cable_url)
    await ws.receive_json()
    _, command = subscribe_frame(token)
    await ws.send_json(command)
    assert (await ws.receive_json())["type"] == "confirm_subscription"
    return ws


async def reply_with_file(api: Api, cid: int) -> Any:
    """Post an agent reply with an image through the control API."""
    data = aiohttp.FormData()
    data.add_field("content", "Veja a imagem")
    data.add_field("attachments", png_bytes(), filename="tela.png", content_type="image/png")
    url = f"{api.sb.url}/sandbox/api/conversations/{cid}/messages"
    async with api.http.post(url, data=data) as r:
        assert r.status == 200
        return await r.json()


async def test_delete_becomes_message_updated_without_attachments(
    api: Api, hooks: WebhookReceiver
) -> None:
    contact = await api.contact()
    cid = int((await api.conversation())["id"])
    sent = await reply_with_file(api, cid)
    data_url = sent["attachments"][0]["data_url"]
    ws = await subscribed(api, contact["pubsub_token"])
    try:
        status, deleted = await api.control("DELETE", f"/conversations/{cid}/messages/{sent['id']}")
        frame = await next_event(ws)
    finally:
        await ws.close()
    await drain(api.sb)
    assert status == 200
    assert deleted["content"] == "This message was deleted"
    assert deleted["content_attributes"] == {"deleted": True} and deleted["attachments"] == []

    webhook = hooks.of("message_updated")[-1].json
    assert_same_shape(webhook, load_payload("webhooks", "message_updated.json"))
    assert webhook["id"] == sent["id"] and "attachments" not in webhook
    assert webhook["content"] == "This message was deleted"
    assert webhook["content_attributes"] == {"deleted": True}

    assert frame["message"]["event"] == "message.updated"
    data = frame["message"]["data"]
    expected = load_payload("cable", "message.updated.json")
    # previous_changes lists whichever columns changed: here content, not status.
    expected["message"]["data"]["previous_changes"] = data["previous_changes"]
    assert_same_shape(frame, expected)
    assert "attachments" not in data and data["content_attributes"] == {"deleted": True}
    assert data["previous_changes"]["content"] == ["Veja a imagem", "This message was deleted"]
    assert set(data["previous_changes"]) == {"content", "content_attributes", "updated_at"}

    _, listed = await api.call("GET", f"/contacts/teams-jane/conversations/{cid}/messages")
    assert listed[-1]["content"] == "This message was deleted" and "attachments" not in listed[-1]
    async with api.http.get(data_url) as r:
        assert r.status == 404  # the file is gone with the message
    assert api.sb.state.blobs == {}


async def test_edit_emits_one_update_and_deleting_twice_emits_nothing(
    api: Api, hooks: WebhookReceiver
) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    _, sent = await api.control("POST", f"/conversations/{cid}/messages", {"content": "Olá"})
    path = f"/conversations/{cid}/messages/{sent['id']}"
    status, edited = await api.control("PATCH", path, {"content": "Olá, Jane"})
    assert status == 200 and edited["content"] == "Olá, Jane"
    assert (await api.control("PATCH", path, {"content": "Olá, Jane"}))[0] == 200  # unchanged
    await api.control("DELETE", path)
    await api.control("DELETE", path)
    status, body = await api.control("PATCH", path, {"content": "de volta"})
    assert status == 422 and body["attributes"] == ["content"]
    await drain(api.sb)
    updates = [d.json["content"] for d in hooks.of("message_updated")]
    assert updates == ["Olá, Jane", "This message was deleted"]


async def test_bad_edit_and_delete_requests(api: Api) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    _, sent = await api.control("POST", f"/conversations/{cid}/messages", {"content": "Olá"})
    path = f"/conversations/{cid}/messages/{sent['id']}"
    assert (await api.control("PATCH", path, {"content": ""}))[0] == 400
    assert (await api.control("PATCH", path, {"text": "x"}))[0] == 400
    assert (await api.control("DELETE", f"/conversations/{cid}/messages/999999"))[0] == 404
    assert (await api.control("DELETE", f"/conversations/{cid}/messages/abc"))[0] == 404
    assert (await api.control("DELETE", f"/conversations/999/messages/{sent['id']}"))[0] == 404
    assert api.sb.state.conversations[cid].messages[0].content == "Olá"
