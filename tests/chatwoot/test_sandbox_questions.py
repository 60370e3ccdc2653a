"""Bot questions and the CSAT survey: template messages, ``submitted_values``, the survey API."""

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
    subscribe_frame,
)

QUESTION = {
    "content": "Qual é o seu sistema operacional?",
    "message_type": "template",
    "content_type": "input_select",
    "content_attributes": {
        "items": [{"title": "Windows", "value": "windows"}, {"title": "macOS", "value": "mac"}]
    },
}


async def subscribed(api: Api, token: str) -> aiohttp.ClientWebSocketResponse:
    """Open a cable socket subscribed to ``token`` (the caller closes it)."""
    ws = await api.http.ws_connect(api.sb.cable_url)
    await ws.receive_json()
    _, command = subscribe_frame(token)
    await ws.send_json(command)
    assert (await ws.receive_json())["type"] == "confirm_subscription"
    return ws


def template_cable_shape() -> Any:
    """Return the cable message.created fixture reshaped for a sender-less template."""
    frame = load_payload("cable", "message.created.outgoing.json")
    data = frame["message"]["data"]
    for key in ("sender", "performer"):
        data.pop(key)
    return frame


async def test_input_select_question_and_its_answer(api: Api, hooks: WebhookReceiver) -> None:
    contact = await api.contact()
    cid = int((await api.conversation())["id"])
    ws = await subscribed(api, contact["pubsub_token"])
    try:
        status, question = await api.control("POST", f"/conversations/{cid}/messages", QUESTION)
        assert status == 200, question
        created = await next_event(ws)
        status, answered = await api.call(
            "PATCH",
            f"/contacts/teams-jane/conversations/{cid}/messages/{question['id']}",
            json={"submitted_values": [{"title": "macOS", "value": "mac", "extra": "dropped"}]},
        )
        updated = await next_event(ws)
    finally:
        await ws.close()
    await drain(api.sb)
    assert question["message_type"] == "template" and question["sender"] is None
    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == question["id"])
    expected = load_payload("webhooks", "message_created.template_no_sender.json")
    # Here the conversation's last chat message is the template itself: it has no sender.
    expected["conversation"]["messages"][0].pop("sender")
    assert_same_shape(webhook, expected)
    assert (webhook["message_type"], webhook["content_type"]) == ("template", "input_select")
    assert webhook["content_attributes"] == QUESTION["content_attributes"]

    assert_same_shape(created, template_cable_shape())
    data = created["message"]["data"]
    assert (data["message_type"], data["content_type"], data["sender_type"]) == (
        3,
        "input_select",
        None,
    )

    assert status == 200
    submitted = [{"title": "macOS", "value": "mac"}]
    assert answered["content_attributes"]["submitted_values"] == submitted
    assert answered["content_attributes"]["items"] == QUESTION["content_attributes"]["items"]
    index = load_payload("public_api", "messages.index.200.json")[1]
    index.pop("sender")
    assert_same_shape(answered, index)
    assert updated["message"]["event"] == "message.updated"
    assert (
        updated["message"]["data"]["previous_changes"]["content_attributes"][1]
        == (answered["content_attributes"])
    )
    webhook_update = hooks.of("message_updated")[-1].json
    assert webhook_update["content_attributes"]["submitted_values"] == submitted
    _, shown = await api.control("GET", f"/conversations/{cid}")
    assert shown["messages"][-1]["content_attributes"]["submitted_values"] == submitted


async def test_cards_form_and_email_questions_are_validated_like_chatwoot(api: Api) -> None:
    await api.contact()
    cid = int((await api.conversation())["id"])
    path = f"/conversations/{cid}/messages"
    card = {
        "title": "Reset",
        "description": "Senha",
        "actions": [{"type": "link", "text": "Abrir"}],
    }
    good: list[dict[str, Any]] = [
        {"content_type": "cards", "content_attributes": {"items": [card]}},
        {
            "content_type": "form",
            "content_attributes": {
                "items": [{"name": "email", "type": "email", "label": "E-mail"}]
            },
        },
        {"content": "Seu e-mail?", "content_type": "input_email"},
    ]
    for body in good:
        status, msg = await api.control("POST", path, {"message_type": "template", **body})
        assert status == 200, msg
        assert msg["content_type"] == body["content_type"]
    bad: list[tuple[dict[str, Any], int]] = [
        ({"content": "?", "content_type": "input_select", "content_attributes": {}}, 422),
        ({"content_type": "input_select", "content_attributes": {"items": ["x"]}}, 422),
        ({"content_type": "input_select", "content_attributes": {"items": [{"label": "x"}]}}, 422),
        (
            {"content_type": "cards", "content_attributes": {"items": [{"title": "no actions"}]}},
            422,
        ),
        ({"content": "x", "content_type": "carousel"}, 400),
        ({"content": "x", "message_type": "incoming"}, 400),
        ({"content": "x", "message_type": "template", "private": True}, 400),
        ({"content": "x", "content_attributes": []}, 400),
    ]
    for body, expected in bad:
        status, answer = await api.control("POST", path, body)
        assert status == expected, (body, answer)
    assert len(api.sb.state.conversations[cid].messages) == len(good)


