"""A reply an agent edits or deletes in Chatwoot: its card and the ticket card are put in place."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxWorker
from db.models import Message, OutboxState
from tests.bot.outbox_setup import (
    add_employee,
    add_ticket,
    queue,
    queue_agent_message,
    rows,
)
from tests.bot.test_outbox import settled
from tests.fakes.connector import FakeConnector

Sessions = async_sessionmaker[AsyncSession]


async def test_a_deleted_reply_updates_its_card_and_the_ticket_card(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="pt-BR")
    ticket = await add_ticket(sessionmaker, ana, title="VPN", card_activity="card-1")
    await queue_agent_message(sessionmaker, ana, ticket, "a senha é hunter2", chatwoot_id=7001)
    [post] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    async with sessionmaker.begin() as session:
        # What ingest stores for Chatwoot's delete.
        await session.execute(
            update(Message)
            .where(Message.chatwoot_message_id == 7001)
            .values(deleted=True, content="", attachments=[])
        )
        message_id = await session.scalar(
            select(Message.id).where(Message.chatwoot_message_id == 7001)
        )
    payload = {"ticket_id": ticket, "message_id": message_id}
    await queue(sessionmaker, ana, ticket, "message_update", payload, "edit:7001:x")
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:edit:x")
    await settled(sessionmaker)
    updates = {u.activity_id: str(u.card) for u in connector.updates(ana.conversation_id)}
    assert set(updates) == {post.activity_id, "card-1"}
    assert all("hunter2" not in card for card in updates.values())
    assert all("mensagem apagada" in card for card in updates.values())
    assert [row.state for row in await rows(sessionmaker)] == [OutboxState.SENT] * 3
