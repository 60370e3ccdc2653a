"""What the helpdesk tests share: signed webhooks, tickets made by hand, sandbox control, forms."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from chatwoot.webhooks import sign_webhook
from db.models import Message, Ticket, TicketEvent, User
from sandbox import SandboxServer
from tests.conftest import WEBHOOK_SECRET, WEBHOOK_TOKEN
from tickets import keys

Client = TestClient[web.Request, web.Application]
PAYLOADS = Path(__file__).parent / "fixtures" / "chatwoot" / "payloads" / "webhooks"
SECRET = WEBHOOK_SECRET
TOKEN = WEBHOOK_TOKEN


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return data


async def post_hook(
    client: Client,
    body: dict[str, Any] | bytes,
    *,
    token: str = TOKEN,
    secret: str = SECRET,
    timestamp: int | None = None,
    signature: str | None = None,
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Chatwoot-Timestamp": stamp,
        "X-Chatwoot-Signature": signature or sign_webhook(raw, secret, stamp),
        "X-Chatwoot-Delivery": f"d-{time.monotonic_ns()}",
    }
    response = await client.post(f"/api/chatwoot/webhook?token={token}", data=raw, headers=headers)
    return response.status, await response.json()


async def make_ticket(client: Client, conversation_id: int = 123) -> Ticket:
    """Insert a user and a ticket bound to a known conversation (the fixtures use 123)."""
    sessions = client.app[keys.SESSIONMAKER]
    async with sessions.begin() as session:
        user = User(email=f"u{conversation_id}@example.com", display_name="Jane Doe")
        session.add(user)
        await session.flush()
        ticket = Ticket(
            requester_id=user.id,
            title="Printer on fire",
            description="",
            complexity="baixa",
            sector="TI",
            chatwoot_conversation_id=conversation_id,
            origin="web",
        )
        session.add(ticket)
    return ticket


async def state(client: Client, ticket_id: int) -> tuple[Ticket, list[Message], list[TicketEvent]]:
    async with client.app[keys.SESSIONMAKER]() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        messages = (
            await session.execute(select(Message).where(Message.ticket_id == ticket_id))
        ).scalars()
        events = (
            await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
        ).scalars()
        return ticket, list(messages), list(events)


async def count(client: Client, model: type[Any]) -> int:
    async with client.app[keys.SESSIONMAKER]() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def control(sandbox: SandboxServer, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        if body is None:
            response = await http.get(f"/sandbox/api/{path}")
        else:
            response = await http.post(f"/sandbox/api/{path}", json=body)
        response.raise_for_status()
        return response.json()


async def sandbox_conversations(sandbox: SandboxServer) -> list[dict[str, Any]]:
    data = await control(sandbox, "conversations")
    return list(data["conversations"] if isinstance(data, dict) else data)


async def new_user(client: Client, email: str = "ana@example.com") -> int:
    async with client.app[keys.SESSIONMAKER].begin() as session:
        user = User(email=email, display_name="Ana Souza")
        session.add(user)
        await session.flush()
        return user.id


def form(**overrides: Any) -> Any:
    from tickets.forms import validate_ticket_form

    raw = {
        "title": "VPN não conecta",
        "description": "Desde ontem.",
        "complexity": "media",
        "sector": "TI",
        **overrides,
    }
    return validate_ticket_form(raw, complexities=["baixa", "media", "alta"], sectors=["TI", "RH"])
