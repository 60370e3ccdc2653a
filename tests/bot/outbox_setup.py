"""Test setup for the outbox: Teams users with stored references, tickets and queued rows.

Rows are written the way ingest writes them (same payloads, same dedupe keys); the references
point at the fake connector, as a real Teams reference points at Teams.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.auth import make_adapter
from bot.gateway import TeamsGateway
from bot.limits import RateLimiter
from bot.outbox import OutboxTuning, OutboxWorker
from db import repo
from db.engine import plain_dsn
from db.models import (
    Direction,
    Message,
    Origin,
    OutboxItem,
    TeamsConversationRef,
    Ticket,
    User,
)
from tests.conftest import make_settings

_conversations = itertools.count(1)


@dataclass(frozen=True)
class Employee:
    """A Teams user the bot can reach."""

    user_id: int
    oid: str
    tenant: str
    conversation_id: str


def serialized_reference(
    service_url: str, conversation_id: str, *, tenant: str, oid: str
) -> dict[str, Any]:
    """Build the reference the handler stores after a user's first message."""
    reference = ConversationReference(
        activity_id="incoming-1",
        user=ChannelAccount(id=f"29:{oid}", aad_object_id=oid, name="Employee"),
        bot=ChannelAccount(id="28:bot", name="Chamados"),
        conversation=ConversationAccount(
            id=conversation_id, tenant_id=tenant, conversation_type="personal"
        ),
        channel_id="msteams",
        locale="pt-BR",
        service_url=service_url,
    )
    value: dict[str, Any] = reference.serialize()
    return value


async def add_employee(
    sessions: async_sessionmaker[AsyncSession],
    service_url: str,
    *,
    tenant: str = "tenant-1",
    locale: str | None = None,
) -> Employee:
    """Insert a Teams user and the reference of their 1:1 chat with the bot."""
    number = next(_conversations)
    oid = f"oid-{number}-{datetime.now(UTC).timestamp()}"
    conversation_id = f"a:chat-{number}-{oid[-8:]}"
    async with sessions.begin() as session:
        user = User(
            entra_oid=oid, entra_tid=tenant, display_name=f"Employee {number}", locale=locale
        )
        session.add(user)
        await session.flush()
        session.add(
            TeamsConversationRef(
                user_id=user.id,
                tenant_id=tenant,
                conversation_id=conversation_id,
                service_url=service_url,
                reference=serialized_reference(
                    service_url, conversation_id, tenant=tenant, oid=oid
                ),
            )
        )
        return Employee(user.id, oid, tenant, conversation_id)


async def add_ticket(
    sessions: async_sessionmaker[AsyncSession],
    employee: Employee,
    *,
    title: str = "Impressora parada",
    card_activity: str | None = None,
) -> int:
    """Insert a ticket of this employee (optionally with its card posted in their chat)."""
    async with sessions.begin() as session:
        ticket = Ticket(
            requester_id=employee.user_id,
            title=title,
            description="Não imprime",
            complexity="baixa",
            sector="TI",
            chatwoot_conversation_id=next(_conversations) + 100_000,
            origin=Origin.TEAMS,
            teams_card_activity_id=card_activity,
            teams_card_conversation_id=employee.conversation_id if card_activity else None,
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def queue_agent_message(
    sessions: async_sessionmaker[AsyncSession],
    employee: Employee,
    ticket_id: int,
    content: str,
    *,
    author: str = "Carla",
    chatwoot_id: int | None = None,
) -> bool:
    """Store an agent message and queue its delivery exactly as ingest does."""
    chatwoot_id = chatwoot_id if chatwoot_id is not None else next(_conversations) + 10_000_000
    async with sessions.begin() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        message = Message(
            ticket_id=ticket_id,
            chatwoot_message_id=chatwoot_id,
            direction=Direction.AGENT,
            author=author,
            content=content,
            origin=Origin.CHATWOOT,
        )
        session.add(message)
        await session.flush()
        return await repo.enqueue(
            session,
            user_id=employee.user_id,
            ticket_id=ticket_id,
            target=employee.conversation_id,
            kind="agent_message",
            payload={
                "ticket_id": ticket_id,
                "title": ticket.title,
                "author": author,
                "content": content,
                "message_id": message.id,
                "created_at": datetime.now(UTC).isoformat(),
            },
            dedupe_key=f"msg:{chatwoot_id}:{employee.conversation_id}",
        )


async def queue(
    sessions: async_sessionmaker[AsyncSession],
    employee: Employee,
    ticket_id: int,
    kind: str,
    payload: dict[str, Any],
    key: str,
) -> bool:
    """Queue a card update or status line as ingest does."""
    async with sessions.begin() as session:
        return await repo.enqueue(
            session,
            user_id=employee.user_id,
            ticket_id=ticket_id,
            target=employee.conversation_id,
            kind=kind,
            payload=payload,
            dedupe_key=f"{key}:{employee.conversation_id}",
        )


def card_texts(card: dict[str, object] | None) -> list[str]:
    """Every TextBlock/TextRun text in a card's body, in document order."""
    assert card is not None
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card.get("body"))
    return texts


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxItem]:
    """Every outbox row, oldest first."""
    async with sessions() as session:
        result = await session.execute(select(OutboxItem).order_by(OutboxItem.id))
        return list(result.scalars())


def make_gateway(timeout: float = 5.0) -> TeamsGateway:
    """A gateway on an adapter without app id (loopback development mode)."""
    adapter, _ = make_adapter(make_settings())
    return TeamsGateway(adapter, "", timeout=timeout)


def make_worker(
    sessions: async_sessionmaker[AsyncSession], database_url: str, **options: Any
) -> OutboxWorker:
    """A worker as `setup_bot` builds it, on the given database."""
    return OutboxWorker(
        sessions,
        options.pop("gateway", None) or make_gateway(),
        dsn=plain_dsn(database_url),
        base_url="http://127.0.0.1:3978",
        default_locale="pt-BR",
        limiter=options.pop("limiter", None) or RateLimiter(sessions),
        tuning=OutboxTuning(**options),
    )
