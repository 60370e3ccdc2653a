"""End to end in the Microsoft 365 Agents Playground, driven over its HTTP/WebSocket API.

The Playground speaks en-US, so this is also the English path through the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot import keys as bot_keys
from bot.gateway import OutgoingMessage, TeamsGateway
from db import teams as teams_repo
from db.models import TeamsConversationRef
from sandbox import SandboxServer
from tests.bot.harness import card_texts, find_action
from tickets import keys
from tickets.playground import Playground

pytestmark = pytest.mark.slow

FORM = {
    "title": "Monitor piscando",
    "description": "O monitor da sala 12 pisca a cada minuto.",
    "complexity": "baixa",
    "sector": "Facilities",
    "for_other": "false",
}


class PlaygroundChat:
    """What the Playground's chat shows, read from its conversation stream."""

    def __init__(self, playground: Playground) -> None:
        self.playground = playground
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Connect to the stream (messages are buffered until a client connects)."""
        self._session = aiohttp.ClientSession()
        url = (
            self.playground.url.replace("http", "ws") + "/_ws_conversation/v1/conversations/stream"
        )
        socket = await self._session.ws_connect(url)

        async def read() -> None:
            async for frame in socket:
                if frame.type is aiohttp.WSMsgType.TEXT:
                    self.events.append(json.loads(frame.data))

        self._task = asyncio.create_task(read())

    async def stop(self) -> None:
        """Disconnect."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def messages(self) -> list[dict[str, Any]]:
        """Messages the bot created in the chat, in order."""
        return [e["message"] for e in self.events if e.get("action") == "createMessage"]

    async def wait_for(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        """Wait for a bot message matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages():
                if predicate(message):
                    return message
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no matching message; saw {self.messages()}")


def card_of(message: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card of a Playground message."""
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content = attachment.get("content")
            return json.loads(content) if isinstance(content, str) else content
    return None


@pytest.fixture
async def playground(
    app_client: TestClient[web.Request, web.Application],
) -> AsyncIterator[Playground]:
    """The Playground wired to the real app (no app id, loopback)."""
    tool = Playground(str(app_client.make_url("/api/messages")))
    await tool.start()
    yield tool
    await tool.stop()


async def test_ticket_round_trip_in_the_playground(
    app_client: TestClient[web.Request, web.Application],
    playground: Playground,
    sandbox: SandboxServer,
) -> None:
    chat = PlaygroundChat(playground)
    await chat.start()
    try:
        async with httpx.AsyncClient(base_url=playground.url, timeout=15) as pg:
            config = (await pg.get("/_internal/v1/config")).json()["config"]
            cid, me = config["personalChat"]["id"], config["currentUser"]["id"]
            # Install, as opening the UI does.
            (await pg.post(f"/_debug/conversation/{cid}/installation", json={})).raise_for_status()
            welcome = await chat.wait_for(lambda m: card_of(m) is not None)
            assert "Hi! I open and follow your helpdesk tickets." in card_texts(card_of(welcome))
            # Type the command; the form arrives.
            answer = await pg.post(
                f"/_conversation/v1/conversations/{cid}/messages",
                json={"from": {"id": me}, "text": "New Ticket", "textFormat": "plain"},
            )
            answer.raise_for_status()
            form = await chat.wait_for(
                lambda m: (card := card_of(m)) is not None and "ticket.create" in json.dumps(card)
            )
            create = find_action(card_of(form) or {}, "ticket.create")
            # Click "submit" (Action.Execute); the bot answers with the ticket's card.
            invoke = await pg.post(
                "/_conversation/v1/invoke",
                json={
                    "name": "adaptiveCard/action",
                    "conversation": {"id": cid},
                    "from": {"id": me},
                    "replyToId": form["messageId"],
                    "value": {
                        "action": {
                            "type": "Action.Execute",
                            "verb": "ticket.create",
                            "data": {**create["data"], **FORM},
                        }
                    },
                },
            )
            invoke.raise_for_status()
            body = invoke.json()
            # The Playground passes on the type and value of the bot's invoke body.
            assert body["type"] == "application/vnd.microsoft.card.adaptive", body
            assert FORM["title"] in card_texts(body["value"])
        # The ticket is in the helpdesk with the form's fields.
        async with httpx.AsyncClient(base_url=sandbox.url) as desk:
            [record] = (await desk.get("/sandbox/api/conversations")).json()
            assert record["custom_attributes"]["title"] == FORM["title"]
            assert record["custom_attributes"]["sector"] == "Facilities"
            # An agent answers in Chatwoot ...
            reply = await desk.post(
                f"/sandbox/api/conversations/{record['id']}/messages",
                json={"content": "Vou trocar o cabo hoje.", "private": False, "agent": "Carla"},
            )
            reply.raise_for_status()
        # ... and the reply shows up in the Playground chat, through the outbox worker.
        arrived = await chat.wait_for(
            lambda m: "Vou trocar o cabo hoje." in json.dumps(m, ensure_ascii=False)
        )
        assert card_of(arrived) is not None
        # The gateway reaches the Playground directly too (proactive send, no app id).
        sessions = app_client.app[keys.SESSIONMAKER]
        async with sessions() as session:
            ref = await teams_repo.reference_by_conversation(session, cid)
        assert isinstance(ref, TeamsConversationRef)
        gateway: TeamsGateway = app_client.app[bot_keys.TEAMS_GATEWAY]
        delivery = await gateway.send(ref.reference, OutgoingMessage(text="Teste proativo"))
        assert delivery.ok, delivery
        await chat.wait_for(lambda m: m.get("text") == "Teste proativo")
    finally:
        await chat.stop()


async def test_message_action_in_the_playground(
    app_client: TestClient[web.Request, web.Application],
    playground: Playground,
    sandbox: SandboxServer,
) -> None:
    chat = PlaygroundChat(playground)
    await chat.start()
    try:
        async with httpx.AsyncClient(base_url=playground.url, timeout=15) as pg:
            config = (await pg.get("/_internal/v1/config")).json()["config"]
            cid, me = config["personalChat"]["id"], config["currentUser"]["id"]
            [group, *_] = config["groupChats"]
            author = next(u for u in config["users"] if u["id"] != me)
            (await pg.post(f"/_debug/conversation/{cid}/installation", json={})).raise_for_status()
            await chat.wait_for(lambda m: card_of(m) is not None)
            message = {
                "id": "1741194420000",
                "createdDateTime": "2025-03-05T17:07:00.000Z",
                "body": {"contentType": "html", "content": "<p>Projetor da sala 3 sem imagem</p>"},
                "from": {"user": {"id": author["aadObjectId"], "displayName": author["name"]}},
            }
            value = {"commandId": "openTicketFromMessage", "commandContext": "message"}
            value["messagePayload"] = message

            async def invoke(name: str, extra: dict[str, Any]) -> dict[str, Any]:
                answer = await pg.post(
                    "/_conversation/v1/invoke",
                    json={
                        "name": name,
                        "conversation": {"id": group["id"]},
                        "from": {"id": me},
                        "value": {**value, **extra},
                    },
                )
                answer.raise_for_status()
                body: dict[str, Any] = answer.json()
                return body

            fetched = await invoke("composeExtension/fetchTask", {})
            assert fetched["task"]["type"] == "continue", fetched
            card = fetched["task"]["value"]["card"]["content"]
            [button] = card["actions"]
            inputs = {node["id"]: node.get("value", "") for node in _inputs(card)}
            assert inputs["title"] == "Projetor da sala 3 sem imagem"
            assert inputs["beneficiary_name"] == author["name"]
            data = {**button["data"], **inputs, "complexity": "baixa", "sector": "Facilities"}
            data["beneficiary_email"] = "colega@contoso.example"
            submitted = await invoke("composeExtension/submitAction", {"data": data})
            assert submitted["task"]["type"] == "message", submitted
            assert submitted["task"]["value"].startswith("Ticket #")
        # The ticket's card arrives in the personal chat, nothing in the group chat.
        arrived = await chat.wait_for(
            lambda m: (
                "Projetor da sala 3" in json.dumps(m, ensure_ascii=False) and card_of(m) is not None
            )
        )
        [where] = [e["actionConversationId"] for e in chat.events if e.get("message") is arrived]
        assert where == cid
        assert [e for e in chat.events if e.get("actionConversationId") == group["id"]] == []
        async with httpx.AsyncClient(base_url=sandbox.url) as desk:
            [record] = (await desk.get("/sandbox/api/conversations")).json()
        assert record["custom_attributes"]["beneficiary"] == author["name"]
    finally:
        await chat.stop()


def _inputs(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input."):
            found.append(node)
        for child in node.values():
            found += _inputs(child)
    elif isinstance(node, list):
        for child in node:
            found += _inputs(child)
    return found
