"""The bot end to end through the real auth path: install, commands, the form, history, replies."""

from __future__ import annotations

from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from db.models import ReferenceState, TeamsConversationRef, Ticket, User
from sandbox import SandboxServer
from tests.bot.harness import TeamsUser, card_texts, find_action, input_values
from tickets import keys

FORM = {
    "title": "Impressora do 2º andar não imprime",
    "description": "Desde ontem a fila trava no primeiro documento.",
    "complexity": "media",
    "sector": "TI",
    "for_other": "true",
    "beneficiary_name": "Bruno Lima",
    "beneficiary_email": "bruno@contoso.example",
}

Client = TestClient[web.Request, web.Application]


async def conversations(sandbox: SandboxServer) -> list[dict[str, Any]]:
    """The sandbox's record of truth."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/sandbox/api/conversations")
        answer.raise_for_status()
        records: list[dict[str, Any]] = answer.json()
        return records


async def open_form(user: TeamsUser) -> tuple[str, str]:
    """Type "novo chamado"; return the form card's message id and its formId."""
    await user.send(user.message("Novo   Chamado"))
    form_message = user.inbox()[-1]
    assert form_message.card is not None and form_message.activity_id is not None
    create = find_action(form_message.card, "ticket.create")
    return form_message.activity_id, str(create["data"]["formId"])


async def test_install_sends_the_welcome_card_and_stores_the_reference(
    bot_client: Client, user: TeamsUser
) -> None:
    await user.send(user.install())
    [welcome] = user.inbox()
    assert welcome.card is not None
    assert "Olá! Eu abro e acompanho seus chamados" in card_texts(welcome.card)
    assert find_action(welcome.card, "ticket.new") and find_action(welcome.card, "ticket.list")
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        user_row = (await session.execute(select(User))).scalar_one()
        ref = (await session.execute(select(TeamsConversationRef))).scalar_one()
    assert (user_row.entra_oid, user_row.display_name) == (user.oid, "Ana Souza")
    # The e-mail came from the roster (GET member), asked once, when the user was new.
    assert user_row.email == f"{user.oid[:8]}@contoso.example"
    assert ref.conversation_id == user.conversation_id
    assert ref.service_url == user.connector.url
    assert ref.reference["conversation"]["id"] == user.conversation_id
    assert ref.reference["user"]["aadObjectId"] == user.oid
    assert ref.state is ReferenceState.ACTIVE


async def test_english_locale_gets_english_cards(user: TeamsUser) -> None:
    user.locale = "en-US"
    await user.send(user.install())
    await user.send(user.message("HELP"))
    welcome, help_card = user.inbox()
    assert "I open and follow your helpdesk tickets" in card_texts(welcome.card)
    assert "How I can help" in card_texts(help_card.card)


async def test_commands_are_understood_loosely(user: TeamsUser) -> None:
    for text in ("novo", "NOVO chamado!", "new ticket", "  New  "):
        await user.send(user.message(text))
        assert find_action(user.last_card(), "ticket.create"), text
    for text in ("meus chamados", "Meus Chamados.", "chamados", "my tickets", "tickets"):
        await user.send(user.message(text))
        assert "Meus chamados" in card_texts(user.last_card()), text
    for text in ("ajuda", "Ajúda", "help", "/help"):
        await user.send(user.message(text))
        assert "Como posso ajudar" in card_texts(user.last_card()), text


async def test_free_text_without_a_current_ticket_gets_a_short_help(user: TeamsUser) -> None:
    await user.send(user.message("minha impressora quebrou"))
    line, card = user.inbox()
    assert line.text is not None and "novo chamado" in line.text
    assert line.activity["textFormat"] == "plain"
    assert card.card is not None and "Como posso ajudar" in card_texts(card.card)


async def test_invalid_form_comes_back_with_errors_and_input_kept(user: TeamsUser) -> None:
    message_id, form_id = await open_form(user)
    typed = {"title": "ab", "description": "x", "complexity": "urgente", "sector": "TI"}
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **typed}, message_id))
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    card = body["value"]
    values = input_values(card)
    assert (values["title"], values["description"], values["sector"]) == ("ab", "x", "TI")
    text = card_texts(card)
    assert "O título deve ter de 3 a 120 caracteres." in text
    assert "Escolha uma das opções da lista." in text
    # Same form id, so a later valid submit is still one ticket.
    assert find_action(card, "ticket.create")["data"]["formId"] == form_id


