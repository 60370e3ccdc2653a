"""The message action "Abrir chamado": signed invokes through the real auth path, fake connector."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.extension import COMMAND_ID
from cards import INPUT_IDS
from db.models import OutboxItem, TeamsConversationRef, Ticket, User
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser, card_texts, input_values
from tests.bot.test_conversation import conversations
from tests.fakes.connector import CREATE_KEY, FakeConnector, not_installed
from tickets import keys

Client = TestClient[web.Request, web.Application]

GROUP = "19:suporte-andar2@thread.v2"
CHANNEL = "19:canal-ti@thread.tacv2"
TEAM = "19:time-operacoes@thread.tacv2"
LINK = "https://teams.microsoft.com/l/message/19:suporte-andar2@thread.v2/1741194420000"
AUTHOR_OID = "b130c271-d2eb-45f9-83ab-9eb3fe3788bc"
HTML = (
    "<div><p>A impressora do 2º andar não imprime</p>"
    '<p>Desde ontem a fila trava. <at id="0">Suporte</at>, podem ver? '
    "Erro &quot;49&quot; &amp; luz laranja.</p></div>"
)
MENTIONS = [
    {
        "id": 0,
        "mentionText": "Suporte",
        "mentioned": {
            "user": {"id": "x-1", "displayName": "Carla Dias", "userIdentityType": "aadUser"}
        },
    }
]


def payload(
    html: str = HTML,
    *,
    author_oid: str = AUTHOR_OID,
    author: str = "Bruno Lima",
    message_id: str = "1741194420000",
    link: str | None = LINK,
) -> dict[str, Any]:
    """A ``messagePayload`` as Teams sends it for a message action."""
    message: dict[str, Any] = {
        "id": message_id,
        "createdDateTime": "2025-03-05T17:07:00.000Z",
        "body": {"contentType": "html", "content": html},
        "from": {"user": {"id": author_oid, "displayName": author, "userIdentityType": "aadUser"}},
        "mentions": MENTIONS,
        "attachments": [],
    }
    if link:
        message["linkToMessage"] = link
    return message


def invoke(
    user: TeamsUser, name: str, message: dict[str, Any] | None, data: Any = None, **where: Any
) -> dict[str, Any]:
    """A message-action invoke from a group chat (or the place given in ``where``)."""
    value: dict[str, Any] = {"commandId": COMMAND_ID, "commandContext": "message"}
    if message is not None:
        value["messagePayload"] = message
    if data is not None:
        value["data"] = data
    activity = user.activity("invoke", name=name, value=value)
    activity["conversation"] = where.pop(
        "conversation",
        {
            "id": GROUP,
            "conversationType": "groupChat",
            "isGroup": True,
            "name": "Suporte 2º andar",
            "tenantId": user.tenant,
        },
    )
    activity["channelData"] = {"tenant": {"id": user.tenant}, **where.pop("channel_data", {})}
    activity.update(where)
    return activity


def fetch(user: TeamsUser, message: dict[str, Any] | None = None, **where: Any) -> dict[str, Any]:
    """``composeExtension/fetchTask`` for ``message`` (the default one when not given)."""
    return invoke(user, "composeExtension/fetchTask", message or payload(), **where)


def submit(user: TeamsUser, data: dict[str, Any], message: dict[str, Any] | None = None) -> Any:
    """``composeExtension/submitAction``: the dialog's inputs plus its button's data."""
    return invoke(user, "composeExtension/submitAction", message or payload(), data)


def dialog_card(body: Any) -> dict[str, Any]:
    """The Adaptive Card of a ``continue`` answer (a dialog)."""
    assert body["task"]["type"] == "continue", body
    card = body["task"]["value"]["card"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = card["content"]
    return content


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends back when the dialog's button is pressed: its data plus every input."""
    [button] = card["actions"]
    assert button["type"] == "Action.Submit"
    return {**button["data"], **input_values(card)}


