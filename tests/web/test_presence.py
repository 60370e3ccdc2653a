"""Presence on the web: unread counts and previews, read receipts, typing both ways, live list."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from sandbox import SandboxServer
from tests.waiting import eventually
from tests.web.conftest import Client, MakeWeb, open_ticket, signup


def _origin(client: Client) -> str:
    return str(client.make_url("/")).rstrip("/")


async def _agent(sandbox: SandboxServer, conversation: int, action: str, body: Any) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{sandbox.url}/sandbox/api/conversations/{conversation}/{action}", json=body
        )
        answer.raise_for_status()


async def _record(sandbox: SandboxServer, conversation: int) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{sandbox.url}/sandbox/api/conversations/{conversation}")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


async def _frames_until(socket: Any, predicate: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.receive_json()
            frames.append(frame)
            if predicate(frame):
                return frames


async def _ticket(client: Client, ticket_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/conversations/{ticket_id}")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_unread_and_last_message_then_seen_tells_chatwoot_once(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com", name="Ana Souza")
    ticket = await open_ticket(web_client, csrf)
    conversation = ticket["chatwootConversationId"]
    assert ticket["unread"] == 0
    fresh = await _ticket(web_client, ticket["id"])
    assert fresh["lastMessage"]["author"] == "Ana Souza"
    assert fresh["lastMessage"]["content"].endswith("Não imprime.")
    await _agent(sandbox, conversation, "messages", {"content": "Vou olhar.", "agent": "Rita"})
    await _agent(sandbox, conversation, "messages", {"content": "Reinicie.", "agent": "Rita"})
    await _agent(sandbox, conversation, "messages", {"content": "nota", "private": True})

    async def two_unread() -> bool:
        return (await _ticket(web_client, ticket["id"]))["unread"] == 2

    await eventually(two_unread)
    now = await _ticket(web_client, ticket["id"])
    assert now["lastMessage"]["author"] == "Rita"
    assert now["lastMessage"]["content"] == "Reinicie."
    listed = await (await web_client.get("/api/conversations")).json()
    assert [(t["id"], t["unread"]) for t in listed["conversations"]] == [(ticket["id"], 2)]
    headers = {"X-CSRF-Token": csrf}
    seen = await web_client.post(f"/api/conversations/{ticket['id']}/seen", headers=headers)
    assert seen.status == 200
    assert await seen.json() == {"read": 2, "unread": 0, "unreadTotal": 0}
    record = await _record(sandbox, conversation)
    assert record["contact_seen_calls"] == 1 and record["contact_last_seen_at"]
    assert {m["status"] for m in record["messages"] if m["message_type"] == "outgoing"} == {"read"}
    # Nothing new to call read: Chatwoot is not asked again, however often the page says so.
    for _ in range(3):
        again = await web_client.post(
            f"/api/conversations/{ticket['id']}/seen", json={}, headers=headers
        )
        assert (await again.json())["read"] == 0
    assert (await _record(sandbox, conversation))["contact_seen_calls"] == 1


async def test_seen_up_to_an_item_leaves_later_replies_unread(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    conversation = ticket["chatwootConversationId"]
    await _agent(sandbox, conversation, "messages", {"content": "um", "agent": "Rita"})

    async def one_unread() -> bool:
        return (await _ticket(web_client, ticket["id"]))["unread"] == 1

    await eventually(one_unread)
    messages = await (await web_client.get(f"/api/conversations/{ticket['id']}/messages")).json()
    first = messages["messages"][-1]["id"]
    await _agent(sandbox, conversation, "messages", {"content": "dois", "agent": "Rita"})

    async def two_unread() -> bool:
        return (await _ticket(web_client, ticket["id"]))["unread"] == 2

    await eventually(two_unread)
    seen = await web_client.post(
        f"/api/conversations/{ticket['id']}/seen",
        json={"upTo": first},
        headers={"X-CSRF-Token": csrf},
    )
    assert (await seen.json())["unread"] == 1


async def test_typing_reaches_chatwoot_once_per_change(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    path = f"/api/conversations/{ticket['id']}/typing"
    headers = {"X-CSRF-Token": csrf}
    answers = [
        await (await web_client.post(path, json={"on": on}, headers=headers)).json()
        for on in (True, True, True, False, False)
    ]
    assert [a["relayed"] for a in answers] == [True, False, False, True, False]
    record = await _record(sandbox, ticket["chatwootConversationId"])
    assert [entry["status"] for entry in record["contact_typing_log"]] == ["on", "off"]
    assert record["contact_typing"] == "off"


async def test_typing_and_seen_refuse_bad_input_and_others_tickets(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    alice = await make_web()
    alice_csrf = await signup(alice, "alice@example.com")
    ticket = await open_ticket(alice, alice_csrf)
    bob = await make_web()
    bob_csrf = await signup(bob, "bob@example.com")
    base = f"/api/conversations/{ticket['id']}"
    for what, body in (("typing", {"on": True}), ("seen", {})):
        foreign = await bob.post(f"{base}/{what}", json=body, headers={"X-CSRF-Token": bob_csrf})
        assert foreign.status == 404
        assert (await foreign.json())["error"] == "not_found"
        missing = await alice.post(
            f"/api/conversations/987654/{what}", json=body, headers={"X-CSRF-Token": alice_csrf}
        )
        assert missing.status == 404
        no_csrf = await alice.post(f"{base}/{what}", json=body)
        assert no_csrf.status == 403
        broken = await alice.post(
            f"{base}/{what}",
            data=b"{not json",
            headers={"X-CSRF-Token": alice_csrf, "Content-Type": "application/json"},
        )
        assert broken.status == 400
        assert (await broken.json())["error"] == "bad_json"
    for body in ({}, {"on": "yes"}, {"on": 1}, {"on": None}):
        wrong = await alice.post(f"{base}/typing", json=body, headers={"X-CSRF-Token": alice_csrf})
        assert wrong.status == 422
        assert (await wrong.json())["fields"] == {"on": "must_be_boolean"}
    for up_to in ("7", -1, True, 1.5):
        wrong = await alice.post(
            f"{base}/seen", json={"upTo": up_to}, headers={"X-CSRF-Token": alice_csrf}
        )
        assert wrong.status == 422
    anonymous = await make_web()
    assert (await anonymous.post(f"{base}/seen", json={})).status in (401, 403)
    # Nothing of the refused calls reached Chatwoot.
    record = await _record(sandbox, ticket["chatwootConversationId"])
    assert record["contact_typing_log"] == [] and record["contact_seen_calls"] == 0


async def test_agent_typing_shows_live_but_never_for_a_private_note(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "ana@example.com")
    ticket = await open_ticket(web_client, csrf)
    conversation = ticket["chatwootConversationId"]
    async with web_client.ws_connect("/ws", headers={"Origin": _origin(web_client)}) as socket:
        await socket.send_json({"type": "subscribe", "ticketId": ticket["id"], "after": 0})
        first = await _frames_until(socket, lambda f: f["type"] == "item")
        assert first[0]["ticket"]["typing"] is None
        # A note first, then a reply: the first "typing" the page hears is the reply's.
        await _agent(sandbox, conversation, "typing", {"agent": "Nora", "private": True})
        await _agent(sandbox, conversation, "typing", {"agent": "Carla", "status": "on"})
        typing = await _frames_until(socket, lambda f: f["type"] == "ticket")
        assert typing[-1]["ticket"]["typing"] == "Carla"
        await _agent(sandbox, conversation, "typing", {"agent": "Carla", "status": "off"})
        stopped = await _frames_until(socket, lambda f: f["type"] == "ticket")
        assert stopped[-1]["ticket"]["typing"] is None
        # A reply ends the typing even before the dashboard's "off" arrives.
        await _agent(sandbox, conversation, "typing", {"agent": "Carla", "status": "on"})
        again = await _frames_until(socket, lambda f: f["type"] == "ticket")
        assert again[-1]["ticket"]["typing"] == "Carla"
        await _agent(sandbox, conversation, "messages", {"content": "Pronto", "agent": "Carla"})
        after = await _frames_until(socket, lambda f: f["type"] == "ticket")
        assert after[-1]["ticket"]["typing"] is None
        assert [f["item"]["content"] for f in after if f["type"] == "item"] == ["Pronto"]
    assert "Nora" not in json.dumps(first + typing + stopped + again + after)


async def test_live_list_streams_each_ticket_and_the_unread_total(
    make_web: MakeWeb, sandbox: SandboxServer
) -> None:
    alice = await make_web()
    csrf = await signup(alice, "alice@example.com")
    older = await open_ticket(alice, csrf, title="Primeiro chamado")
    newer = await open_ticket(alice, csrf, title="Segundo chamado")
    bob = await make_web()
    bobs = await open_ticket(bob, await signup(bob, "bob@example.com"), title="Do Bob")
    async with alice.ws_connect("/ws", headers={"Origin": _origin(alice)}) as socket:
        await socket.send_json({"type": "list"})
        assert await socket.receive_json() == {"type": "unread", "total": 0}
        await _agent(
            sandbox, bobs["chatwootConversationId"], "messages", {"content": "segredo do Bob"}
        )
        await _agent(
            sandbox,
            older["chatwootConversationId"],
            "messages",
            {"content": "Olá, Alice", "agent": "Rita"},
        )
        frames = await _frames_until(socket, lambda f: f == {"type": "unread", "total": 1})
        tickets = [f["ticket"] for f in frames if f["type"] == "ticket"]
        assert tickets and {t["id"] for t in tickets} == {older["id"]}
        latest = tickets[-1]
        assert (latest["unread"], latest["lastMessage"]["author"]) == (1, "Rita")
        assert latest["lastMessage"]["content"] == "Olá, Alice"
        assert latest["lastActivityAt"] > newer["lastActivityAt"]
        await _agent(sandbox, older["chatwootConversationId"], "assign", {"agent": "Rita"})
        assigned = await _frames_until(
            socket, lambda f: f["type"] == "ticket" and f["ticket"]["assignee"] == "Rita"
        )
        await alice.post(f"/api/conversations/{older['id']}/seen", headers={"X-CSRF-Token": csrf})
        read = await _frames_until(socket, lambda f: f == {"type": "unread", "total": 0})
        assert [f["ticket"]["unread"] for f in read if f["type"] == "ticket"][-1] == 0
    assert "segredo" not in json.dumps(frames + assigned + read)