async def test_csat_survey_link_only_in_the_webhook_and_answered_through_the_survey_api(
    api: Api, hooks: WebhookReceiver
) -> None:
    contact = await api.contact()
    conv = await api.conversation()
    cid, uuid = int(conv["id"]), conv["uuid"]
    await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam Agent"})
    ws = await subscribed(api, contact["pubsub_token"])
    try:
        status, survey = await api.control(
            "POST",
            f"/conversations/{cid}/messages",
            {
                "content": "Please rate the conversation",
                "message_type": "template",
                "content_type": "input_csat",
                "content_attributes": {"display_type": "emoji"},
            },
        )
        frame = await next_event(ws)
    finally:
        await ws.close()
    await drain(api.sb)
    assert status == 200
    assert frame["message"]["data"]["content"] == "Please rate the conversation"
    webhook = next(d.json for d in hooks.of("message_created") if d.json["id"] == survey["id"])
    link = f"{api.sb.url}/survey/responses/{uuid}"
    assert webhook["content"] == f"Please rate this conversation, {link}"

    base = f"{api.sb.url}/public/api/v1/csat_survey/{uuid}"
    async with api.http.get(base) as r:
        assert r.status == 200
        shown = await r.json()
    assert shown["id"] == survey["id"] and shown["csat_survey_response"] is None
    assert shown["display_type"] == "emoji" and shown["conversation_id"] == cid
    answer = {"message": {"submitted_values": {"csat_survey_response": {"rating": 5}}}}
    async with api.http.put(base, json=answer) as r:
        assert r.status == 200
        rated = await r.json()
    response = rated["csat_survey_response"]
    assert (response["rating"], response["feedback_message"]) == (5, None)
    assert response["message_id"] == survey["id"] and response["assigned_agent_id"] is not None
    _, record = await api.control("GET", f"/conversations/{cid}")
    assert record["csat_survey_response"] == response

    status, patched = await api.call(
        "PATCH",
        f"/contacts/teams-jane/conversations/{cid}/messages/{survey['id']}",
        json={
            "submitted_values": {"csat_survey_response": {"rating": 4, "feedback_message": "ok"}}
        },
    )
    assert status == 200
    assert patched["content_attributes"]["submitted_values"]["csat_survey_response"] == {
        "rating": 4,
        "feedback_message": "ok",
    }
    _, record = await api.control("GET", f"/conversations/{cid}")
    assert record["csat_survey_response"]["rating"] == 4
    assert record["csat_survey_response"]["id"] == response["id"]


async def test_csat_is_locked_after_fourteen_days_and_bad_answers_are_refused(api: Api) -> None:
    await api.contact()
    conv = await api.conversation()
    cid, uuid = int(conv["id"]), conv["uuid"]
    base = f"{api.sb.url}/public/api/v1/csat_survey/{uuid}"
    async with api.http.get(base) as r:
        assert r.status == 404  # no survey sent yet
    _, survey = await api.control(
        "POST",
        f"/conversations/{cid}/messages",
        {"content": "Avalie", "message_type": "template", "content_type": "input_csat"},
    )
    for bad in ({"rating": 6}, {"rating": "5"}, {"feedback_message": "sem nota"}):
        body = {"message": {"submitted_values": {"csat_survey_response": bad}}}
        async with api.http.put(base, json=body) as r:
            assert r.status == 422, bad
    async with api.http.put(base, json={"rating": 5}) as r:
        assert r.status == 422
    msg = api.sb.state.conversations[cid].messages[-1]
    assert msg.csat_survey_response is None and "submitted_values" not in msg.content_attributes
    msg.created_at -= 15 * 86400
    body = {"message": {"submitted_values": {"csat_survey_response": {"rating": 3}}}}
    async with api.http.put(base, json=body) as r:
        assert r.status == 422
        assert await r.json() == load_payload("public_api", "errors.422.csat_locked.json")
    status, locked = await api.call(
        "PATCH",
        f"/contacts/teams-jane/conversations/{cid}/messages/{survey['id']}",
        json={"submitted_values": {"csat_survey_response": {"rating": 3}}},
    )
    assert (status, locked) == (422, load_payload("public_api", "errors.422.csat_locked.json"))
    async with api.http.get(f"{api.sb.url}/public/api/v1/csat_survey/not-a-uuid") as r:
        assert r.status == 404
