"""Catch-up repairs what a fault lost: the assignee (Application API) and deletes below the mark."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from chatwoot.events import AssigneeChanged, EventSource
from db.models import Origin, TicketEvent
from sandbox import SandboxServer
from tests.conftest import aim_webhooks, settings_for
from tests.helpdesk import Client, control, form, new_user, state
from tests.waiting import eventually
from tickets import keys
from tickets.app import create_app

APP_TOKEN = "app-token-catch-up"


@pytest.fixture
async def admin_client(database_url: str, sandbox: SandboxServer) -> AsyncIterator[Client]:
    """The real app with the Application API configured (token and account id)."""
    sandbox.config.api_access_token = APP_TOKEN
    settings = settings_for(
        database_url,
        sandbox,
        CHATWOOT_API_ACCESS_TOKEN=APP_TOKEN,
        CHATWOOT_ACCOUNT_ID=sandbox.config.account_id,
    )
    app = create_app(settings)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await aim_webhooks(sandbox, client)
        yield client


async def _deaf(client: Client, sandbox: SandboxServer) -> None:
    """Lose every live copy from now on: no cable, no webhooks (a fault on both paths)."""
    await client.app[keys.RELAY].stop()
    await control(sandbox, "webhook", {"url": None})


def _assignments(events: list[TicketEvent]) -> list[str]:
    # Labels and priority, set through the same API at creation, add an "updated" line.
    return [e.kind for e in events if e.kind in ("assigned", "unassigned")]


async def test_an_assignment_lost_on_both_paths_is_read_back(
    admin_client: Client, sandbox: SandboxServer
) -> None:
    service = admin_client.app[keys.SERVICE]
    user_id = await new_user(admin_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    await _deaf(admin_client, sandbox)
    cid = info.chatwoot_conversation_id
    await control(sandbox, "agents", {"name": "Rita Alves"})
    await control(sandbox, f"conversations/{cid}/assign", {"agent": "Rita Alves"})
    ticket, _messages, _events = await state(admin_client, info.id)
    assert ticket.assignee_name is None  # nothing reached us live

    assert await admin_client.app[keys.RELAY].catch_up() is True
    ticket, _messages, events = await state(admin_client, info.id)
    assert ticket.assignee_name == "Rita Alves"
    assert _assignments(events) == ["assigned"]
    shown = await service.get_ticket(user_id, info.id)
    assert shown.assignee == "Rita Alves"
    # A second catch-up finds nothing new: no second timeline line.
    assert await admin_client.app[keys.RELAY].catch_up() is True
    _ticket, _messages, events = await state(admin_client, info.id)
    assert _assignments(events) == ["assigned"]

    await control(sandbox, f"conversations/{cid}/assign", {"agent": None})
    assert await admin_client.app[keys.RELAY].catch_up() is True
    ticket, _messages, events = await state(admin_client, info.id)
    assert ticket.assignee_name is None
    assert _assignments(events) == ["assigned", "unassigned"]


async def test_a_delete_lost_below_the_watermark_is_applied_by_catch_up(
    admin_client: Client, sandbox: SandboxServer
) -> None:
    service = admin_client.app[keys.SERVICE]
    relay = admin_client.app[keys.RELAY]
    user_id = await new_user(admin_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id
    sent = await control(
        sandbox, f"conversations/{cid}/messages", {"content": "senha: hunter2", "agent": "Rui"}
    )

    async def stored() -> bool:
        _ticket, messages, _events = await state(admin_client, info.id)
        return any(m.chatwoot_message_id == sent["id"] for m in messages)

    await eventually(stored)
    await _deaf(admin_client, sandbox)
    assert await relay.catch_up() is True
    ticket, _messages, _events = await state(admin_client, info.id)
    assert ticket.synced_message_id is not None and ticket.synced_message_id >= sent["id"]
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        answer = await http.delete(f"/sandbox/api/conversations/{cid}/messages/{sent['id']}")
        answer.raise_for_status()

    assert await relay.catch_up() is True
    _ticket, messages, _events = await state(admin_client, info.id)
    [reply] = [m for m in messages if m.chatwoot_message_id == sent["id"]]
    assert reply.deleted and reply.content == ""
    items = await service.timeline(user_id, info.id)
    assert all("hunter2" not in item.content for item in items)
    # Read again, the deleted message stays as it is (a delete is final, nothing repeats).
    assert await relay.catch_up() is True
    _ticket, again, _events = await state(admin_client, info.id)
    assert [(m.id, m.deleted) for m in again] == [(m.id, m.deleted) for m in messages]


async def test_the_periodic_catch_up_repairs_an_assignee_a_late_snapshot_undid(
    database_url: str, sandbox: SandboxServer
) -> None:
    sandbox.config.api_access_token = APP_TOKEN
    settings = settings_for(
        database_url,
        sandbox,
        CHATWOOT_API_ACCESS_TOKEN=APP_TOKEN,
        CHATWOOT_ACCOUNT_ID=sandbox.config.account_id,
        CHATWOOT_CATCH_UP_SECONDS=5,
    )
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        await aim_webhooks(sandbox, client)
        service = client.app[keys.SERVICE]
        user_id = await new_user(client)
        info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
        cid = info.chatwoot_conversation_id
        await control(sandbox, "agents", {"name": "Rita Alves"})
        await control(sandbox, f"conversations/{cid}/assign", {"agent": "Rita Alves"})

        async def assignee_is(name: str | None) -> bool:
            ticket, _messages, _events = await state(client, info.id)
            return ticket.assignee_name == name

        await eventually(lambda: assignee_is("Rita Alves"))
        # A snapshot built before the assignment, delivered after it (unordered jobs): its
        # Chatwoot time is older than the one applied, so it loses at once.
        late = AssigneeChanged(
            conversation_id=cid,
            inbox_id=None,
            assignee_name=None,
            assignee_id=None,
            occurred_at=datetime.now(UTC) - timedelta(seconds=30),
            source=EventSource.WEBHOOK,
        )
        assert await client.app[keys.INGESTOR].ingest(late) == "dropped_stale"
        assert await assignee_is("Rita Alves")
        # A read taken before the assignment and applied after it carries our clock, not
        # Chatwoot's, so nothing can date it: it undoes Rita...
        raced = dataclasses.replace(late, source=EventSource.CATCHUP)
        assert await client.app[keys.INGESTOR].ingest(raced) == "stored"
        # ...and with nothing else happening in Chatwoot, the periodic read puts her back.
        await eventually(lambda: assignee_is("Rita Alves"), timeout=20)


def test_the_catch_up_period_is_bounded() -> None:
    from pydantic import ValidationError

    from tests.conftest import make_settings

    assert make_settings().CHATWOOT_CATCH_UP_SECONDS == 300
    for bad in (0, 1, 10**6):
        with pytest.raises(ValidationError, match="CHATWOOT_CATCH_UP_SECONDS"):
            make_settings(CHATWOOT_CATCH_UP_SECONDS=bad)