async def count(client: Client, model: Any) -> int:
    async with client.app[keys.SESSIONMAKER]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_fetch_task_prefills_the_form_in_pt_br(
    bot_client: Client, user: TeamsUser, connector: FakeConnector
) -> None:
    connector.add_member(
        GROUP, {"id": "29:bruno", "aadObjectId": AUTHOR_OID, "email": "bruno@contoso.example"}
    )
    body = await user.send(fetch(user))
    assert body["task"]["value"]["title"] == "Abrir chamado"
    card = dialog_card(body)
    values = input_values(card)
    assert values["title"] == "A impressora do 2º andar não imprime"
    assert values["description"] == (
        "A impressora do 2º andar não imprime\n\n"
        'Desde ontem a fila trava. Carla Dias, podem ver? Erro "49" & luz laranja.\n\n'
        "— De uma mensagem de Bruno Lima no chat “Suporte 2º andar”, 05/03/2025 17:07 UTC.\n"
        f"Link da mensagem: {LINK}"
    )
    assert (values["for_other"], values["beneficiary_name"]) == ("true", "Bruno Lima")
    assert values["beneficiary_email"] == "bruno@contoso.example"
    assert "Abrir chamado a partir da mensagem" in card_texts(card)
    ids = {key for key in values}
    assert ids <= set(INPUT_IDS)
    assert submit_data(card)["verb"] == "ticket.create"
    # Opening the dialog writes nothing anywhere: no user, no reference, no message.
    assert await count(bot_client, User) == 0
    assert connector.sent(GROUP) == [] and connector.sent(user.conversation_id) == []


async def test_fetch_task_in_english_for_ones_own_message_in_a_channel(user: TeamsUser) -> None:
    user.locale = "en-US"
    message = payload(author_oid=user.oid, author=user.name, link=None)
    channel = {
        "id": f"{CHANNEL};messageid=1741194420000",
        "conversationType": "channel",
        "isGroup": True,
        "tenantId": user.tenant,
    }
    data = {"channel": {"id": CHANNEL, "name": "Help desk"}, "team": {"id": TEAM}}
    body = await user.send(fetch(user, message, conversation=channel, channel_data=data))
    assert body["task"]["value"]["title"] == "Open ticket"
    card = dialog_card(body)
    values = input_values(card)
    assert values["description"].endswith(
        "— From a message by Ana Souza in the channel “Help desk”, Mar 5, 2025 5:07 PM UTC."
    )
    assert values["for_other"] == "false"
    assert values["beneficiary_name"] == "" and values["beneficiary_email"] == ""
    assert "Open a ticket from this message" in card_texts(card)


async def test_submit_opens_one_ticket_and_sends_its_card_to_the_personal_chat(
    bot_client: Client, user: TeamsUser, connector: FakeConnector, sandbox: SandboxServer
) -> None:
    await user.send(user.install())  # the 1:1 chat the card and replies will go to
    card = dialog_card(await user.send(fetch(user)))
    data = {**submit_data(card), "complexity": "media", "sector": "TI"}
    data["beneficiary_email"] = "bruno@contoso.example"
    body = await user.send(submit(user, data))
    assert body["task"]["type"] == "message"
    [record] = await conversations(sandbox)
    [first] = [m for m in record["messages"] if m["message_type"] == "incoming"]
    assert "Carla Dias, podem ver?" in first["content"]
    assert "De uma mensagem de Bruno Lima" in first["content"]
    assert record["custom_attributes"]["beneficiary"] == "Bruno Lima"
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        [ticket] = (await session.execute(select(Ticket))).scalars().all()
    assert body["task"]["value"] == (
        f"Chamado #{ticket.id} “A impressora do 2º andar não imprime” aberto. O cartão do "
        "chamado e as respostas do suporte chegam no seu chat com o app Chamados."
    )
    _welcome, delivered = await connector.wait_for(user.conversation_id, 2)
    assert delivered.card is not None and "A impressora do 2º andar" in card_texts(delivered.card)
    assert delivered.text is not None and f"#{ticket.id}" in delivered.text
    # Nothing was posted where the message lives, and the group chat is not a reference.
    assert connector.activities(GROUP) == []
    assert await count(bot_client, TeamsConversationRef) == 1
    # The card is now the ticket's card: an agent reply goes to the 1:1 chat too.
    await _wait_for_card_location(bot_client, ticket.id, delivered.activity_id)
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        answer = await http.post(
            f"/sandbox/api/conversations/{record['id']}/messages",
            json={"content": "Vou verificar a impressora.", "private": False, "agent": "Dora"},
        )
        answer.raise_for_status()
    replies = await connector.wait_for(user.conversation_id, 3)
    assert "Vou verificar a impressora." in card_texts(replies[-1].card)
    assert connector.activities(GROUP) == []


async def _wait_for_card_location(client: Client, ticket_id: int, activity_id: str | None) -> None:
    for _ in range(200):
        async with client.app[keys.SESSIONMAKER]() as session:
            ticket = await session.get(Ticket, ticket_id)
        if ticket is not None and ticket.teams_card_activity_id == activity_id:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the ticket's card location was never recorded")


