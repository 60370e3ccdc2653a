"""A reply an agent edits or deletes in Chatwoot: no card in the chat keeps the old text."""

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
from tickets.deliveries import show_card_at

Sessions = async_sessionmaker[AsyncSession]


async def _delete(sessions: Sessions, chatwoot_id: int) -> int:
    """Store what ingest stores for Chatwoot's delete; return the message's id."""
    async with sessions.begin() as session:
        await session.execute(
            update(Message)
            .where(Message.chatwoot_message_id == chatwoot_id)
            .values(deleted=True, content="", attachments=[])
        )
        message_id = await session.scalar(
            select(Message.id).where(Message.chatwoot_message_id == chatwoot_id)
        )
    assert message_id is not None
    return message_id


async def test_a_deleted_reply_on_the_newest_card_is_replaced_by_the_marker(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="pt-BR")
    ticket = await add_ticket(sessionmaker, ana, title="VPN", card_activity="card-1")
    await queue_agent_message(sessionmaker, ana, ticket, "a senha é hunter2", chatwoot_id=7001)
    [post] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    message_id = await _delete(sessionmaker, 7001)
    payload = {"ticket_id": ticket, "message_id": message_id}
    await queue(sessionmaker, ana, ticket, "message_update", payload, "edit:7001:x")
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:edit:x")
    await settled(sessionmaker)
    updates = connector.updates(ana.conversation_id)
    # card-1 collapsed when the reply came; the reply's own card now shows the marker.
    assert [u.activity_id for u in updates] == ["card-1", post.activity_id]
    assert all("hunter2" not in str(u.card) for u in updates)
    assert "(mensagem apagada)" in str(updates[1].card)
    states = [(row.kind, row.state) for row in await rows(sessionmaker)]
    assert states == [
        ("agent_message", OutboxState.SENT),
        ("card_summary", OutboxState.SENT),
        ("message_update", OutboxState.SENT),
        ("card_update", OutboxState.CANCELLED),
    ]


async def test_a_deleted_reply_on_an_older_card_shows_the_marker_and_a_full_card_too(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="VPN")
    await queue_agent_message(
        sessionmaker, ana, ticket, "the password is hunter2", chatwoot_id=7002
    )
    await queue_agent_message(sessionmaker, ana, ticket, "sorry, wrong chat", chatwoot_id=7003)
    first, second = await connector.wait_for(ana.conversation_id, 2)
    await settled(sessionmaker)
    assert connector.updates(ana.conversation_id) == []
    # The employee opened the whole ticket on the newest card (the first one collapsed).
    async with sessionmaker.begin() as session:
        await show_card_at(
            session,
            user_id=ana.user_id,
            ticket_id=ticket,
            conversation_id=ana.conversation_id,
            activity_id=str(second.activity_id),
        )
    await settled(sessionmaker)
    message_id = await _delete(sessionmaker, 7002)
    payload = {"ticket_id": ticket, "message_id": message_id}
    await queue(sessionmaker, ana, ticket, "message_update", payload, "edit:7002:x")
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:edit:x")
    await settled(sessionmaker)
    updates = connector.updates(ana.conversation_id)
    # The collapsed card is left alone; the full card is put in place with the marker.
    assert [u.activity_id for u in updates] == [first.activity_id, second.activity_id]
    assert all("hunter2" not in str(u.card) for u in updates)
    assert "(message deleted)" in str(updates[1].card)


async def test_an_edited_reply_card_that_is_not_the_newest_shows_the_new_text(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="VPN")
    await queue_agent_message(sessionmaker, ana, ticket, "restart teh modem", chatwoot_id=7004)
    await queue_agent_message(sessionmaker, ana, ticket, "then call me", chatwoot_id=7005)
    first, _ = await connector.wait_for(ana.conversation_id, 2)
    await settled(sessionmaker)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Message)
            .where(Message.chatwoot_message_id == 7004)
            .values(content="restart the modem")
        )
        message_id = await session.scalar(
            select(Message.id).where(Message.chatwoot_message_id == 7004)
        )
    payload = {"ticket_id": ticket, "message_id": message_id}
    await queue(sessionmaker, ana, ticket, "message_update", payload, "edit:7004:x")
    await settled(sessionmaker)
    [edit] = connector.updates(ana.conversation_id)
    assert edit.activity_id == first.activity_id
    assert "restart the modem" in str(edit.card) and "teh" not in str(edit.card)
