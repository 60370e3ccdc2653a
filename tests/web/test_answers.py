"""The employee answers through the JSON API: the survey, bot questions, "resolved, thanks".

Every answer is checked against the sandbox's record (the stand-in Chatwoot), and every refusal
proves that nothing reached it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from sandbox import SandboxServer
from tests.waiting import eventually
from tests.web.conftest import Client, MakeWeb, open_ticket, signup

CSAT = "input_csat"
DAY = 86400


async def _control(sandbox: SandboxServer, method: str, path: str, **body: Any) -> Any:
    async with httpx.AsyncClient() as http:
        answer = await http.request(method, f"{sandbox.url}/sandbox/api{path}", json=body or None)
        answer.raise_for_status()
        return answer.json()


async def _truth(sandbox: SandboxServer, conversation_id: int) -> dict[str, Any]:
    record: dict[str, Any] = await _control(sandbox, "GET", f"/conversations/{conversation_id}")
    return record


async def _timeline(client: Client, ticket_id: int) -> list[dict[str, Any]]:
    body = await (await client.get(f"/api/conversations/{ticket_id}/messages")).json()
    items: list[dict[str, Any]] = body["messages"]
    return items


async def _arrived(client: Client, ticket_id: int, key: str) -> dict[str, Any]:
    """Wait until the timeline holds a message with a `survey` or `question`; return it."""
    found: list[dict[str, Any]] = []

    async def check() -> bool:
        found[:] = [m for m in await _timeline(client, ticket_id) if m.get(key)]
        return bool(found)

    await eventually(check)
    return found[-1]


async def _surveyed(web_client: Client, sandbox: SandboxServer) -> tuple[str, dict[str, Any]]:
    """Open a ticket, let the agent resolve it with CSAT on; return the CSRF token and ticket."""
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    await _control(sandbox, "PATCH", "/inbox", csat_survey_enabled=True)
    conversation = ticket["chatwootConversationId"]
    await _control(sandbox, "POST", f"/conversations/{conversation}/status", status="resolved")
    return csrf, ticket


async def _updates(sandbox: SandboxServer) -> int:
    deliveries = await _control(sandbox, "GET", "/webhook/deliveries")
    return sum(1 for d in deliveries if d["event"] == "message_updated")


async def test_survey_is_answered_once_then_updated(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf, ticket = await _surveyed(web_client, sandbox)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/conversations/{ticket['id']}/csat"
    item = await _arrived(web_client, ticket["id"], "survey")
    assert item["survey"] == {"rating": None, "feedback": None, "closed": False, "answered": False}

    for bad in (0, 6, "cinco", None, True, 4.5):
        refused = await web_client.post(url, json={"rating": bad}, headers=headers)
        assert refused.status == 422, bad
        assert (await refused.json())["fields"] == {"rating": "out_of_range"}
    long = await web_client.post(url, json={"rating": 3, "feedback": "x" * 2001}, headers=headers)
    assert (long.status, (await long.json())["fields"]) == (422, {"feedback": "too_long"})
    assert (await web_client.post(url, data=b"[", headers=headers)).status == 400
    assert (await _truth(sandbox, ticket["chatwootConversationId"]))["csat_survey_response"] is None

    first = await web_client.post(url, json={"rating": 4, "feedback": " Rápido "}, headers=headers)
    assert first.status == 201
    assert (await first.json())["survey"]["rating"] == 4
    truth = await _truth(sandbox, ticket["chatwootConversationId"])
    response = truth["csat_survey_response"]
    assert (response["rating"], response["feedback_message"]) == (4, "Rápido")
    survey = next(m for m in truth["messages"] if m["content_type"] == CSAT)
    assert survey["content_attributes"]["submitted_values"]["csat_survey_response"]["rating"] == 4

    second = await web_client.post(url, json={"rating": 5}, headers=headers)
    assert second.status == 200
    again = (await _truth(sandbox, ticket["chatwootConversationId"]))["csat_survey_response"]
    assert (again["id"], again["rating"]) == (response["id"], 5)
    items = await _timeline(web_client, ticket["id"])
    shown = next(m for m in items if m.get("survey"))
    assert (shown["survey"]["rating"], shown["survey"]["answered"]) == (5, True)
    rated = [m for m in items if m["kind"] == "rated"]
    assert [m["data"]["rating"] for m in rated] == [4, 5]
    assert rated[0]["data"]["messageId"] == shown["id"]
    assert rated[0]["author"] == "Ana Souza"


async def test_survey_refusals_send_nothing(
    web_client: Client, make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    csrf, ticket = await _surveyed(web_client, sandbox)
    await _arrived(web_client, ticket["id"], "survey")
    conversation = ticket["chatwootConversationId"]
    # Someone else's ticket: 404, the same answer as for a ticket that does not exist.
    other = await make_web()
    other_csrf = await signup(other, "bia@example.com", name="Bia")
    stranger = await other.post(
        f"/api/conversations/{ticket['id']}/csat",
        json={"rating": 1},
        headers={"X-CSRF-Token": other_csrf},
    )
    assert (stranger.status, await stranger.json()) == (404, {"error": "not_found"})
    unsigned = await make_web()
    assert (await unsigned.post(f"/api/conversations/{ticket['id']}/csat", json={})).status in (
        401,
        403,
    )
    # A ticket without a survey: 409.
    fresh = await open_ticket(web_client, csrf, title="Outro problema")
    none = await web_client.post(
        f"/api/conversations/{fresh['id']}/csat", json={"rating": 3}, headers={"X-CSRF-Token": csrf}
    )
    assert (none.status, await none.json()) == (409, {"error": "no_survey"})
    # Chatwoot's 14-day lock (the sandbox's clock says the survey is 15 days old): 409.
    conv = sandbox.state.conversations[conversation]
    message = next(m for m in conv.messages if m.content_type == CSAT)
    message.created_at -= 15 * DAY
    locked = await web_client.post(
        f"/api/conversations/{ticket['id']}/csat",
        json={"rating": 2},
        headers={"X-CSRF-Token": csrf},
    )
    assert (locked.status, await locked.json()) == (409, {"error": "survey_closed"})
    assert (await _truth(sandbox, conversation))["csat_survey_response"] is None
    assert await _updates(sandbox) == 0


async def _question(
    web_client: Client, sandbox: SandboxServer, content_type: str, attributes: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    await _control(
        sandbox,
        "POST",
        f"/conversations/{ticket['chatwootConversationId']}/messages",
        content="Qual sistema?",
        message_type="template",
        content_type=content_type,
        content_attributes=attributes,
    )
    return csrf, ticket, await _arrived(web_client, ticket["id"], "question")


SELECT = {"items": [{"title": "E-mail", "value": "email"}, {"title": "VPN", "value": "vpn"}]}


async def test_question_is_answered_once(
    web_client: Client, make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    csrf, ticket, item = await _question(web_client, sandbox, "input_select", SELECT)
    headers = {"X-CSRF-Token": csrf}
    question = item["question"]
    assert [c["title"] for c in question["choices"]] == ["E-mail", "VPN"]
    assert question["answered"] is False
    url = f"/api/conversations/{ticket['id']}/messages/{item['id']}/submit"

    for bad, field in (([], "values"), (["Fax"], "values"), (["vpn", "email"], "values")):
        refused = await web_client.post(url, json={"values": bad}, headers=headers)
        assert refused.status == 422, bad
        assert field in (await refused.json())["fields"]
    assert (await web_client.post(url, json={"values": "vpn"}, headers=headers)).status == 422
    other = await make_web()
    other_csrf = await signup(other, "bia@example.com", name="Bia")
    stranger = await other.post(url, json={"values": ["vpn"]}, headers={"X-CSRF-Token": other_csrf})
    assert stranger.status == 404
    mine = await open_ticket(other, other_csrf, title="Ticket da Bia")
    crossed = await other.post(
        f"/api/conversations/{mine['id']}/messages/{item['id']}/submit",
        json={"values": ["vpn"]},
        headers={"X-CSRF-Token": other_csrf},
    )
    assert crossed.status == 404
    assert await _updates(sandbox) == 0

    # Two taps at once (two tabs): one answer reaches Chatwoot, the other is told it is late.
    answers = await asyncio.gather(
        web_client.post(url, json={"values": [{"value": "vpn"}]}, headers=headers),
        web_client.post(url, json={"values": ["E-mail"]}, headers=headers),
    )
    assert sorted(a.status for a in answers) == [200, 409]
    late = next(a for a in answers if a.status == 409)
    assert await late.json() == {"error": "already_answered"}
    done = await next(a for a in answers if a.status == 200).json()
    assert done["question"]["answered"] is True
    chosen = done["question"]["answerText"]
    assert chosen in ("VPN", "E-mail")
    truth = await _truth(sandbox, ticket["chatwootConversationId"])
    asked = next(m for m in truth["messages"] if m["content_type"] == "input_select")
    assert [v["title"] for v in asked["content_attributes"]["submitted_values"]] == [chosen]
    await eventually(lambda: _count_is(sandbox, 1))
    again = await web_client.post(url, json={"values": ["vpn"]}, headers=headers)
    assert again.status == 409
    items = await _timeline(web_client, ticket["id"])
    answered = [m for m in items if m["kind"] == "answered"]
    assert [(m["data"]["answer"], m["data"]["messageId"]) for m in answered] == [
        (chosen, item["id"])
    ]
    assert await _updates(sandbox) == 1
    # The chat page may show a bot card's https pictures; other pages keep images to our own.
    page = await web_client.get(f"/tickets/{ticket['id']}")
    assert "img-src 'self' data: https:;" in page.headers["Content-Security-Policy"]
    listing = await web_client.get("/")
    assert "img-src 'self' data:;" in listing.headers["Content-Security-Policy"]
    # Not a question: a plain agent reply cannot be "answered".
    await _control(
        sandbox,
        "POST",
        f"/conversations/{ticket['chatwootConversationId']}/messages",
        content="Só texto",
    )

    async def plain_arrived() -> bool:
        return any(m["content"] == "Só texto" for m in await _timeline(web_client, ticket["id"]))

    await eventually(plain_arrived)
    plain = next(m for m in await _timeline(web_client, ticket["id"]) if m["content"] == "Só texto")
    refused = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages/{plain['id']}/submit",
        json={"values": ["x"]},
        headers=headers,
    )
    assert (refused.status, await refused.json()) == (422, {"error": "not_a_question"})


async def _count_is(sandbox: SandboxServer, expected: int) -> bool:
    return await _updates(sandbox) == expected


FORM = {
    "items": [
        {"name": "host", "label": "Computador", "type": "text", "required": True},
        {"name": "mail", "label": "E-mail", "type": "email"},
        {
            "name": "urgency",
            "label": "Urgência",
            "type": "select",
            "options": [{"label": "Alta", "value": "high"}, {"label": "Baixa", "value": "low"}],
        },
    ]
}


async def test_form_email_and_cards_answers(web_client: Client, sandbox: SandboxServer) -> None:
    csrf, ticket, item = await _question(web_client, sandbox, "form", FORM)
    headers = {"X-CSRF-Token": csrf}
    url = f"/api/conversations/{ticket['id']}/messages/{item['id']}/submit"
    assert [f["name"] for f in item["question"]["fields"]] == ["host", "mail", "urgency"]
    cases = [
        ([{"name": "mail", "value": "a@b.co"}], {"host": "required"}),
        ([{"name": "host", "value": "PC1"}, {"name": "mail", "value": "x"}], {"mail": "email"}),
        (
            [{"name": "host", "value": "PC1"}, {"name": "urgency", "value": "meh"}],
            {"urgency": "not_an_option"},
        ),
        ([{"name": "nope", "value": "1"}], {"nope": "unknown_field"}),
    ]
    for values, fields in cases:
        refused = await web_client.post(url, json={"values": values}, headers=headers)
        assert (refused.status, (await refused.json())["fields"]) == (422, fields)
    values = [
        {"name": "host", "value": "PC-042"},
        {"name": "urgency", "value": "Alta"},
    ]
    done = await web_client.post(url, json={"values": values}, headers=headers)
    assert done.status == 200
    assert (await done.json())["question"]["answerText"] == "Computador: PC-042; Urgência: Alta"
    truth = await _truth(sandbox, ticket["chatwootConversationId"])
    form = next(m for m in truth["messages"] if m["content_type"] == "form")
    assert form["content_attributes"]["submitted_values"] == [
        {"name": "host", "title": "Computador", "value": "PC-042"},
        {"name": "urgency", "title": "Urgência", "value": "high"},
    ]

    conversation = ticket["chatwootConversationId"]
    await _control(
        sandbox,
        "POST",
        f"/conversations/{conversation}/messages",
        content="Seu e-mail?",
        message_type="template",
        content_type="input_email",
    )
    cards = {
        "items": [
            {
                "title": "Reiniciar",
                "description": "Reinicie o roteador",
                "media_url": "https://example.com/router.png",
                "actions": [
                    {"type": "link", "text": "Guia", "uri": "https://example.com/guia"},
                    {"type": "postback", "text": "Funcionou", "payload": "ok"},
                ],
            }
        ]
    }
    await _control(
        sandbox,
        "POST",
        f"/conversations/{conversation}/messages",
        content="Tente isto",
        message_type="template",
        content_type="cards",
        content_attributes=cards,
    )

    async def both() -> bool:
        kinds = [
            m["question"]["kind"]
            for m in await _timeline(web_client, ticket["id"])
            if m.get("question")
        ]
        return kinds == ["form", "input_email", "cards"]

    await eventually(both)
    items = [m for m in await _timeline(web_client, ticket["id"]) if m.get("question")]
    email, card = items[1], items[2]
    shown = card["question"]["cards"][0]
    assert shown["links"] == [{"title": "Guia", "url": "https://example.com/guia"}]
    assert shown["answers"] == [{"title": "Funcionou", "value": "ok"}]
    assert shown["image"] == "https://example.com/router.png"
    bad = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages/{email['id']}/submit",
        json={"values": ["not-an-email"]},
        headers=headers,
    )
    assert bad.status == 422
    ok = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages/{email['id']}/submit",
        json={"values": ["ana@example.com"]},
        headers=headers,
    )
    assert ok.status == 200
    tapped = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages/{card['id']}/submit",
        json={"values": ["ok"]},
        headers=headers,
    )
    assert tapped.status == 200
    assert (await tapped.json())["question"]["answerText"] == "Funcionou"
    truth = await _truth(sandbox, conversation)
    by_type = {m["content_type"]: m for m in truth["messages"]}
    assert by_type["input_email"]["content_attributes"]["submitted_values"][0]["value"] == (
        "ana@example.com"
    )
    assert by_type["cards"]["content_attributes"]["submitted_values"] == [
        {"title": "Funcionou", "value": "ok"}
    ]


async def test_resolve_says_who_and_a_message_reopens(
    web_client: Client, make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    url = f"/api/conversations/{ticket['id']}/resolve"
    other = await make_web()
    other_csrf = await signup(other, "bia@example.com", name="Bia")
    assert (await other.post(url, headers={"X-CSRF-Token": other_csrf})).status == 404
    assert (await web_client.post(url)).status == 403
    assert (await _truth(sandbox, ticket["chatwootConversationId"]))["status"] == "open"

    done = await web_client.post(url, headers={"X-CSRF-Token": csrf})
    assert done.status == 200
    assert (await done.json())["status"] == "resolved"
    assert (await _truth(sandbox, ticket["chatwootConversationId"]))["status"] == "resolved"
    again = await web_client.post(url, headers={"X-CSRF-Token": csrf})
    assert (again.status, (await again.json())["status"]) == (200, "resolved")

    async def settled() -> bool:
        # Chatwoot's own status event arrives too; it must not add a second line.
        deliveries = await _control(sandbox, "GET", "/webhook/deliveries")
        return any(d["event"] == "conversation_status_changed" for d in deliveries)

    await eventually(settled)
    await sandbox.drain_webhooks()
    resolved = [m for m in await _timeline(web_client, ticket["id"]) if m["kind"] == "resolved"]
    assert [(m["author"], m["data"]["actor"]) for m in resolved] == [("Ana Souza", "Ana Souza")]

    # Reopening stays as it was: the employee writes again and Chatwoot reopens.
    posted = await web_client.post(
        f"/api/conversations/{ticket['id']}/messages",
        json={"content": "Voltou a falhar"},
        headers={"X-CSRF-Token": csrf},
    )
    assert posted.status == 201
    assert (await _truth(sandbox, ticket["chatwootConversationId"]))["status"] == "open"

    async def reopened() -> bool:
        body = await (await web_client.get(f"/api/conversations/{ticket['id']}")).json()
        return bool(body["status"] == "open")

    await eventually(reopened)
