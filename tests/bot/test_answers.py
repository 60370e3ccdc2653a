"""Teams end to end: a bot question and the survey arrive as native cards and are answered once;
"Problema resolvido" on the ticket card resolves; an answer on the web updates the Teams card.
"""

from __future__ import annotations

from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient

from db.models import Ticket
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser, card_texts, find_action
from tests.bot.test_conversation import FORM, open_form
from tests.fakes.connector import FakeConnector, Received
from tests.waiting import eventually
from tickets import keys

Client = TestClient[web.Request, web.Application]
SELECT = {"items": [{"title": "E-mail", "value": "email"}, {"title": "VPN", "value": "vpn"}]}


async def _control(sandbox: SandboxServer, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient() as http:
        answer = await http.request(method, f"{sandbox.url}/sandbox/api{path}", json=body)
        answer.raise_for_status()
        return answer.json()


async def _updates(sandbox: SandboxServer) -> int:
    deliveries = await _control(sandbox, "GET", "/webhook/deliveries")
    return sum(1 for d in deliveries if d["event"] == "message_updated")


async def _ticket(user: TeamsUser) -> tuple[str, dict[str, Any]]:
    message_id, form_id = await open_form(user)
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    return message_id, body["value"]


async def _card_with(connector: FakeConnector, user: TeamsUser, verb: str) -> Received:
    """Wait for a message whose card carries ``verb``; return it."""
    found: list[Received] = []

    async def check() -> bool:
        found[:] = [
            r
            for r in connector.sent(user.conversation_id)
            if r.card is not None and verb in str(r.card)
        ]
        return bool(found)

    await eventually(check)
    return found[-1]


async def test_question_card_is_answered_once_from_teams(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    _card_id, ticket_card = await _ticket(user)
    ticket_id = find_action(ticket_card, "ticket.reply")["data"]["ticketId"]
    [record] = await _control(sandbox, "GET", "/conversations")
    await _control(
        sandbox,
        "POST",
        f"/conversations/{record['id']}/messages",
        {
            "content": "Qual sistema está com problema?",
            "message_type": "template",
            "content_type": "input_select",
            "content_attributes": SELECT,
        },
    )
    asked = await _card_with(connector, user, "ticket.answer")
    assert asked.card is not None
    assert "Qual sistema está com problema?" in card_texts(asked.card)
    vpn = next(
        a
        for a in asked.card["body"][-1]["actions"]
        if a["verb"] == "ticket.answer" and a["title"] == "VPN"
    )
    assert vpn["data"]["answer"] == "vpn" and vpn["data"]["ticketId"] == ticket_id
    body = await user.send(user.execute("ticket.answer", vpn["data"], asked.activity_id))
    answered = body["value"]
    assert "Sua resposta: VPN" in card_texts(answered)
    assert "ticket.answer" not in str(answered)
    truth = await _control(sandbox, "GET", f"/conversations/{record['id']}")
    question = next(m for m in truth["messages"] if m["content_type"] == "input_select")
    assert question["content_attributes"]["submitted_values"] == [{"title": "VPN", "value": "vpn"}]
    await eventually(lambda: _count(sandbox, 1))

    # A second tap (a stale card in another window): told it is answered, nothing sent again.
    email = next(a for a in asked.card["body"][-1]["actions"] if a["title"] == "E-mail")
    again = await user.send(user.execute("ticket.answer", email["data"], asked.activity_id))
    assert "Sua resposta: VPN" in card_texts(again["value"])
    assert any(
        r.activity.get("text") == "Esta pergunta já foi respondida."
        for r in connector.sent(user.conversation_id)
    )
    assert await _updates(sandbox) == 1
    # Someone's forged click on a message of another ticket is refused like an unknown ticket.
    forged = dict(vpn["data"], ticketId=ticket_id + 1000)
    refused = await user.send(user.execute("ticket.answer", forged, asked.activity_id))
    assert "ticket.answer" not in str(refused["value"])
    assert await _updates(sandbox) == 1


async def _count(sandbox: SandboxServer, expected: int) -> bool:
    return await _updates(sandbox) == expected


async def test_resolve_from_the_ticket_card_then_rate_in_place(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    card_id, ticket_card = await _ticket(user)
    await _control(sandbox, "PATCH", "/inbox", {"csat_survey_enabled": True})
    resolve = find_action(ticket_card, "ticket.resolve")
    assert resolve["title"] == "Problema resolvido"
    body = await user.send(user.execute("ticket.resolve", resolve["data"], card_id))
    resolved_card = body["value"]
    assert "ticket.resolve" not in str(resolved_card)
    assert find_action(resolved_card, "ticket.reopen")
    [record] = await _control(sandbox, "GET", "/conversations")
    assert record["status"] == "resolved"

    survey = await _card_with(connector, user, "ticket.rate")
    assert survey.card is not None
    buttons = [a for a in survey.card["body"][-1]["actions"] if a.get("verb") == "ticket.rate"]
    assert [b["data"]["rating"] for b in buttons] == ["1", "2", "3", "4", "5"]
    assert any(e.get("id") == "feedback" for e in survey.card["body"])
    four = dict(buttons[3]["data"], feedback="Muito rápido")
    thanks = (await user.send(user.execute("ticket.rate", four, survey.activity_id)))["value"]
    texts = card_texts(thanks)
    assert "Obrigado!" in texts and "4 de 5" in texts and "Muito rápido" in texts
    truth = await _control(sandbox, "GET", f"/conversations/{record['id']}")
    response = truth["csat_survey_response"]
    assert (response["rating"], response["feedback_message"]) == (4, "Muito rápido")

    # Rated again (the card's "change" panel): Chatwoot's record is updated, not duplicated.
    change = next(a for a in thanks["actions"] if a["type"] == "Action.ShowCard")
    five = next(b for b in change["card"]["body"][-1]["actions"] if b["data"]["rating"] == "5")
    again = (await user.send(user.execute("ticket.rate", five["data"], survey.activity_id)))[
        "value"
    ]
    assert "5 de 5" in card_texts(again)
    updated = (await _control(sandbox, "GET", f"/conversations/{record['id']}"))[
        "csat_survey_response"
    ]
    assert (updated["id"], updated["rating"]) == (response["id"], 5)
    # Out-of-range ratings from a forged click never reach Chatwoot.
    bad = dict(five["data"], rating="9")
    refused = (await user.send(user.execute("ticket.rate", bad, survey.activity_id)))["value"]
    assert "5 de 5" in card_texts(refused)
    final = (await _control(sandbox, "GET", f"/conversations/{record['id']}"))[
        "csat_survey_response"
    ]
    assert final["rating"] == 5
    # The survey card in the chat was put in place too (the outbox's answer update).
    await connector.wait_for(user.conversation_id, updates=True)
    assert any(u.activity_id == survey.activity_id for u in connector.updates(user.conversation_id))


async def test_an_answer_given_on_the_web_puts_the_teams_card_in_place(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer, connector: FakeConnector
) -> None:
    _card_id, ticket_card = await _ticket(user)
    ticket_id = find_action(ticket_card, "ticket.reply")["data"]["ticketId"]
    [record] = await _control(sandbox, "GET", "/conversations")
    await _control(
        sandbox,
        "POST",
        f"/conversations/{record['id']}/messages",
        {
            "content": "Qual sistema?",
            "message_type": "template",
            "content_type": "input_select",
            "content_attributes": SELECT,
        },
    )
    asked = await _card_with(connector, user, "ticket.answer")
    assert asked.card is not None
    message_id = find_action(asked.card, "ticket.answer")["data"]["messageId"]
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        ticket = await session.get(Ticket, ticket_id)
    assert ticket is not None
    # The web's route calls this same service call.
    await bot_client.app[keys.ANSWERS].submit(ticket.requester_id, ticket_id, message_id, ["vpn"])

    async def put_in_place() -> bool:
        return any(
            u.activity_id == asked.activity_id and "Sua resposta: VPN" in card_texts(u.card)
            for u in connector.updates(user.conversation_id)
        )

    await eventually(put_in_place)
    placed = [
        u for u in connector.updates(user.conversation_id) if u.activity_id == asked.activity_id
    ]
    assert all("ticket.answer" not in str(u.card) for u in placed)