def filled(card: dict[str, Any], **changes: str) -> dict[str, Any]:
    """The dialog's submit data with the choices made (and any other changes)."""
    return {**submit_data(card), "complexity": "media", "sector": "TI", **changes}


async def test_without_the_app_the_ticket_is_made_and_the_user_told_how_to_add_it(
    bot_client: Client, user: TeamsUser, connector: FakeConnector
) -> None:
    user.locale = "en-US"
    # Teams refuses a 1:1 chat with someone who has not installed the app personally.
    connector.script(CREATE_KEY, [not_installed()])
    message = payload(author_oid=user.oid, author=user.name)
    card = dialog_card(await user.send(fetch(user, message)))
    body = await user.send(submit(user, filled(card), message))
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        [ticket] = (await session.execute(select(Ticket))).scalars().all()
        requester = await session.get(User, ticket.requester_id)
    assert requester is not None and requester.entra_oid == user.oid
    assert requester.entra_tid == user.tenant
    line = body["task"]["value"]
    assert line.startswith(f"Ticket #{ticket.id} “A impressora do 2º andar não imprime” opened.")
    assert "add the Chamados app" in line
    assert line.endswith(f"/tickets/{ticket.id}")
    assert ticket.beneficiary_name is None  # the user's own message: for themselves
    assert await count(bot_client, OutboxItem) == 0
    assert connector.activities(GROUP) == [] and connector.created == []


async def test_a_user_we_never_talked_to_gets_a_personal_chat_opened_for_the_card(
    bot_client: Client, user: TeamsUser, connector: FakeConnector
) -> None:
    card = dialog_card(await user.send(fetch(user)))
    body = await user.send(submit(user, filled(card, beneficiary_email="b@contoso.example")))
    assert "chegam no seu chat com o app Chamados" in body["task"]["value"]
    [created] = connector.created
    assert created["members"] == [{"id": user.oid}]
    assert created["channelData"] == {"tenant": {"id": user.tenant}}
    [delivered] = await connector.wait_for(created["id"], 1)
    assert delivered.card is not None and "A impressora do 2º andar" in card_texts(delivered.card)
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        [ref] = (await session.execute(select(TeamsConversationRef))).scalars().all()
    assert ref.conversation_id == created["id"]
    assert connector.activities(GROUP) == []


async def test_a_double_submit_makes_one_ticket_and_one_card(
    bot_client: Client, user: TeamsUser, connector: FakeConnector, sandbox: SandboxServer
) -> None:
    await user.send(user.install())
    card = dialog_card(await user.send(fetch(user)))
    data = filled(card, beneficiary_email="bruno@contoso.example")
    first, second = await asyncio.gather(
        user.send(submit(user, data)), user.send(submit(user, data))
    )
    # A later retry with a fresh dialog on the same message, and its button's formId lost.
    again = await user.send(submit(user, {**data, "formId": "forged-form"}))
    assert first == second == again
    assert len(await conversations(sandbox)) == 1
    assert await count(bot_client, Ticket) == 1
    assert await count(bot_client, OutboxItem) == 1
    await connector.wait_for(user.conversation_id, 2)


async def test_an_empty_message_opens_an_empty_form_that_is_validated(
    bot_client: Client, user: TeamsUser
) -> None:
    message = payload("<div><img src='https://x.example/a.png'></div>", link=None)
    card = dialog_card(await user.send(fetch(user, message)))
    values = input_values(card)
    assert values["title"] == ""
    assert values["description"] == (
        "— De uma mensagem de Bruno Lima no chat “Suporte 2º andar”, 05/03/2025 17:07 UTC."
    )
    assert "A mensagem não tem texto" in card_texts(card)
    body = await user.send(submit(user, filled(card), message))
    again = dialog_card(body)
    assert "Informe um título." in card_texts(again)
    assert input_values(again)["description"] == values["description"]
    assert await count(bot_client, Ticket) == 0


async def test_an_over_long_message_is_cut_to_the_limits(
    bot_client: Client, user: TeamsUser
) -> None:
    first_line = "Falha " * 60
    message = payload(f"<p>{first_line}</p>" + "<p>" + "linha de log 0x12 " * 1200 + "</p>")
    card = dialog_card(await user.send(fetch(user, message)))
    values = input_values(card)
    assert len(values["title"]) == 120 and values["title"].endswith("…")
    assert len(values["description"]) <= 5000
    assert "[…] (mensagem cortada)" in values["description"]
    assert values["description"].endswith(f"Link da mensagem: {LINK}")
    assert "A mensagem é longa" in card_texts(card)
    body = await user.send(submit(user, filled(card, beneficiary_email="b@contoso.example")))
    assert body["task"]["type"] == "message"
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        [ticket] = (await session.execute(select(Ticket))).scalars().all()
    assert ticket.description == values["description"].strip()


