"""Each agent reply shows once in Teams: on a new card, while the ticket's older card collapses.

Counted against the fake connector: the messages posted, the messages updated in place, and what
every message in the chat finally shows.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import OutboxWorker
from db import repo
from db.models import OutboxState
from tests.bot.outbox_setup import (
    Employee,
    add_employee,
    add_ticket,
    card_texts,
    queue,
    queue_agent_message,
    rows,
)
from tests.bot.test_outbox import settled
from tests.fakes import connector as fc
from tests.fakes.connector import FakeConnector
from tickets.deliveries import show_card_at

Sessions = async_sessionmaker[AsyncSession]
SUMMARY_EN = "This ticket's conversation continues on the newest card below."


def chat_now(connector: FakeConnector, employee: Employee) -> dict[str, str]:
    """Return what each message of the chat shows now: its last update, else what was posted."""
    shown: dict[str, str] = {}
    for post in connector.sent(employee.conversation_id):
        assert post.activity_id is not None
        shown[post.activity_id] = " | ".join(card_texts(post.card)) if post.card else ""
    for put in connector.updates(employee.conversation_id):
        assert put.activity_id is not None
        shown[put.activity_id] = " | ".join(card_texts(put.card))
    return shown


def times_shown(shown: dict[str, str], words: str) -> int:
    """Count the messages of the chat that show these words."""
    return sum(words in text for text in shown.values())


async def card_of(sessions: Sessions, ticket_id: int) -> str | None:
    """Return the Teams message that is the ticket's newest card."""
    async with sessions() as session:
        ticket = await repo.get_ticket(session, ticket_id)
        assert ticket is not None
        return ticket.teams_card_activity_id


async def test_each_reply_shows_once_and_the_full_card_collapses(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="VPN", card_activity="card-1")

    await queue_agent_message(sessionmaker, ana, ticket, "Try the blue cable")
    [first] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    # The full card above would show the reply again: it collapses to the ticket's summary.
    [collapse] = connector.updates(ana.conversation_id)
    assert collapse.activity_id == "card-1"
    assert "VPN" in card_texts(collapse.card) and SUMMARY_EN in card_texts(collapse.card)
    shown = chat_now(connector, ana)
    assert times_shown(shown, "Try the blue cable") == 1
    assert "Try the blue cable" in shown[str(first.activity_id)]
    assert await card_of(sessionmaker, ticket) == first.activity_id

    # A second reply's card repeats nothing of the first: one post, no update.
    await queue_agent_message(sessionmaker, ana, ticket, "Now the red one")
    await connector.wait_for(ana.conversation_id, 2)
    await settled(sessionmaker)
    posts, puts = connector.sent(ana.conversation_id), connector.updates(ana.conversation_id)
    assert (len(posts), len(puts)) == (2, 1)
    shown = chat_now(connector, ana)
    assert times_shown(shown, "Try the blue cable") == 1
    assert times_shown(shown, "Now the red one") == 1
    assert await card_of(sessionmaker, ticket) == posts[1].activity_id

    # A status change reaches the chat as its line; the reply card is left as it is.
    await queue(sessionmaker, ana, ticket, "card_update", {"ticket_id": ticket}, "card:9")
    await settled(sessionmaker)
    assert len(connector.updates(ana.conversation_id)) == 1

    # The employee opens the whole ticket on the newest card: every older reply card collapses.
    async with sessionmaker.begin() as session:
        await show_card_at(
            session,
            user_id=ana.user_id,
            ticket_id=ticket,
            conversation_id=ana.conversation_id,
            activity_id=str(posts[1].activity_id),
        )
    await settled(sessionmaker)
    puts = connector.updates(ana.conversation_id)
    assert [put.activity_id for put in puts] == ["card-1", first.activity_id]
    kinds = [(row.kind, row.state) for row in await rows(sessionmaker)]
    assert kinds == [
        ("agent_message", OutboxState.SENT),
        ("card_summary", OutboxState.SENT),
        ("agent_message", OutboxState.SENT),
        ("card_update", OutboxState.CANCELLED),
        ("card_summary", OutboxState.SENT),
    ]


async def test_a_reply_with_no_card_in_the_chat_posts_one_card_and_updates_nothing(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="pt-BR")
    ticket = await add_ticket(sessionmaker, ana, title="Impressora")
    await queue_agent_message(sessionmaker, ana, ticket, "Pode testar agora?")
    [post] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    assert connector.updates(ana.conversation_id) == []
    assert times_shown(chat_now(connector, ana), "Pode testar agora?") == 1
    assert await card_of(sessionmaker, ticket) == post.activity_id


async def test_a_reply_sent_as_a_plain_link_leaves_the_card_where_it_was(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana, card_activity="card-1")
    connector.script(ana.conversation_id, [fc.too_large()])
    await queue_agent_message(sessionmaker, ana, ticket, "huge")
    [post] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    assert post.card is None and post.text is not None
    assert connector.updates(ana.conversation_id) == []
    assert await card_of(sessionmaker, ticket) == "card-1"


async def test_opening_an_older_card_again_collapses_the_newest(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url, locale="en")
    ticket = await add_ticket(sessionmaker, ana, title="VPN", card_activity="card-1")
    await queue_agent_message(sessionmaker, ana, ticket, "Try the blue cable")
    [post] = await connector.wait_for(ana.conversation_id)
    await settled(sessionmaker)
    for _ in range(2):  # what the bot records when the employee clicks View on card-1 (twice)
        async with sessionmaker.begin() as session:
            assert await show_card_at(
                session,
                user_id=ana.user_id,
                ticket_id=ticket,
                conversation_id=ana.conversation_id,
                activity_id="card-1",
            )
    await settled(sessionmaker)
    puts = connector.updates(ana.conversation_id)
    assert [put.activity_id for put in puts] == ["card-1", post.activity_id]
    assert SUMMARY_EN in card_texts(puts[1].card)
    assert await card_of(sessionmaker, ticket) == "card-1"
    # A new reply collapses card-1 again: a card opened again can be collapsed again.
    await queue_agent_message(sessionmaker, ana, ticket, "Now the red one")
    await connector.wait_for(ana.conversation_id, 2)
    await settled(sessionmaker)
    puts = connector.updates(ana.conversation_id)
    assert [put.activity_id for put in puts] == ["card-1", post.activity_id, "card-1"]
    shown = chat_now(connector, ana)
    assert times_shown(shown, "Try the blue cable") == 0  # its card collapsed; on the web still
    assert times_shown(shown, "Now the red one") == 1


async def test_a_stale_collapse_spares_a_card_the_employee_opened_again(
    sessionmaker: Sessions, connector: FakeConnector, worker: OutboxWorker
) -> None:
    ana = await add_employee(sessionmaker, connector.url)
    ticket = await add_ticket(sessionmaker, ana, card_activity="card-1")
    summary = {"ticket_id": ticket, "activity_id": "card-1"}
    await queue(sessionmaker, ana, ticket, "card_summary", summary, "summary:card-1")
    await settled(sessionmaker)
    assert connector.updates(ana.conversation_id) == []
    [row] = await rows(sessionmaker)
    assert row.state is OutboxState.CANCELLED
