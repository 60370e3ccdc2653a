"""Add presence: how far the requester has read, who is typing, when the current ticket was set.

`tickets.requester_seen_id` is the timeline id up to which the requester has seen the ticket
(agent messages above it are unread); existing tickets start fully read, so an upgrade does not
greet everyone with old replies marked new. `tickets.agent_typing` / `agent_typing_at` hold the
agent Chatwoot last said is typing (any process's sockets read it after the hub's hint).
`users.current_ticket_at` says when the bot's current ticket was last chosen, so free text in
Teams goes to it only while that choice is fresh.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("requester_seen_id", sa.BigInteger(), nullable=True))
    op.add_column("tickets", sa.Column("agent_typing", sa.String(200), nullable=True))
    op.add_column(
        "tickets", sa.Column("agent_typing_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "users", sa.Column("current_ticket_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(
        "UPDATE tickets SET requester_seen_id = "
        "(SELECT max(m.id) FROM messages m WHERE m.ticket_id = tickets.id)"
    )


def downgrade() -> None:
    op.drop_column("users", "current_ticket_at")
    op.drop_column("tickets", "agent_typing_at")
    op.drop_column("tickets", "agent_typing")
    op.drop_column("tickets", "requester_seen_id")
