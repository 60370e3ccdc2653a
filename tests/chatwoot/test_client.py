from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from chatwoot.client import ChatwootClient
from chatwoot.errors import ChatwootNotFound, ChatwootRejected, ChatwootUnavailable
from chatwoot.events import EventSource
from chatwoot.fields import ConversationStatus, MessageType, SenderType
from chatwoot.parsing import message_event_from_api
from sandbox import SandboxServer
from tests.waiting import eventually


async def _conversations(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await control.get("/conversations")
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


async def _fault(control: httpx.AsyncClient, **switches: Any) -> None:
    response = await control.post("/faults", json=switches)
    response.raise_for_status()


async def test_inbox_and_ping(client: ChatwootClient, sandbox: SandboxServer) -> None:
    inbox = await client.get_inbox()
    assert inbox.identifier == sandbox.config.inbox_identifier
    assert await client.ping() is True


async def test_ping_is_false_when_inbox_unknown(sandbox: SandboxServer) -> None:
    async with ChatwootClient(sandbox.url, "nosuchinbox") as wrong:
        assert await wrong.ping() is False
        with pytest.raises(ChatwootNotFound) as caught:
            await wrong.get_inbox()
    assert caught.value.status == 404


async def test_contact_create_is_idempotent(client: ChatwootClient) -> None:
    first = await client.create_contact(
        source_id="teams-abc", name="Jane Doe", email="jane@example.com"
    )
    again = await client.create_contact(source_id="teams-abc", name="Jane Doe")
    shown = await client.get_contact("teams-abc")
    assert first.source_id == "teams-abc"
    assert first.pubsub_token
    assert again.id == first.id
    assert again.pubsub_token == first.pubsub_token
    assert shown.pubsub_token == first.pubsub_token
    updated = await client.update_contact("teams-abc", name="Jane Q. Doe")
    assert updated.name == "Jane Q. Doe"
    assert updated.source_id == "teams-abc"
    assert updated.pubsub_token is None


async def test_conversation_and_message_round_trip(
    client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    await client.create_contact(source_id="teams-rt", name="Ray Tester")
    conv = await client.create_conversation(
        "teams-rt", custom_attributes={"title": "Printer jam", "sector": "IT"}
    )
    assert conv.status is ConversationStatus.OPEN
    sent = await client.create_message("teams-rt", conv.id, content="It jams", echo_id="e-1")
    assert sent.message_type is MessageType.INCOMING
    assert sent.conversation_id == conv.id
    assert sent.sender_type is SenderType.CONTACT

    reply = await control.post(
        f"/conversations/{conv.id}/messages", json={"content": "On my way", "agent": "Sam"}
    )
    reply.raise_for_status()
    note = await control.post(
        f"/conversations/{conv.id}/messages",
        json={"content": "secret", "private": True, "agent": "Sam"},
    )
    note.raise_for_status()

    messages = await client.list_messages("teams-rt", conv.id)
    assert [m.content for m in messages] == ["It jams", "On my way"]  # no private note
    assert messages[1].sender_type is SenderType.USER
    assert messages[1].sender_name == "Sam"
    since = await client.list_messages_since("teams-rt", conv.id, sent.id)
    assert [m.content for m in since] == ["On my way"]
    event = message_event_from_api(since[0], inbox_id=conv.inbox_id, source_id="teams-rt")
    assert event.source is EventSource.CATCHUP
    assert event.message_type is MessageType.OUTGOING

    (record,) = [c for c in await _conversations(control) if c["id"] == conv.id]
    assert record["custom_attributes"] == {"title": "Printer jam", "sector": "IT"}
    assert record["messages"][0]["echo_id"] == "e-1"

    listed = await client.list_conversations("teams-rt")
    assert [c.id for c in listed] == [conv.id]
    shown = await client.get_conversation("teams-rt", conv.id)
    assert len(shown.messages) == 2
    await client.toggle_typing("teams-rt", conv.id, True)
    await client.update_last_seen("teams-rt", conv.id)
    resolved = await client.resolve_conversation("teams-rt", conv.id)
    assert resolved.status is ConversationStatus.RESOLVED


async def test_catch_up_walks_back_over_pages(client: ChatwootClient) -> None:
    await client.create_contact(source_id="teams-pages", name="Page Walker")
    conv = await client.create_conversation("teams-pages")
    first = await client.create_message("teams-pages", conv.id, content="m0")
    for i in range(1, 46):
        await client.create_message("teams-pages", conv.id, content=f"m{i}")
    latest = await client.list_messages("teams-pages", conv.id)
    assert len(latest) == 20
    since = await client.list_messages_since("teams-pages", conv.id, first.id)
    assert [m.content for m in since] == [f"m{i}" for i in range(1, 46)]
    everything = await client.list_messages_since("teams-pages", conv.id, 0)
    assert len(everything) == 46


async def test_404_is_typed(client: ChatwootClient) -> None:
    with pytest.raises(ChatwootNotFound) as caught:
        await client.get_contact("nobody-here")
    assert caught.value.status == 404
    assert caught.value.message == "Not Found"


async def test_422_carries_chatwoots_message(client: ChatwootClient) -> None:
    await client.create_contact(source_id="teams-422", name="Long Talker")
    conv = await client.create_conversation("teams-422")
    with pytest.raises(ChatwootRejected) as caught:
        await client.create_message("teams-422", conv.id, content="x" * 150_001, echo_id=None)
    assert caught.value.status == 422
    assert "too long" in caught.value.message
    assert caught.value.attributes == ("content",)
    with pytest.raises(ChatwootRejected) as bad_email:
        await client.create_contact(source_id="teams-bad", name="Bad", email="not-an-email")
    assert bad_email.value.status == 422
    assert bad_email.value.attributes == ("email",)


def _counting_http(sent: list[str], timeout: float = 2.0) -> httpx.AsyncClient:
    async def count(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    return httpx.AsyncClient(timeout=timeout, event_hooks={"request": [count]})


async def test_get_is_retried_through_a_brief_5xx(
    sandbox: SandboxServer, control: httpx.AsyncClient
) -> None:
    sent: list[str] = []
    async with _counting_http(sent) as http:
        client = ChatwootClient(sandbox.url, sandbox.config.inbox_identifier, http=http)
        await _fault(control, http_status=503, count=2)
        inbox = await client.get_inbox()
        await client.aclose()  # does not close a borrowed http client
        assert not http.is_closed
    assert inbox.identifier == sandbox.config.inbox_identifier
    assert len(sent) == 3


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_persistent_5xx_or_429_is_unavailable(
    client: ChatwootClient, control: httpx.AsyncClient, status: int
) -> None:
    await _fault(control, http_status=status)
    with pytest.raises(ChatwootUnavailable) as caught:
        await client.get_inbox()
    assert caught.value.status == status
    assert caught.value.retry_after is None  # Chatwoot's 429 has no Retry-After


async def test_create_message_is_not_retried_after_5xx(
    client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    await client.create_contact(source_id="teams-5xx", name="Five")
    conv = await client.create_conversation("teams-5xx")
    await _fault(control, http_status=502, count=1)
    with pytest.raises(ChatwootUnavailable):
        await client.create_message("teams-5xx", conv.id, content="once", echo_id="e-5")
    # The one-shot fault is spent: a retry would have succeeded and created the message.
    assert await client.list_messages("teams-5xx", conv.id) == []


async def test_create_message_is_not_retried_after_read_timeout(
    sandbox: SandboxServer, control: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async with ChatwootClient(sandbox.url, sandbox.config.inbox_identifier) as setup:
        await setup.create_contact(source_id="teams-slow", name="Slow")
        conv = await setup.create_conversation("teams-slow")
    await _fault(control, delay_ms=400)
    sent: list[str] = []
    async with _counting_http(sent, timeout=0.1) as http:
        hasty = ChatwootClient(sandbox.url, sandbox.config.inbox_identifier, http=http)
        with pytest.raises(ChatwootUnavailable) as caught:
            await hasty.create_message("teams-slow", conv.id, content="only once", echo_id="e-s")
    # The request left, so Chatwoot may have the message: exactly one attempt, flagged as sent.
    assert caught.value.request_sent is True
    assert sent == [
        f"POST /public/api/v1/inboxes/{sandbox.config.inbox_identifier}"
        f"/contacts/teams-slow/conversations/{conv.id}/messages"
    ]

    async def handled() -> bool:
        # The sandbox is done with the request it received once it stored the message, or
        # once reading the body of the request we gave up on failed.
        (record,) = [c for c in await _conversations(control) if c["id"] == conv.id]
        gave_up = any(r.name == "aiohttp.server" for r in caplog.records)
        return bool(record["messages"]) or gave_up

    await eventually(handled)
    await _fault(control)
    (record,) = [c for c in await _conversations(control) if c["id"] == conv.id]
    assert len(record["messages"]) <= 1


async def test_connection_refused_is_unavailable_and_not_sent() -> None:
    async with ChatwootClient("http://127.0.0.1:9", "inbox", timeout=0.5) as nowhere:
        with pytest.raises(ChatwootUnavailable) as caught:
            await nowhere.create_message("s", 1, content="x", echo_id="e")
        assert caught.value.request_sent is False
        assert await nowhere.ping() is False


@pytest.fixture
async def application_api() -> AsyncIterator[tuple[str, list[tuple[str, str, Any]]]]:
    """Serve a minimal stand-in of Chatwoot's Application API that records calls."""
    seen: list[tuple[str, str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(
            (request.path, request.headers.get("api_access_token", ""), await request.json())
        )
        return web.json_response({"payload": []})

    async def no_labels(_request: web.Request) -> web.Response:
        return web.json_response({"payload": []})

    app = web.Application()
    app.router.add_get("/api/v1/accounts/{account}/conversations/{cid}/labels", no_labels)
    app.router.add_post("/api/v1/accounts/{account}/conversations/{cid}/labels", record)
    app.router.add_post("/api/v1/accounts/{account}/conversations/{cid}/toggle_priority", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_labels_and_priority_use_the_application_api(
    application_api: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    url, seen = application_api
    async with ChatwootClient(url, "inbox") as without_token:
        assert await without_token.set_labels_and_priority(7, ["it"], "high") is False
    assert seen == []
    async with ChatwootClient(url, "inbox", api_access_token="tok", account_id=3) as admin:
        assert await admin.set_labels_and_priority(7, ["it", "hardware"], "high") is True
    assert seen == [
        ("/api/v1/accounts/3/conversations/7/labels", "tok", {"labels": ["it", "hardware"]}),
        ("/api/v1/accounts/3/conversations/7/toggle_priority", "tok", {"priority": "high"}),
    ]


async def test_contact_create_is_retried_because_source_id_makes_it_idempotent(
    client: ChatwootClient, control: httpx.AsyncClient
) -> None:
    await _fault(control, http_status=503, count=1)
    contact = await client.create_contact(source_id="teams-retry", name="Retry Me")
    assert contact.pubsub_token
    assert (await client.get_contact("teams-retry")).id == contact.id
