"""Free text in Teams goes to the ticket it is for; "my tickets" shows what is unread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from db.models import User
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser, card_texts, find_action, input_values
from tests.bot.test_conversation import FORM, conversations, open_form
from tests.waiting import eventually
from tickets import keys

Client = TestClient[web.Request, web.Application]


async def _open(user: TeamsUser, title: str) -> int:
    message_id, form_id = await open_form(user)
    body = await user.send(
        user.execute("ticket.create", {"formId": form_id, **FORM, "title": title}, message_id)
    )
    return int(find_action(body["value"], "ticket.reply")["data"]["ticketId"])


async def _forget_the_choice(bot_client: Client) -> None:
    """Make the current ticket an old choice, as after a long pause."""
    async with bot_client.app[keys.SESSIONMAKER].begin() as session:
        await session.execute(
            update(User).values(current_ticket_at=datetime.now(UTC) - timedelta(hours=2))
        )


async def _incoming(sandbox: SandboxServer) -> dict[str, list[str]]:
    return {
        record["custom_attributes"]["title"]: [
            m["content"] for m in record["messages"] if m["message_type"] == "incoming"
        ][1:]
        for record in await conversations(sandbox)
    }


def _reply_targets(node: Any) -> list[int]:
    """The ticket ids of every "send here" button of a card, in order."""
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute" and node.get("verb") == "ticket.reply":
            return [int(node["data"]["ticketId"])]
        return [found for value in node.values() for found in _reply_targets(value)]
    if isinstance(node, list):
        return [found for item in node for found in _reply_targets(item)]
    return []


async def _agent(sandbox: SandboxServer, conversation: int, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/messages", json=body
        )
        answer.raise_for_status()


async def test_one_open_ticket_takes_free_text_and_says_so(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    ticket = await _open(user, "Monitor piscando")
    await _forget_the_choice(bot_client)
    await user.send(user.message("Piscou de novo agora"))
    assert user.inbox()[-1].text == f"✉️ Mensagem enviada no chamado #{ticket} “Monitor piscando”."
    assert (await _incoming(sandbox))["Monitor piscando"] == ["Piscou de novo agora"]


async def test_several_open_tickets_ask_once_which_one(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    first = await _open(user, "Monitor piscando")
    second = await _open(user, "Sem acesso à VPN")
    await _forget_the_choice(bot_client)
    await user.send(user.message("Alguma novidade?"))
    question = user.inbox()[-1]
    assert question.card is not None and question.activity_id is not None
    text = card_texts(question.card)
    assert "Para qual chamado é esta mensagem?" in text
    assert "Monitor piscando" in text and "Sem acesso à VPN" in text
    assert input_values(question.card)["reply"] == "Alguma novidade?"
    assert find_action(question.card, "ticket.new")
    # Nothing went anywhere yet.
    assert await _incoming(sandbox) == {"Monitor piscando": [], "Sem acesso à VPN": []}
    assert _reply_targets(question.card) == [second, first]  # newest activity first
    choice = {"ticketId": first, "reply": "Alguma novidade?"}
    body = await user.send(user.execute("ticket.reply", choice, question.activity_id))
    assert "Alguma novidade?" in card_texts(body["value"])
    # Asked once: the next line follows the ticket just chosen, and says where it went.
    await user.send(user.message("E o monitor?"))
    assert user.inbox()[-1].text == f"✉️ Mensagem enviada no chamado #{first} “Monitor piscando”."
    assert await _incoming(sandbox) == {
        "Monitor piscando": ["Alguma novidade?", "E o monitor?"],
        "Sem acesso à VPN": [],
    }


async def test_a_new_ticket_from_the_question_keeps_the_message(
    bot_client: Client, user: TeamsUser
) -> None:
    await _open(user, "Monitor piscando")
    await _open(user, "Sem acesso à VPN")
    await _forget_the_choice(bot_client)
    await user.send(user.message("A impressora também parou"))
    question = user.inbox()[-1]
    assert question.activity_id is not None
    body = await user.send(
        user.execute("ticket.new", {"reply": "A impressora também parou"}, question.activity_id)
    )
    assert input_values(body["value"])["description"] == "A impressora também parou"
    assert find_action(body["value"], "ticket.create")


async def test_my_tickets_counts_unread_until_the_ticket_is_opened(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    ticket = await _open(user, "Monitor piscando")
    [record] = await conversations(sandbox)
    await _agent(sandbox, record["id"], {"content": "Troque o cabo", "agent": "Rita"})
    await _agent(sandbox, record["id"], {"content": "E reinicie", "agent": "Rita"})

    async with bot_client.app[keys.SESSIONMAKER]() as session:
        user_id = (await session.execute(select(User.id))).scalar_one()

    async def two_unread() -> bool:
        info = await bot_client.app[keys.SERVICE].get_ticket(user_id, ticket)
        return info.unread == 2

    await eventually(two_unread)
    await user.send(user.message("meus chamados"))
    history = user.last_card()
    assert "● 2 novas" in card_texts(history)
    message_id = user.inbox()[-1].activity_id
    await user.send(user.execute("ticket.open", {"ticketId": ticket}, message_id))
    [record] = await conversations(sandbox)
    assert record["contact_seen_calls"] == 1
    await user.send(user.message("meus chamados"))
    assert "novas" not in card_texts(user.last_card())


async def test_a_message_teams_delivers_twice_reaches_the_ticket_once(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    await _open(user, "Monitor piscando")
    typed = user.message("Piscou de novo agora")
    await user.send(typed)
    await user.send(typed)  # the same activity id again: Teams redelivered it
    assert (await _incoming(sandbox))["Monitor piscando"] == ["Piscou de novo agora"]
    sent = [r.text for r in user.inbox() if r.text and r.text.startswith("✉️")]
    assert len(sent) == 2  # each delivery is answered, and both say the one message was sent
