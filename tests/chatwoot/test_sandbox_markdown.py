"""Dashboard Markdown: hard breaks and trailing newlines, normalised in webhooks only."""

from __future__ import annotations

from tests.chatwoot.sandbox_support import (
    Api,
    WebhookReceiver,
    assert_same_shape,
    drain,
    load_payload,
    next_event,
    subscribe_frame,
)

# What the dashboard editor stores for "Olá, Jane!" <Shift+Enter> "Tente **reiniciar**." <Enter>.
STORED = "Olá, Jane!\\\nTente **reiniciar**.\n\n"
NORMALISED = "Olá, Jane!\nTente **reiniciar**."


async def test_webhooks_normalise_hard_breaks_cable_and_client_api_keep_them(
    api: Api, hooks: WebhookReceiver
) -> None:
    contact = await api.contact()
    cid = int((await api.conversation())["id"])
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        status, sent = await api.control(
            "POST", f"/conversations/{cid}/messages", {"content": STORED, "agent": "Sam Agent"}
        )
        assert status == 200 and sent["content"] == STORED
        frame = await next_event(ws)
    await drain(api.sb)
    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == sent["id"])
    assert_same_shape(webhook, load_payload("webhooks", "message_created.outgoing.json"))
    assert webhook["content"] == NORMALISED
    last = webhook["conversation"]["messages"][0]
    assert last["content"] == NORMALISED and last["processed_message_content"] == NORMALISED
    assert frame["message"]["data"]["content"] == STORED
    _, listed = await api.call("GET", f"/contacts/teams-jane/conversations/{cid}/messages")
    assert listed[-1]["content"] == STORED


async def test_plain_text_and_crlf_hard_breaks(api: Api, hooks: WebhookReceiver) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    texts = ["Linha única", "a\\\r\nb\r\n", "barra \\ sozinha fica"]
    for text in texts:
        await api.control("POST", f"/conversations/{cid}/messages", {"content": text})
    await drain(api.sb)
    contents = [d.json["content"] for d in hooks.of("message_created")]
    assert contents == ["Linha única", "a\nb", "barra \\ sozinha fica"]
