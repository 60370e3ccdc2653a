from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from chatwoot.cable import CableListener, parse_cable_frame, room_identifier
from chatwoot.client import ChatwootClient
from chatwoot.events import (
    AssigneeChanged,
    ChatwootEvent,
    ConversationCreated,
    EventSource,
    MessageEvent,
    StatusChanged,
    TypingChanged,
)
from chatwoot.fields import MessageType, SenderType
from sandbox import SandboxConfig, SandboxServer
from tests.chatwoot.conftest import PAYLOADS

Load = Callable[[str], Any]


# ---- pure frame parsing -----------------------------------------------------------------


def test_identifier_is_the_widgets_exact_string(payload: Load) -> None:
    frame = payload("cable/00_client_subscribe.json")
    assert room_identifier("8sVbW2qCxK4nT7mPzR3dLh9F") == frame["identifier"]


@pytest.mark.parametrize(
    "name",
    [
        "01_server_welcome.json",
        "02_server_ping.json",
        "03_server_confirm_subscription.json",
        "06_server_disconnect.json",
        "presence.update.json",
    ],
)
def test_control_and_ignored_frames_yield_nothing(payload: Load, name: str) -> None:
    assert parse_cable_frame(payload(f"cable/{name}")) == []


def test_agent_typing_frames_name_the_agent_as_contacts_see_them(payload: Load) -> None:
    (on,) = parse_cable_frame(payload("cable/conversation.typing_on.json"))
    (off,) = parse_cable_frame(payload("cable/conversation.typing_off.json"))
    assert isinstance(on, TypingChanged) and isinstance(off, TypingChanged)
    assert (on.conversation_id, on.inbox_id, on.typing, on.agent_name) == (123, 7, True, "Sam")
    assert (off.typing, off.source) == (False, EventSource.CABLE)


def test_private_note_typing_is_never_an_event(payload: Load) -> None:
    frame = payload("cable/conversation.typing_on.json")
    for private in (True, "true"):
        frame["message"]["data"]["is_private"] = private
        assert parse_cable_frame(frame) == []


def test_agent_reply_frame(payload: Load) -> None:
    (event,) = parse_cable_frame(payload("cable/message.created.outgoing.json"))
    assert isinstance(event, MessageEvent)
    assert event.source is EventSource.CABLE
    assert (event.message_id, event.conversation_id, event.inbox_id) == (9002, 123, 7)
    assert event.message_type is MessageType.OUTGOING
    assert event.sender_type is SenderType.USER
    assert event.sender_name == "Sam Agent"
    assert event.source_id == "teams-3f2b9c1e-5d7a-4e8b-9c0d-1a2b3c4d5e6f"
    assert event.created_at.timestamp() == 1781686990


def test_own_message_comes_back_with_echo_id(payload: Load) -> None:
    (event,) = parse_cable_frame(payload("cable/message.created.incoming_echo.json"))
    assert isinstance(event, MessageEvent)
    assert event.message_type is MessageType.INCOMING
    assert event.echo_id == "tmp-7f3a"
    assert event.sender_type is SenderType.CONTACT


def test_message_updated_frame(payload: Load) -> None:
    (event,) = parse_cable_frame(payload("cable/message.updated.json"))
    assert isinstance(event, MessageEvent)
    assert event.kind == "updated"


def test_conversation_frames(payload: Load) -> None:
    (created,) = parse_cable_frame(payload("cable/conversation.created.json"))
    (status,) = parse_cable_frame(payload("cable/conversation.status_changed.json"))
    (updated,) = parse_cable_frame(payload("cable/conversation.updated.json"))
    assert isinstance(created, ConversationCreated)
    assert created.conversation_id == 123
    assert isinstance(status, StatusChanged)
    assert status.status == "resolved"
    assert isinstance(updated, AssigneeChanged)  # a contact learns assignment only this way
    assert (updated.assignee_id, updated.assignee_name) == (3, "Sam Agent")