async def test_execute_submit_opens_one_ticket_with_every_field(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, form_id = await open_form(user)
    invoke = user.execute("ticket.create", {"formId": form_id, **FORM}, message_id)
    body = await user.send(invoke)
    card = body["value"]
    assert FORM["title"] in card_texts(card)
    assert find_action(card, "ticket.reply") and find_action(card, "ticket.refresh")
    # The very same invoke again (a retry) and a fresh click on the same form: still one ticket.
    again = await user.send(invoke)
    await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    assert (
        find_action(again["value"], "ticket.reply")["data"]
        == find_action(card, "ticket.reply")["data"]
    )
    [record] = await conversations(sandbox)
    attributes = record["custom_attributes"]
    assert attributes["title"] == FORM["title"]
    assert (attributes["complexity"], attributes["sector"]) == ("media", "TI")
    assert attributes["requester"] == "Ana Souza"
    assert attributes["beneficiary"] == "Bruno Lima"
    assert attributes["beneficiary_email"] == "bruno@contoso.example"
    [first] = [m for m in record["messages"] if m["message_type"] == "incoming"]
    assert FORM["description"] in first["content"]
    async with bot_client.app[keys.SESSIONMAKER]() as session:
        [ticket] = (await session.execute(select(Ticket))).scalars().all()
        requester = await session.get(User, ticket.requester_id)
    assert ticket.chatwoot_conversation_id == record["id"]
    assert (ticket.teams_card_activity_id, ticket.teams_card_conversation_id) == (
        message_id,
        user.conversation_id,
    )
    assert requester is not None and requester.current_ticket_id == ticket.id


async def test_submit_fallback_replaces_the_form_in_place(
    bot_client: Client, user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, form_id = await open_form(user)
    submit = user.submit("ticket.create", {"formId": form_id, **FORM}, message_id)
    await user.send(submit)
    await user.send(submit)  # a double click
    updates = user.updates()
    assert len(updates) == 2
    assert all(u.activity_id == message_id for u in updates)
    assert updates[0].card is not None and FORM["title"] in card_texts(updates[0].card)
    assert find_action(updates[0].card, "ticket.reply")
    assert len(await conversations(sandbox)) == 1
    # Only the form went out as a message: the ticket card replaced it.
    assert len(user.inbox()) == 1


async def test_helpdesk_down_keeps_the_form_and_says_so(
    user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, form_id = await open_form(user)
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox.url}/sandbox/api/faults", json={"http_status": 503})
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    card = body["value"]
    assert "O suporte está indisponível no momento" in card_texts(card)
    assert input_values(card)["title"] == FORM["title"]
    assert input_values(card)["beneficiary_email"] == FORM["beneficiary_email"]
    async with httpx.AsyncClient() as http:
        await http.post(f"{sandbox.url}/sandbox/api/faults", json={})
    # The helpdesk is back: the same form goes through, once.
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    assert find_action(body["value"], "ticket.reply")
    assert len(await conversations(sandbox)) == 1


async def test_history_lists_tickets_and_opens_one(user: TeamsUser) -> None:
    await user.send(user.message("meus chamados"))
    assert "Você ainda não abriu nenhum chamado." in card_texts(user.last_card())
    for title in ("Primeiro chamado", "Segundo chamado"):
        message_id, form_id = await open_form(user)
        await user.send(
            user.execute("ticket.create", {"formId": form_id, **FORM, "title": title}, message_id)
        )
    await user.send(user.message("meus chamados"))
    history = user.last_card()
    text = card_texts(history)
    assert "Primeiro chamado" in text and "Segundo chamado" in text
    opened = find_action(history, "ticket.open")
    body = await user.send(
        user.execute("ticket.open", opened["data"], user.inbox()[-1].activity_id)
    )
    assert "Segundo chamado" in card_texts(body["value"])


async def test_replies_from_the_card_and_free_text_reach_the_helpdesk(
    user: TeamsUser, sandbox: SandboxServer
) -> None:
    message_id, form_id = await open_form(user)
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    reply = find_action(body["value"], "ticket.reply")
    body = await user.send(
        user.execute("ticket.reply", {**reply["data"], "reply": "Reiniciei e nada."}, message_id)
    )
    assert "Reiniciei e nada." in card_texts(body["value"])
    await user.send(user.message("Agora apareceu um erro 0x12"))
    confirmation = user.inbox()[-1]
    assert (
        confirmation.text
        == f"✉️ Mensagem enviada no chamado #{reply['data']['ticketId']} “{FORM['title']}”."
    )
    [record] = await conversations(sandbox)
    incoming = [m["content"] for m in record["messages"] if m["message_type"] == "incoming"]
    assert incoming[1:] == ["Reiniciei e nada.", "Agora apareceu um erro 0x12"]


async def test_uninstall_marks_the_reference_and_a_new_message_revives_it(
    bot_client: Client, user: TeamsUser
) -> None:
    await user.send(user.install())
    await user.send(user.uninstall())
    sessions = bot_client.app[keys.SESSIONMAKER]
    async with sessions() as session:
        ref = (await session.execute(select(TeamsConversationRef))).scalar_one()
    assert ref.state is ReferenceState.UNINSTALLED
    removed = user.activity("conversationUpdate", membersRemoved=[{"id": f"28:{user.app_id}"}])
    await user.send(removed)
    await user.send(user.message("ajuda"))
    async with sessions() as session:
        ref = (await session.execute(select(TeamsConversationRef))).scalar_one()
    assert ref.state is ReferenceState.ACTIVE
    assert len(user.inbox()) == 2  # the welcome and the help, nothing for the removals


async def test_bad_card_payloads_are_refused_politely(user: TeamsUser) -> None:
    status, body = await user.post(user.execute("ticket.open", {}))
    assert status == 400
    assert body["type"] == "application/vnd.microsoft.error"
    await user.send(user.submit("ticket.explode", {}))
    assert (
        user.inbox()[-1].text == "Não entendi esse botão. Digite “ajuda” para ver o que sei fazer."
    )


async def test_someone_elses_ticket_is_not_shown(user: TeamsUser, connector: Any) -> None:
    message_id, form_id = await open_form(user)
    body = await user.send(user.execute("ticket.create", {"formId": form_id, **FORM}, message_id))
    ticket_id = find_action(body["value"], "ticket.reply")["data"]["ticketId"]
    intruder = TeamsUser(user.endpoint, connector, user.idp, name="Eva")
    answer = await intruder.send(intruder.execute("ticket.open", {"ticketId": ticket_id}))
    assert FORM["title"] not in card_texts(answer["value"])
    assert "Você ainda não abriu nenhum chamado." in card_texts(answer["value"])