async def test_tampered_fields_are_validated_like_the_form(
    bot_client: Client, user: TeamsUser
) -> None:
    card = dialog_card(await user.send(fetch(user)))
    tampered = filled(
        card,
        description="x" * 5001,
        sector="Diretoria secreta",
        beneficiary_email="not-an-address",
    )
    again = dialog_card(await user.send(submit(user, tampered)))
    text = card_texts(again)
    assert "A descrição pode ter no máximo 5.000 caracteres." in text
    assert "Escolha uma das opções da lista." in text
    assert "Informe um e-mail válido, como nome@empresa.com." in text
    kept = input_values(again)
    assert kept["beneficiary_email"] == "not-an-address"
    assert kept["title"] == "A impressora do 2º andar não imprime"
    # Another verb, a non-string input or another command: refused, nothing made.
    for data in ({**tampered, "verb": "ticket.open"}, {**tampered, "title": ["x"]}):
        body = await user.send(submit(user, data))
        assert body["task"] == {
            "type": "message",
            "value": "Não entendi esse botão. Digite “ajuda” para ver o que sei fazer.",
        }
    other = submit(user, filled(card, beneficiary_email="b@contoso.example"))
    other["value"]["commandId"] = "somethingElse"
    assert (await user.send(other))["task"]["type"] == "message"
    assert await count(bot_client, Ticket) == 0


async def test_an_action_without_a_message_or_identity_is_answered_plainly(
    bot_client: Client, user: TeamsUser
) -> None:
    body = await user.send(invoke(user, "composeExtension/fetchTask", None))
    assert body["task"] == {
        "type": "message",
        "value": "Use esta ação pelo menu “…” de uma mensagem.",
    }
    anonymous = fetch(user)
    anonymous["from"] = {"id": "29:someone", "name": "Sem Entra"}
    body = await user.send(anonymous)
    assert "Não consegui identificar sua conta do Teams" in body["task"]["value"]
    assert await count(bot_client, User) == 0


async def test_unsigned_or_foreign_invokes_are_refused(bot_client: Client, user: TeamsUser) -> None:
    card = dialog_card(await user.send(fetch(user)))
    status, _ = await user.post(submit(user, filled(card)), authorization=None)
    assert status == 401
    stranger = submit(user, filled(card))
    header = user.authorization(stranger)  # signed for our connector's serviceUrl …
    stranger["serviceUrl"] = "https://evil.example/"  # … replayed with another one
    status, _ = await user.post(stranger, authorization=header)
    assert status == 401
    assert await count(bot_client, Ticket) == 0


async def test_an_invoke_from_another_tenant_is_refused_like_any_activity(
    bot_client: Client, user: TeamsUser, connector: FakeConnector, sandbox: SandboxServer
) -> None:
    card = dialog_card(await user.send(fetch(user)))
    stranger = TeamsUser(
        user.endpoint, connector, user.idp, tenant="99999999-8888-4777-8666-555555555555"
    )
    for activity in (
        fetch(stranger),
        submit(stranger, filled(card, beneficiary_email="b@c.example")),
    ):
        status, body = await stranger.post(activity)
        assert (status, body) == (403, {"error": "tenant not allowed"})
    assert await count(bot_client, User) == 0
    assert await conversations(sandbox) == []


async def test_helpdesk_down_keeps_the_dialog_and_what_was_typed(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    card = dialog_card(await user.send(fetch(user)))
    data = filled(card, beneficiary_email="bruno@contoso.example", title="Impressora parada")
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        (await http.post("/sandbox/api/faults", json={"http_status": 503})).raise_for_status()
        again = dialog_card(await user.send(submit(user, data)))
        assert "O suporte está indisponível no momento" in card_texts(again)
        assert input_values(again)["title"] == "Impressora parada"
        assert input_values(again)["beneficiary_email"] == "bruno@contoso.example"
        (await http.post("/sandbox/api/faults", json={})).raise_for_status()
    body = await user.send(submit(user, submit_data(again)))
    assert body["task"]["type"] == "message"
    [record] = await conversations(sandbox)
    assert record["custom_attributes"]["title"] == "Impressora parada"
