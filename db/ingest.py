"""The hot path of ingest in SQL: a new Chatwoot message stored in one statement.

One round trip, one implicit transaction: lock the ticket row (timeline ids in commit order),
insert the message unless its Chatwoot id or echo id is known, touch the ticket, queue one
Teams delivery per active chat of the requester, record the webhook receipt, and queue the
NOTIFYs PostgreSQL sends on commit. The statement sees only tickets committed before it
started, so "no ticket" is not final: the caller then takes the conversation's advisory lock
and looks again (`db.parked`). Plain asyncpg, no ORM: this runs once per webhook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.exc import SQLAlchemyError

from db.outbox import CHANNEL as OUTBOX_CHANNEL

# The outbox payload arrives from the typed contract (tickets.deliveries) without the fields
# only this statement knows; it adds the ticket's id and title and the new message's id.
_STORE_MESSAGE = """
WITH ticket AS (
    SELECT id, requester_id, title FROM tickets
    WHERE chatwoot_conversation_id = $1
    FOR UPDATE
), stored AS (
    INSERT INTO messages (
        ticket_id, chatwoot_message_id, echo_id, direction, author, content, attachments,
        origin, created_at, content_type, content_attributes, deleted, chatwoot_updated_at
    )
    SELECT ticket.id, $2::bigint, $3::text, $4::direction, $5::text, $6::text, $7::jsonb,
           'chatwoot'::origin, $8::timestamptz, $9::text, $10::jsonb, $11::boolean,
           $12::timestamptz
    FROM ticket
    ON CONFLICT DO NOTHING
    RETURNING id, ticket_id
), touched AS (
    UPDATE tickets SET updated_at = now(), last_activity_at = now(),
        -- an agent's reply ends their "typing" (the dashboard's typing_off may come later)
        agent_typing = CASE WHEN $4::direction = 'agent' THEN NULL ELSE tickets.agent_typing END
    FROM stored WHERE tickets.id = stored.ticket_id
    RETURNING tickets.id
), queued AS (
    INSERT INTO outbox (user_id, ticket_id, target, kind, payload, dedupe_key)
    SELECT ticket.requester_id, ticket.id, chat.conversation_id, $13::text,
           $14::jsonb || jsonb_build_object(
               'ticket_id', ticket.id, 'title', ticket.title, 'message_id', stored.id),
           $15::text || ':' || chat.conversation_id
    FROM stored
    JOIN ticket ON ticket.id = stored.ticket_id
    JOIN teams_conversation_refs AS chat
      ON chat.user_id = ticket.requester_id AND chat.state = 'active'
    WHERE $13::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING id
), receipt AS (
    INSERT INTO webhook_receipts (delivery_id, event, outcome)
    SELECT $16::text, $17::text,
           CASE WHEN EXISTS (SELECT FROM stored) THEN 'stored' ELSE $18::text END
    FROM ticket
    WHERE $17::text IS NOT NULL
    RETURNING id
)
SELECT
    (SELECT id FROM ticket) AS ticket_id,
    (SELECT requester_id FROM ticket) AS requester_id,
    (SELECT id FROM stored) AS message_id,
    (SELECT count(*) FROM touched) AS touched,
    (SELECT count(*) FROM receipt) AS receipts,
    (SELECT pg_notify($20::text, '') FROM queued LIMIT 1) IS NOT NULL AS woken,
    (SELECT pg_notify($19::text, ticket.id || ':' || ticket.requester_id) FROM stored, ticket)
        IS NOT NULL AS changed
"""
# What a store that is down or gone raises, through either pool (ORM or plain asyncpg).
STORE_ERRORS = (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
_RECEIPT = "INSERT INTO webhook_receipts (delivery_id, event, outcome) VALUES ($1, $2, $3)"


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A Chatwoot message to store, with the columns the `messages` row gets."""

    conversation_id: int
    chatwoot_message_id: int
    echo_id: str | None
    direction: str
    author: str
    content: str
    attachments: list[dict[str, Any]]
    created_at: datetime
    content_type: str
    content_attributes: dict[str, Any]
    deleted: bool
    chatwoot_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class QueuedDelivery:
    """An outbox row for every active Teams chat of the requester, keyed on `key`:chat."""

    kind: str
    payload: dict[str, Any]
    key: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """A webhook delivery to record in the same transaction as its event."""

    delivery_id: str | None
    event: str


@dataclass(frozen=True, slots=True)
class Stored:
    """What the statement did: no ticket (None ids), or the ticket and the new message's id."""

    ticket_id: int | None
    requester_id: int | None
    message_id: int | None
    receipt_recorded: bool


async def store_message(
    connection: asyncpg.Connection,
    message: NewMessage,
    *,
    delivery: QueuedDelivery | None,
    receipt: Receipt | None,
    known_outcome: str,
    changed_channel: str,
) -> Stored:
    """Store a new message with its deliveries and receipt (`known_outcome` when it was known).

    A stored message notifies `changed_channel` with "ticket:requester" on commit.
    """
    row = await connection.fetchrow(
        _STORE_MESSAGE,
        message.conversation_id,
        message.chatwoot_message_id,
        message.echo_id,
        message.direction,
        message.author,
        message.content,
        json.dumps(message.attachments),
        message.created_at,
        message.content_type,
        json.dumps(message.content_attributes),
        message.deleted,
        message.chatwoot_updated_at,
        delivery.kind if delivery else None,
        json.dumps(delivery.payload if delivery else {}),
        delivery.key if delivery else "",
        receipt.delivery_id if receipt else None,
        receipt.event[:80] if receipt else None,
        known_outcome,
        changed_channel,
        OUTBOX_CHANNEL,
    )
    assert row is not None
    return Stored(
        ticket_id=row["ticket_id"],
        requester_id=row["requester_id"],
        message_id=row["message_id"],
        receipt_recorded=bool(row["receipts"]),
    )


async def record_receipt(
    connection: asyncpg.Connection, *, delivery_id: str | None, event: str, outcome: str
) -> None:
    """Record one webhook delivery and its outcome (its own statement)."""
    await connection.execute(_RECEIPT, delivery_id, event[:80], outcome[:80])
