"""`/ws` sends an edited or deleted message again (a newer cursor), and a resume repeats nothing."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox import SandboxServer
from tests.helpdesk import control
from tests.web.conftest import Client, open_ticket, signup
from tests.web.test_ws import _frames_until


async def _next_item(socket: Any) -> dict[str, Any]:
    frames = await _frames_until(socket, lambda frame: frame["type"] == "item")
    item: dict[str, Any] = frames[-1]["item"]
    return item


async def test_an_edit_and_a_delete_come_again_with_a_newer_cursor(
    web_client: Client, sandbox: SandboxServer
) -> None:
    csrf = await signup(web_client, "rev@example.com")
    ticket = await open_ticket(web_client, csrf)
    origin = str(web_client.make_url("/")).rstrip("/")
    conversation = ticket["chatwootConversationId"]
    path = f"/sandbox/api/conversations/{conversation}/messages"
    async with web_client.ws_connect("/ws", headers={"Origin": origin}) as socket:
        await socket.send_json({"type": "subscribe", "ticketId": ticket["id"], "after": 0})
        opening = await _next_item(socket)
        sent = await control(sandbox, path.removeprefix("/sandbox/api/"), {"content": "v1"})
        reply = await _next_item(socket)
        assert reply["content"] == "v1" and reply["cursor"] == reply["id"] > opening["cursor"]
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
            (await http.patch(f"{path}/{sent['id']}", json={"content": "v2"})).raise_for_status()
            edited = await _next_item(socket)
            assert (edited["id"], edited["content"]) == (reply["id"], "v2")
            assert edited["cursor"] > reply["cursor"]
            (await http.delete(f"{path}/{sent['id']}")).raise_for_status()
            gone = await _next_item(socket)
        assert (gone["id"], gone["deleted"], gone["content"]) == (reply["id"], True, "")
        assert gone["cursor"] > edited["cursor"]
    # A page resuming from the newest cursor it has gets nothing again; one resuming from
    # before the delete gets the deleted version only, never the old text.
    async with web_client.ws_connect("/ws", headers={"Origin": origin}) as socket:
        await socket.send_json(
            {"type": "subscribe", "ticketId": ticket["id"], "after": edited["cursor"]}
        )
        again = await _next_item(socket)
        assert (again["id"], again["deleted"], again["cursor"]) == (
            gone["id"],
            True,
            gone["cursor"],
        )
    timeline = await web_client.get(f"/api/conversations/{ticket['id']}/messages")
    items = (await timeline.json())["messages"]
    assert [i["content"] for i in items if i["direction"] == "agent"] == [""]
    # Resuming from the newest cursor, the API has nothing newer.
    newest = max(i["cursor"] for i in items)
    later = await web_client.get(
        f"/api/conversations/{ticket['id']}/messages", params={"after": newest}
    )
    assert (await later.json())["messages"] == []
