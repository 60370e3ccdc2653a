"""Chatwoot's automatic templates in the sandbox: greeting, out-of-office, CSAT on resolve."""

from __future__ import annotations

from typing import Any

from tests.chatwoot.sandbox_support import (
    Api,
    WebhookReceiver,
    assert_same_shape,
    collect_events,
    drain,
    load_payload,
    subscribe_frame,
)

GREETING = "Olá! Já vamos te atender."
AWAY = "Estamos fora do horário; respondemos amanhã."
CLOSED_WEEK = [
    {"day_of_week": day, "closed_all_day": True, "open_all_day": False} for day in range(7)
]


def template_webhooks(hooks: WebhookReceiver) -> list[Any]:
    """Return the bodies of every template ``message_created`` webhook, in arrival order."""
    return [d.json for d in hooks.of("message_created") if d.json["message_type"] == "template"]


async def inbox(api: Api, **settings: Any) -> None:
    """Change the inbox settings through the control API."""
    status, body = await api.control("PATCH", "/inbox", settings)
    assert status == 200, body


async def test_defaults_send_no_template(api: Api, hooks: WebhookReceiver) -> None:
    _, settings = await api.control("GET", "/inbox")
    assert (settings["greeting_enabled"], settings["csat_survey_enabled"]) == (False, False)
    await api.contact()
    cid = int((await api.conversation())["id"])
    await api.message(cid, "Olá")
    await api.control("POST", f"/conversations/{cid}/status", {"status": "resolved"})
    await drain(api.sb)
    assert template_webhooks(hooks) == []
    assert not any(m.message_type == 3 for m in api.sb.state.conversations[cid].messages)


async def test_greeting_once_on_the_first_contact_message(api: Api, hooks: WebhookReceiver) -> None:
    await inbox(api, greeting_enabled=True, greeting_message=GREETING)
    contact = await api.contact()
    cid = int((await api.conversation())["id"])
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        first = await api.message(cid, "Meu notebook não liga")
        await api.message(cid, "Ainda não liga")
        frames = await collect_events(ws)
    await drain(api.sb)
    greetings = template_webhooks(hooks)
    assert [g["content"] for g in greetings] == [GREETING]
    expected = load_payload("webhooks", "message_created.template_no_sender.json")
    expected["conversation"]["messages"][0].pop("sender")
    assert_same_shape(greetings[0], expected)
    assert greetings[0]["sender"] is None and greetings[0]["id"] > first["id"]
    created = [f["message"]["data"] for f in frames if f["message"]["event"] == "message.created"]
    assert [(m["message_type"], m["content"]) for m in created] == [
        (0, "Meu notebook não liga"),
        (3, GREETING),
        (0, "Ainda não liga"),
    ]
    assert "sender" not in created[1]
    _, listed = await api.call("GET", f"/contacts/teams-jane/conversations/{cid}/messages")
    assert [m["content"] for m in listed if m["message_type"] == 3] == [GREETING]


async def test_out_of_office_replaces_the_greeting_once_a_day(
    api: Api, hooks: WebhookReceiver
) -> None:
    await inbox(
        api,
        greeting_enabled=True,
        greeting_message=GREETING,
        working_hours_enabled=True,
        working_hours=CLOSED_WEEK,
        out_of_office_message=AWAY,
    )
    await api.contact()
    cid = int((await api.conversation())["id"])
    await api.message(cid, "Alguém aí?")
    await api.message(cid, "Olá?")
    await drain(api.sb)
    assert [t["content"] for t in template_webhooks(hooks)] == [AWAY]
    # An agent who answered in the last five minutes holds the out-of-office reply back.
    await api.contact("teams-rui", "Rui")
    status, other = await api.call(
        "POST", "/contacts/teams-rui/conversations", json={"custom_attributes": {}}
    )
    assert status == 200
    await api.control("POST", f"/conversations/{other['id']}/messages", {"content": "Oi, Rui"})
    await api.call(
        "POST", f"/contacts/teams-rui/conversations/{other['id']}/messages", json={"content": "Oi"}
    )
    await drain(api.sb)
    assert [t["content"] for t in template_webhooks(hooks)] == [AWAY]


async def test_csat_survey_on_resolve_once_with_the_link_only_in_the_webhook(
    api: Api, hooks: WebhookReceiver
) -> None:
    await inbox(api, csat_survey_enabled=True)
    contact = await api.contact()
    conv = await api.conversation()
    cid = int(conv["id"])
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        await api.control("POST", f"/conversations/{cid}/status", {"status": "resolved"})
        await api.control("POST", f"/conversations/{cid}/status", {"status": "open"})
        await api.control("POST", f"/conversations/{cid}/status", {"status": "resolved"})
        frames = await collect_events(ws)
    await drain(api.sb)
    surveys = template_webhooks(hooks)
    assert len(surveys) == 1 and surveys[0]["content_type"] == "input_csat"
    link = f"{api.sb.url}/survey/responses/{conv['uuid']}"
    assert surveys[0]["content"] == f"Please rate this conversation, {link}"
    assert surveys[0]["content_attributes"] == {"display_type": "emoji"}
    events = [e for e in hooks.events() if not e.startswith("contact_")]
    first_survey = events.index("message_created")
    assert events[:first_survey] == [
        "conversation_created",
        "conversation_status_changed",
        "conversation_updated",
    ]
    cable = [f["message"]["data"] for f in frames if f["message"]["event"] == "message.created"]
    assert [(m["content_type"], m["content"]) for m in cable] == [
        ("input_csat", "Please rate the conversation")
    ]
    async with api.http.get(f"{api.sb.url}/public/api/v1/csat_survey/{conv['uuid']}") as r:
        assert r.status == 200 and (await r.json())["id"] == surveys[0]["id"]