def test_webhook_and_cable_agree_on_dedupe_keys(payload: Load) -> None:
    from chatwoot.webhooks import parse_webhook

    pairs = [
        ("cable/message.created.outgoing.json", "webhooks/message_created.outgoing.json"),
        ("cable/conversation.status_changed.json", "webhooks/conversation_status_changed.json"),
        ("cable/conversation.updated.json", "webhooks/conversation_updated.assigned.json"),
    ]
    for cable_name, webhook_name in pairs:
        (from_cable,) = parse_cable_frame(payload(cable_name))
        (from_webhook,) = parse_webhook(payload(webhook_name))
        assert from_cable.dedupe_key == from_webhook.dedupe_key, cable_name


def test_every_recorded_frame_parses() -> None:
    for path in sorted((PAYLOADS / "cable").glob("*.json")):
        frame = json.loads(path.read_text())
        assert isinstance(parse_cable_frame(frame), list), path.name


# ---- against the sandbox ----------------------------------------------------------------


async def _until(check: Callable[[], bool], within: float = 3.0) -> None:
    async with asyncio.timeout(within):
        # Polling is the point here: the conditions are the listener's public state.
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


class Recorder:
    """Collect what the listener hands to the core."""

    def __init__(self) -> None:
        self.events: list[ChatwootEvent] = []
        self.connects = 0

    async def on_event(self, event: ChatwootEvent) -> None:
        self.events.append(event)

    async def on_connected(self) -> None:
        self.connects += 1

    def messages(self) -> list[MessageEvent]:
        return [e for e in self.events if isinstance(e, MessageEvent)]


@asynccontextmanager
async def running(listener: CableListener) -> AsyncIterator[CableListener]:
    task = asyncio.create_task(listener.run())
    try:
        yield listener
    finally:
        await listener.close()
        # close() alone must end run(), even mid-backoff or mid-connect.
        await asyncio.wait_for(task, 2)


async def _contact(client: ChatwootClient, source_id: str) -> tuple[str, int]:
    contact = await client.create_contact(source_id=source_id, name="Cable Person")
    conv = await client.create_conversation(source_id)
    assert contact.pubsub_token
    return contact.pubsub_token, conv.id


