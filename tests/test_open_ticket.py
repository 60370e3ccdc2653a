"""Opening a ticket through the service: every field in Chatwoot, failures, retries, adoption."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from db.models import Ticket, User
from sandbox import SandboxServer
from tests.helpdesk import (
    Client,
    control,
    count,
    form,
    new_user,
    sandbox_conversations,
)
from tickets import keys


async def test_open_ticket_puts_every_field_in_chatwoot(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(
        user_id,
        form(for_other="on", beneficiary_name="Bia Lima", beneficiary_email="bia@example.com"),
        origin=Origin.WEB,
    )
    conversations = await sandbox_conversations(sandbox)
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation["id"] == info.chatwoot_conversation_id
    attributes = conversation["custom_attributes"]
    assert attributes["title"] == "VPN não conecta"
    assert attributes["complexity"] == "media"
    assert attributes["sector"] == "TI"
    assert attributes["requester"] == "Ana Souza"
    assert attributes["beneficiary"] == "Bia Lima"
    assert attributes["beneficiary_email"] == "bia@example.com"
    first = conversation["messages"][0]
    assert first["content"] == "VPN não conecta\n\nDesde ontem."
    items = await service.timeline(user_id, info.id)
    assert [(i.direction, i.content) for i in items] == [("requester", first["content"])]
    # A second ticket reuses the same Chatwoot contact.
    await service.open_ticket(user_id, form(title="Outro"), origin=Origin.WEB)
    conversations = await sandbox_conversations(sandbox)
    sources = {
        c["contact"]["source_id"] if "contact" in c else c.get("source_id") for c in conversations
    }
    assert len(conversations) == 2 and len(sources) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"http_status": 500},
        {"http_status": 429},
        {"http_status": 503, "count": 1},
        {"delay_after_ms": 1500},
    ],
)
async def test_open_ticket_while_chatwoot_fails_leaves_nothing_and_retry_makes_one(
    app_client: Client, sandbox: SandboxServer, fault: dict[str, Any]
) -> None:
    from db.models import Origin
    from tickets.errors import HelpdeskUnavailable

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    await service.ensure_contact(user_id)
    app_client.app[keys.CHATWOOT]._http.timeout = httpx.Timeout(0.5)
    await control(sandbox, "faults", fault)
    with pytest.raises(HelpdeskUnavailable):
        await service.open_ticket(user_id, form(), origin=Origin.WEB)
    assert await count(app_client, Ticket) == 0
    await control(sandbox, "faults", {})
    await asyncio.sleep(0.02 if "delay_after_ms" not in fault else 1.6)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    conversations = await sandbox_conversations(sandbox)
    assert [c["id"] for c in conversations] == [info.chatwoot_conversation_id]
    first_messages = [m for m in conversations[0]["messages"] if m["message_type"] == "incoming"]
    assert len(first_messages) == 1
    assert await count(app_client, Ticket) == 1


async def test_idempotency_key_makes_one_ticket(app_client: Client, sandbox: SandboxServer) -> None:
    from db.models import Origin

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    first = await service.open_ticket(user_id, form(), origin=Origin.TEAMS, idempotency_key="f1")
    again = await service.open_ticket(user_id, form(), origin=Origin.TEAMS, idempotency_key="f1")
    assert first.id == again.id
    assert len(await sandbox_conversations(sandbox)) == 1


async def test_an_orphan_is_adopted_only_by_the_request_that_made_it(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin
    from tickets.errors import HelpdeskUnavailable

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    await service.ensure_contact(user_id)
    app_client.app[keys.CHATWOOT]._http.timeout = httpx.Timeout(0.5)  # the slow fault must time out
    await control(sandbox, "faults", {"delay_after_ms": 1500})
    with pytest.raises(HelpdeskUnavailable):
        await service.open_ticket(user_id, form(title="Impressora"), origin=Origin.WEB)
    await control(sandbox, "faults", {})
    await asyncio.sleep(1.6)
    other = await service.open_ticket(user_id, form(title="VPN fora do ar"), origin=Origin.WEB)
    retried = await service.open_ticket(user_id, form(title="Impressora"), origin=Origin.WEB)
    conversations = {c["id"]: c for c in await sandbox_conversations(sandbox)}
    assert len(conversations) == 2
    first_of = {cid: c["messages"][0]["content"] for cid, c in conversations.items()}
    assert first_of[other.chatwoot_conversation_id].startswith("VPN fora do ar")
    assert first_of[retried.chatwoot_conversation_id].startswith("Impressora")
    # The empty orphan carries the interrupted request's title: only its retry may take it.
    title_of = {cid: c["custom_attributes"]["title"] for cid, c in conversations.items()}
    assert title_of[other.chatwoot_conversation_id] == "VPN fora do ar"
    assert title_of[retried.chatwoot_conversation_id] == "Impressora"


async def test_current_ticket_and_recent_are_owner_scoped(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin
    from tickets.errors import TicketNotFound

    service = app_client.app[keys.SERVICE]
    ana = await new_user(app_client, "ana@example.com")
    bia = await new_user(app_client, "bia@example.com")
    mine = await service.open_ticket(ana, form(), origin=Origin.WEB)
    theirs = await service.open_ticket(bia, form(title="Outro"), origin=Origin.WEB)
    await service.set_current_ticket(ana, theirs.id)
    await service.set_current_ticket(ana, 999_999_999)  # unknown id: no error, no change
    async with app_client.app[keys.SESSIONMAKER]() as session:
        user = await session.get(User, ana)
        assert user is not None
        assert user.current_ticket_id == mine.id
    for n in range(25):
        await service.post_message(ana, mine.id, f"m{n}", origin=Origin.WEB)
    recent = await service.recent(ana, mine.id, limit=5)
    assert [item.content for item in recent] == ["m20", "m21", "m22", "m23", "m24"]
    with pytest.raises(TicketNotFound):
        await service.recent(ana, theirs.id)


async def test_the_service_refuses_a_bad_form_before_chatwoot_hears_of_it(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from db.models import Origin
    from tickets.errors import FormInvalid

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    typed = {"title": "Impressora", "complexity": "enorme", "sector": "TI", "description": "x"}
    with pytest.raises(FormInvalid) as caught:
        await service.open_ticket(user_id, typed, origin=Origin.WEB)
    assert caught.value.errors == {"complexity": "invalid_choice"}
    assert caught.value.values["title"] == "Impressora"  # what was typed is kept
    assert await sandbox_conversations(sandbox) == []
    assert await count(app_client, Ticket) == 0
