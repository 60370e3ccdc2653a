"""Correct under real Chatwoot: events before the ticket commits, edits and deletes, Markdown."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.models import Message, Origin, ParkedEvent, Ticket
from sandbox import SandboxServer
from tests.test_ingest import (
    Client,
    control,
    count,
    eventually,
    form,
    make_ticket,
    new_user,
    payload,
    post_hook,
    state,
)
from tickets import keys


async def _patch(sandbox: SandboxServer, path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        response = await http.patch(f"/sandbox/api/{path}", json=body)
        response.raise_for_status()
        return response.json()


async def _delete(sandbox: SandboxServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        (await http.delete(f"/sandbox/api/{path}")).raise_for_status()


async def _ticket(client: Client, ticket_id: int) -> Ticket:
    ticket, _messages, _events = await state(client, ticket_id)
    return ticket


async def test_auto_assignment_inside_the_create_shows_at_once(
    app_client: Client, sandbox: SandboxServer
) -> None:
    await control(sandbox, "agents", {"name": "Rita Alves", "availability": "online"})
    await _patch(sandbox, "inbox", {"enable_auto_assignment": True})
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)

    async def assigned() -> bool:
        return (await _ticket(app_client, info.id)).assignee_name == "Rita Alves"

    # The periodic catch-up is minutes away and the Client API has no assignee: only the
    # events parked before the ticket committed can bring this.
    await eventually(assigned, timeout=5)
    await sandbox.drain_webhooks()
    assert await count(app_client, ParkedEvent) == 0


async def test_agent_replies_to_an_orphan_are_kept_when_it_is_adopted(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from tickets.errors import HelpdeskUnavailable

    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    await service.ensure_contact(user_id)
    app_client.app[keys.CHATWOOT]._http.timeout = httpx.Timeout(0.5)
    await control(sandbox, "faults", {"delay_after_ms": 1500})
    with pytest.raises(HelpdeskUnavailable):
        await service.open_ticket(user_id, form(), origin=Origin.WEB)
    await control(sandbox, "faults", {})
    await asyncio.sleep(1.6)  # the held answers of the failed attempt are done
    conversations = await control(sandbox, "conversations")
    (orphan,) = conversations if isinstance(conversations, list) else conversations["conversations"]
    await control(
        sandbox,
        f"conversations/{orphan['id']}/messages",
        {"content": "Já estou vendo, Ana.", "agent": "Rui"},
    )
    await sandbox.drain_webhooks()
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    assert info.chatwoot_conversation_id == orphan["id"]

    async def reply_shown() -> bool:
        items = await service.timeline(user_id, info.id)
        return [i.content for i in items if i.direction == "agent"] == ["Já estou vendo, Ana."]

    await eventually(reply_shown, timeout=5)
    # Catch-up may still read everything before our first message.
    ticket = await _ticket(app_client, info.id)
    adopted = await control(sandbox, f"conversations/{orphan['id']}")
    first = min(m["id"] for m in adopted["messages"])
    assert ticket.synced_message_id is None or ticket.synced_message_id < first


async def test_an_event_parked_in_another_process_is_replayed_when_the_ticket_commits(
    app_client: Client,
) -> None:
    """The webhook lands before the ticket row exists; the catch-up loop applies it later."""
    status, body = await post_hook(app_client, payload("conversation_updated.assigned.json"))
    assert status == 200 and body["outcomes"] == ["parked"]
    ticket = await make_ticket(app_client)  # conversation 123, committed by "another process"
    ingestor = app_client.app[keys.INGESTOR]
    assert await ingestor.replay_all_parked() == 1
    assert (await _ticket(app_client, ticket.id)).assignee_name is not None
    assert await count(app_client, ParkedEvent) == 0


async def _agent_reply(
    app_client: Client, sandbox: SandboxServer, content: str
) -> tuple[int, int, int]:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id
    sent = await control(
        sandbox, f"conversations/{cid}/messages", {"content": content, "agent": "Rui"}
    )

    async def stored() -> bool:
        _t, messages, _e = await state(app_client, info.id)
        return any(m.chatwoot_message_id == sent["id"] for m in messages)

    await eventually(stored)
    return info.id, cid, int(sent["id"])


async def _stored(app_client: Client, message_id: int) -> Message:
    async with app_client.app[keys.SESSIONMAKER]() as session:
        row = await session.scalar(select(Message).where(Message.chatwoot_message_id == message_id))
    assert row is not None
    return row


async def test_a_delete_hides_the_text_and_a_replayed_older_update_never_brings_it_back(
    app_client: Client, sandbox: SandboxServer
) -> None:
    ticket_id, cid, mid = await _agent_reply(app_client, sandbox, "a senha é hunter2")
    captured = payload("message_updated.json")
    captured["id"] = mid
    captured["conversation"]["id"] = cid
    captured["content"] = "a senha é hunter2"
    old_stamp = int(time.time()) - 60  # captured a minute ago, still inside the window
    await _delete(sandbox, f"conversations/{cid}/messages/{mid}")

    async def deleted() -> bool:
        return (await _stored(app_client, mid)).deleted

    await eventually(deleted)
    status, body = await post_hook(app_client, captured, timestamp=old_stamp)
    assert status == 200 and body["outcomes"] == ["dropped_stale"]
    row = await _stored(app_client, mid)
    assert row.deleted and row.content == "" and row.attachments == []
    service = app_client.app[keys.SERVICE]
    user_id = (await _ticket(app_client, ticket_id)).requester_id
    items = await service.timeline(user_id, ticket_id)
    assert all("hunter2" not in (i.content or "") for i in items)
    [gone] = [i for i in items if i.direction == "agent"]
    assert gone.to_json()["deleted"] is True and gone.attachments == []
    from i18n.catalog import client_catalog

    # The page script shows this marker for a deleted item, in the user's language.
    assert client_catalog("pt-BR")["ticket.deleted"] == "mensagem apagada"
    assert client_catalog("en")["ticket.deleted"] == "message deleted"


async def test_an_edit_shows_the_new_text_and_an_older_copy_does_not_undo_it(
    app_client: Client, sandbox: SandboxServer
) -> None:
    _ticket_id, cid, mid = await _agent_reply(app_client, sandbox, "reinicie o roteador")
    await _patch(sandbox, f"conversations/{cid}/messages/{mid}", {"content": "reinicie o notebook"})

    async def edited() -> bool:
        return (await _stored(app_client, mid)).content == "reinicie o notebook"

    await eventually(edited)
    older = payload("message_updated.json")
    older["id"] = mid
    older["conversation"]["id"] = cid
    older["content"] = "reinicie o roteador"
    status, body = await post_hook(app_client, older, timestamp=int(time.time()) - 120)
    assert body["outcomes"] == ["dropped_stale"], (status, body)
    assert (await _stored(app_client, mid)).content == "reinicie o notebook"


async def test_markdown_hard_breaks_are_normalised_whichever_copy_arrives_first(
    app_client: Client, sandbox: SandboxServer
) -> None:
    # Only the cable delivers: it carries the raw text the dashboard stored.
    await control(sandbox, "webhook", {"url": None})
    _ticket_id, _cid, mid = await _agent_reply(app_client, sandbox, "Olá\\\nTudo bem?\n\n")
    assert (await _stored(app_client, mid)).content == "Olá\nTudo bem?"


async def test_late_snapshots_converge_to_chatwoots_status(
    app_client: Client, sandbox: SandboxServer
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        answer = await http.patch(
            "/sandbox/api/switches", json={"late_snapshots": True, "snapshot_jitter_ms": 300}
        )
        answer.raise_for_status()
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    cid = info.chatwoot_conversation_id
    for status in ("resolved", "open", "resolved", "open"):
        await control(sandbox, f"conversations/{cid}/status", {"status": status, "agent": "Rui"})
    await sandbox.drain_webhooks()

    async def converged() -> bool:
        ticket, _messages, events = await state(app_client, info.id)
        kinds = [e.kind for e in events]
        # Every "resolved" line was followed by a "reopened" one: none is left standing.
        return ticket.status == "open" and kinds.count("resolved") == kinds.count("reopened")

    await eventually(converged, timeout=8)


async def test_catch_up_reads_forward_past_a_page(
    app_client: Client, sandbox: SandboxServer
) -> None:
    service = app_client.app[keys.SERVICE]
    relay = app_client.app[keys.RELAY]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    await relay.stop()  # no cable
    await control(sandbox, "webhook", {"url": None})  # no webhooks
    cid = info.chatwoot_conversation_id
    for n in range(101):
        await control(
            sandbox, f"conversations/{cid}/messages", {"content": f"r{n}", "agent": "Rui"}
        )
    assert await relay.catch_up() is True
    items = await service.timeline(user_id, info.id)
    assert [i.content for i in items if i.direction == "agent"] == [f"r{n}" for n in range(101)]
    ticket = await _ticket(app_client, info.id)
    assert ticket.synced_message_id is not None and ticket.synced_message_id >= 101


async def test_a_resolve_seen_in_a_later_open_snapshot_changes_nothing(app_client: Client) -> None:
    """The job ran after a quick reopen: its snapshot says open, whatever the change list says."""
    ticket = await make_ticket(app_client)
    late = payload("conversation_updated.resolved.json")
    late["status"] = "open"  # the conversation as the job re-read it
    status, body = await post_hook(app_client, late)
    assert status == 200 and body["outcomes"] == ["duplicate"]
    stored, _messages, events = await state(app_client, ticket.id)
    assert stored.status == "open" and [e.kind for e in events] == []


async def test_lock_to_single_conversation_is_refused_clearly_and_logged_once(
    app_client: Client, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    from tickets.errors import HelpdeskRejected
    from tickets.opening import LOCKED_TO_ONE_CONVERSATION

    await _patch(sandbox, "inbox", {"lock_to_single_conversation": True})
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    first = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    with pytest.raises(HelpdeskRejected) as refused:
        await service.open_ticket(user_id, form(title="Outro problema"), origin=Origin.WEB)
    assert refused.value.message == LOCKED_TO_ONE_CONVERSATION
    lines = [
        r.getMessage() for r in caplog.records if "lock_to_single_conversation" in r.getMessage()
    ]
    assert len(lines) == 1 and sandbox.config.inbox_identifier in lines[0]
    assert await count(app_client, Ticket) == 1
    # The first ticket's conversation got no second "first message".
    conversation = await control(sandbox, f"conversations/{first.chatwoot_conversation_id}")
    assert len([m for m in conversation["messages"] if m["message_type"] == "incoming"]) == 1


async def test_a_known_conversation_of_another_contact_is_refused(
    app_client: Client, sandbox: SandboxServer
) -> None:
    from tickets.errors import HelpdeskRejected
    from tickets.opening import CONVERSATION_OF_ANOTHER_CONTACT

    # This database already holds the id the helpdesk will hand out next (it lost its data,
    # or the database belonged to another Chatwoot).
    conversations = await control(sandbox, "conversations")
    existing = conversations if isinstance(conversations, list) else conversations["conversations"]
    await make_ticket(app_client, conversation_id=1 + max((c["id"] for c in existing), default=0))
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client, "bia@example.com")
    with pytest.raises(HelpdeskRejected) as refused:
        await service.open_ticket(user_id, form(), origin=Origin.WEB)
    assert refused.value.message == CONVERSATION_OF_ANOTHER_CONTACT
    assert await count(app_client, Ticket) == 1


async def test_labels_are_merged_with_what_an_automation_set() -> None:
    from chatwoot.client import ChatwootClient
    from sandbox import SandboxConfig

    async with SandboxServer(SandboxConfig(api_access_token="app-token")) as sb:
        async with ChatwootClient(
            sb.url, sb.config.inbox_identifier, api_access_token="app-token", account_id=1
        ) as chatwoot:
            contact = await chatwoot.create_contact(source_id="tft-labels", name="Ana")
            conversation = await chatwoot.create_conversation(contact.source_id)
            cid = conversation.id
            # An automation rule labelled the conversation at creation.
            await control(sb, f"conversations/{cid}/labels", {"labels": ["vip"]})
            assert await chatwoot.set_labels_and_priority(cid, ["setor-ti"], "high")
        record = await control(sb, f"conversations/{cid}")
    assert sorted(record["labels"]) == ["setor-ti", "vip"]
    assert record["priority"] == "high"


async def test_a_bot_question_keeps_its_options(app_client: Client, sandbox: SandboxServer) -> None:
    service = app_client.app[keys.SERVICE]
    user_id = await new_user(app_client)
    info = await service.open_ticket(user_id, form(), origin=Origin.WEB)
    items = [{"title": "Sim", "value": "sim"}, {"title": "Não", "value": "nao"}]
    await control(
        sandbox,
        f"conversations/{info.chatwoot_conversation_id}/messages",
        {
            "content": "Resolveu?",
            "message_type": "template",
            "content_type": "input_select",
            "content_attributes": {"items": items},
        },
    )

    async def question() -> list[Any]:
        return [i for i in await service.timeline(user_id, info.id) if i.content == "Resolveu?"]

    async def arrived() -> bool:
        return bool(await question())

    await eventually(arrived)
    [asked] = await question()
    assert asked.to_json()["options"] == ["Sim", "Não"]
    row = await _stored(app_client, (await _chatwoot_id(app_client, asked.id)))
    assert row.content_type == "input_select" and row.content_attributes["items"] == items


async def _chatwoot_id(app_client: Client, message_id: int) -> int:
    async with app_client.app[keys.SESSIONMAKER]() as session:
        found = await session.scalar(
            select(Message.chatwoot_message_id).where(Message.id == message_id)
        )
    assert found is not None
    return int(found)


async def test_a_database_refuses_another_chatwoot_or_inbox_at_start(database_url: str) -> None:
    from tests.conftest import make_settings
    from tickets.binding import check_helpdesk_binding
    from tickets.settings import SettingsError

    def configured(base: str, inbox: str) -> Any:
        return make_settings(
            DATABASE_URL=database_url, CHATWOOT_BASE_URL=base, CHATWOOT_INBOX_IDENTIFIER=inbox
        )

    first = configured("https://chat.example.com/", "inboxAAAA")
    await check_helpdesk_binding(first, sandbox=False)
    await check_helpdesk_binding(configured("https://chat.example.com", "inboxAAAA"), sandbox=False)
    for base, inbox in (
        ("https://other.example.com", "inboxAAAA"),
        ("https://chat.example.com", "inboxBBBB"),
    ):
        with pytest.raises(SettingsError) as refused:
            await check_helpdesk_binding(configured(base, inbox), sandbox=False)
        assert "https://chat.example.com inbox inboxAAAA" in str(refused.value)
        assert f"not {base} inbox {inbox}" in str(refused.value)


async def test_a_delete_that_overtakes_its_create_keeps_the_message_deleted(
    app_client: Client,
) -> None:
    ticket = await make_ticket(app_client)
    deleted = payload("message_updated.json")
    deleted["content"] = "This message was deleted"
    deleted["content_attributes"] = {"deleted": True}
    created = payload("message_created.outgoing.json")
    created["id"] = deleted["id"]
    created["content"] = "a senha é hunter2"
    assert (await post_hook(app_client, deleted))[1]["outcomes"] == ["stored"]
    assert (await post_hook(app_client, created))[1]["outcomes"] == ["duplicate"]
    _t, messages, _e = await state(app_client, ticket.id)
    assert [(m.deleted, m.content) for m in messages] == [(True, "")]


async def test_an_older_assignee_snapshot_arriving_late_does_not_undo_a_newer_one(
    app_client: Client,
) -> None:
    """Jobs run unordered: Rita's snapshot lands before Sam's older one, and Rita stays."""
    ticket = await make_ticket(app_client)
    newer = payload("conversation_updated.assigned.json")
    newer["meta"]["assignee"] = {"id": 4, "name": "Rita Alves", "type": "user"}
    newer["changed_attributes"] = [{"assignee_id": {"previous_value": 3, "current_value": 4}}]
    older = payload("conversation_updated.assigned.json")
    older["updated_at"] = newer["updated_at"] - 60
    status, body = await post_hook(app_client, newer)
    assert status == 200 and body["outcomes"] == ["stored"], body
    status, body = await post_hook(app_client, older)
    assert status == 200 and body["outcomes"] == ["dropped_stale"], body
    stored, _messages, events = await state(app_client, ticket.id)
    assert stored.assignee_name == "Rita Alves"
    assert [e.kind for e in events] == ["assigned"]
    # The same snapshot again (a duplicate delivery) changes nothing either.
    status, body = await post_hook(app_client, newer)
    assert status == 200 and body["outcomes"] == ["duplicate"], body