async def test_subscribe_confirm_and_agent_message_arrives_typed(
    sandbox: SandboxServer, client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    token, conv_id = await _contact(client, "teams-cable-1")
    rec = Recorder()
    listener = CableListener(
        sandbox.cable_url, on_event=rec.on_event, on_connected=rec.on_connected
    )
    await listener.subscribe(token)
    async with running(listener):
        await _until(lambda: token in listener.subscribed and rec.connects == 1)
        assert listener.connected.is_set()
        await client.create_message("teams-cable-1", conv_id, content="hello", echo_id="echo-9")
        reply = await control.post(
            f"/conversations/{conv_id}/messages", json={"content": "Hi there", "agent": "Sam"}
        )
        reply.raise_for_status()
        note = await control.post(
            f"/conversations/{conv_id}/messages",
            json={"content": "internal", "private": True, "agent": "Sam"},
        )
        note.raise_for_status()
        await _until(lambda: any(m.content == "Hi there" for m in rec.messages()))
        assign = await control.post(f"/conversations/{conv_id}/assign", json={"agent": "Sam"})
        assign.raise_for_status()
        await _until(lambda: any(isinstance(e, AssigneeChanged) for e in rec.events))

    own = next(m for m in rec.messages() if m.content == "hello")
    assert own.echo_id == "echo-9"
    assert own.message_type is MessageType.INCOMING
    agent = next(m for m in rec.messages() if m.content == "Hi there")
    assert agent.source is EventSource.CABLE
    assert agent.message_type is MessageType.OUTGOING
    assert agent.sender_type is SenderType.USER
    assert agent.sender_name == "Sam"
    assert agent.conversation_id == conv_id
    assert agent.inbox_id == sandbox.config.inbox_id
    assert all(m.content != "internal" for m in rec.messages())  # notes never reach a contact
    assignee = next(e for e in rec.events if isinstance(e, AssigneeChanged))
    assert assignee.assignee_name == "Sam"


async def test_unknown_token_fails_after_confirm_timeout(
    sandbox: SandboxServer, client: ChatwootClient
) -> None:
    good, _ = await _contact(client, "teams-cable-2")
    rec = Recorder()
    listener = CableListener(
        sandbox.cable_url,
        on_event=rec.on_event,
        on_connected=rec.on_connected,
        confirm_timeout=0.3,
    )
    await listener.subscribe("NoSuchToken0000000000000")
    await listener.subscribe(good)
    async with running(listener):
        await _until(lambda: "NoSuchToken0000000000000" in listener.failed)
        assert listener.subscribed == {good}
        # Catch-up waits for the streams to be live or given up on, then runs once.
        await _until(lambda: rec.connects == 1)
        await listener.unsubscribe("NoSuchToken0000000000000")
        assert listener.failed == set()


async def test_late_subscribe_on_a_live_connection(
    sandbox: SandboxServer, client: ChatwootClient
) -> None:
    rec = Recorder()
    listener = CableListener(sandbox.cable_url, on_event=rec.on_event)
    async with running(listener):
        await asyncio.wait_for(listener.connected.wait(), 3)
        token, _ = await _contact(client, "teams-cable-3")
        await listener.subscribe(token)
        await _until(lambda: token in listener.subscribed)
        await listener.unsubscribe(token)
        assert token not in listener.subscribed


async def test_cable_cut_reconnects_resubscribes_and_catches_up(
    sandbox: SandboxServer, client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    token, conv_id = await _contact(client, "teams-cable-4")
    rec = Recorder()
    listener = CableListener(
        sandbox.cable_url,
        on_event=rec.on_event,
        on_connected=rec.on_connected,
        backoff_min=0.05,
        backoff_max=0.2,
    )
    await listener.subscribe(token)
    async with running(listener):
        await _until(lambda: rec.connects == 1 and token in listener.subscribed)
        cut = await control.post("/faults", json={"cable_cut": True})
        assert cut.json()["cable_cut"] == 1
        await _until(lambda: rec.connects == 2 and token in listener.subscribed)
        assert listener.connections == 2
        reply = await control.post(
            f"/conversations/{conv_id}/messages", json={"content": "after the cut", "agent": "A"}
        )
        reply.raise_for_status()
        await _until(lambda: any(m.content == "after the cut" for m in rec.messages()))


async def test_silence_past_ping_timeout_forces_a_reconnect(client: ChatwootClient) -> None:
    async with SandboxServer(SandboxConfig(ping_interval=30.0)) as quiet:
        rec = Recorder()
        listener = CableListener(
            quiet.cable_url,
            on_event=rec.on_event,
            on_connected=rec.on_connected,
            ping_timeout=0.3,
            backoff_min=0.05,
            backoff_max=0.1,
        )
        async with running(listener):
            await _until(lambda: listener.connections >= 2)
        assert rec.connects >= 2


async def test_unreachable_server_keeps_retrying_until_closed() -> None:
    rec = Recorder()
    listener = CableListener(
        "ws://127.0.0.1:9/cable", on_event=rec.on_event, backoff_min=0.01, backoff_max=0.05
    )
    async with running(listener):
        await asyncio.sleep(0.2)
        assert not listener.connected.is_set()
    assert listener.connections == 0


async def test_slow_handler_does_not_count_as_silence(
    sandbox: SandboxServer, client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    token, conv_id = await _contact(client, "teams-cable-slow")
    handled: list[ChatwootEvent] = []

    async def slow(event: ChatwootEvent) -> None:
        await asyncio.sleep(0.8)  # longer than ping_timeout; the pings wait in the buffer
        handled.append(event)

    listener = CableListener(sandbox.cable_url, on_event=slow, ping_timeout=0.5)
    await listener.subscribe(token)
    async with running(listener):
        await _until(lambda: token in listener.subscribed)
        reply = await control.post(
            f"/conversations/{conv_id}/messages", json={"content": "slowly", "agent": "A"}
        )
        reply.raise_for_status()
        await _until(lambda: bool(handled))
        await asyncio.sleep(0.1)
        assert listener.connections == 1
        assert listener.connected.is_set()
