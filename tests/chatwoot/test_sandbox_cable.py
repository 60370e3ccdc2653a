"""The sandbox's ``/cable``: ActionCable frames exactly as a Chatwoot contact token sees them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.chatwoot.sandbox_support import (
    Api,
    assert_same_keys,
    collect_events,
    load_payload,
    next_event,
    subscribe_frame,
)


@pytest.fixture
async def cable(api: Api) -> AsyncIterator[tuple[aiohttp.ClientWebSocketResponse, str]]:
    """Open a cable socket subscribed to Jane's contact token; yield it and the identifier."""
    contact = await api.contact()
    async with api.http.ws_connect(api.sb.cable_url, protocols=["actioncable-v1-json"]) as ws:
        assert ws.protocol == "actioncable-v1-json"
        assert await ws.receive_json() == load_payload("cable", "01_server_welcome.json")
        identifier, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        confirm = await ws.receive_json()
        assert confirm == {"identifier": identifier, "type": "confirm_subscription"}
        assert_same_keys(confirm, load_payload("cable", "03_server_confirm_subscription.json"))
        yield ws, identifier


async def test_ping_every_interval(cable: tuple[aiohttp.ClientWebSocketResponse, str]) -> None:
    ws, _ = cable
    pings = []
    async with asyncio.timeout(2):
        while len(pings) < 2:
            frame = await ws.receive_json()
            if frame.get("type") == "ping":
                pings.append(frame)
    assert_same_keys(pings[0], load_payload("cable", "02_server_ping.json"))
    assert isinstance(pings[0]["message"], int)


async def test_presence_update_after_subscribe(api: Api) -> None:
    contact = await api.contact()
    async with api.http.ws_connect(api.sb.cable_url) as ws:  # no subprotocol works too
        await ws.receive_json()
        identifier, command = subscribe_frame(contact["pubsub_token"])
        await ws.send_json(command)
        await ws.receive_json()
        presence = await ws.receive_json()
    assert presence["identifier"] == identifier
    assert presence["message"]["event"] == "presence.update"
    assert_same_keys(presence, load_payload("cable", "presence.update.json"))


async def test_conversation_lifecycle_frames(
    api: Api, cable: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, identifier = cable
    conv = await api.conversation()
    cid = conv["id"]
    created = await next_event(ws)
    assert created["identifier"] == identifier
    assert_same_keys(created, load_payload("cable", "conversation.created.json"))

    await api.message(cid, "help", echo_id="tmp-7f3a")
    echo = await next_event(ws)
    assert_same_keys(echo, load_payload("cable", "message.created.incoming_echo.json"))
    assert echo["message"]["data"]["echo_id"] == "tmp-7f3a"
    assert echo["message"]["data"]["message_type"] == 0

    await api.control("POST", f"/conversations/{cid}/assign", {"agent": "Sam Agent"})
    assigned = await next_event(ws)
    assert assigned["message"]["event"] == "conversation.updated"  # never assignee.changed
    assert_same_keys(assigned, load_payload("cable", "conversation.updated.json"))
    assert assigned["message"]["data"]["meta"]["assignee"]["name"] == "Sam Agent"

    await api.control("POST", f"/conversations/{cid}/typing", {"agent": "Sam Agent"})
    typing = await next_event(ws)
    assert_same_keys(typing, load_payload("cable", "conversation.typing_on.json"))

    await api.control("POST", f"/conversations/{cid}/messages", {"content": "On it"})
    reply = await next_event(ws)
    assert_same_keys(reply, load_payload("cable", "message.created.outgoing.json"))
    assert reply["message"]["data"]["message_type"] == 1

    await api.call("POST", f"/contacts/teams-jane/conversations/{cid}/update_last_seen")
    read = await next_event(ws)
    assert_same_keys(read, load_payload("cable", "message.updated.json"))
    assert read["message"]["data"]["previous_changes"]["status"] == ["sent", "read"]

    await api.control("POST", f"/conversations/{cid}/status", {"status": "resolved"})
    status_changed = await next_event(ws)
    assert_same_keys(status_changed, load_payload("cable", "conversation.status_changed.json"))
    assert status_changed["message"]["data"]["status"] == "resolved"
    follow = await next_event(ws)
    assert follow["message"]["event"] == "conversation.updated"
    assert await collect_events(ws, 0.3) == []  # activity lines never reach a contact


async def test_private_note_never_reaches_cable(
    api: Api, cable: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, _ = cable
    conv = await api.conversation()
    await next_event(ws)
    await api.control(
        "POST", f"/conversations/{conv['id']}/messages", {"content": "secret", "private": True}
    )
    await api.control("POST", f"/conversations/{conv['id']}/messages", {"content": "public"})
    frames = await collect_events(ws, 0.3)
    contents = [f["message"]["data"].get("content") for f in frames]
    assert contents == ["public"]
    assert "secret" not in json.dumps(frames)


async def test_contact_typing_is_not_echoed_to_itself(
    api: Api, cable: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, _ = cable
    conv = await api.conversation()
    await next_event(ws)
    await api.call(
        "POST",
        f"/contacts/teams-jane/conversations/{conv['id']}/toggle_typing",
        json={"typing_status": "on"},
    )
    assert await collect_events(ws, 0.3) == []


async def test_bad_token_gets_silence(api: Api) -> None:
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        _, command = subscribe_frame("not-a-real-token-000000")
        await ws.send_json(command)
        assert await collect_events(ws, 0.5) == []  # no confirm, no reject, nothing


async def test_duplicate_subscribe_is_ignored_and_unsubscribe_stops_events(
    api: Api, cable: tuple[aiohttp.ClientWebSocketResponse, str]
) -> None:
    ws, identifier = cable
    await ws.send_json({"command": "subscribe", "identifier": identifier})
    await api.conversation()
    frames = await collect_events(ws, 0.3)
    assert [f["message"]["event"] for f in frames] == ["conversation.created"]  # once only
    await ws.send_json({"command": "unsubscribe", "identifier": identifier})
    await asyncio.sleep(0.1)
    await api.conversation()
    assert await collect_events(ws, 0.3) == []


async def test_one_socket_follows_many_tokens(api: Api) -> None:
    jane = await api.contact()
    bob = await api.contact("teams-bob", "Bob")
    async with api.http.ws_connect(api.sb.cable_url) as ws:
        await ws.receive_json()
        ids = []
        for token in (jane["pubsub_token"], bob["pubsub_token"]):
            identifier, command = subscribe_frame(token)
            ids.append(identifier)
            await ws.send_json(command)
        await api.conversation("teams-bob")
        frames = await collect_events(ws, 0.3)
    confirms = [f["identifier"] for f in frames if f.get("type") == "confirm_subscription"]
    events = [(f["identifier"], f["message"]["event"]) for f in frames if "message" in f]
    assert confirms == ids
    assert events == [(ids[1], "conversation.created")]  # Bob's, tagged with Bob's identifier
