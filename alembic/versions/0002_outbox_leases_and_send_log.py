"""Outbox leases, a per-conversation head index, 429 strikes and the shared send log.

`outbox.claimed_until`/`claimed_by` make a claim a lease: a crashed process's claims expire and
another worker picks the row up. `ix_outbox_target_pending` finds the oldest pending row of a
conversation (only that row may be in flight). `teams_throttle.strikes` drives the exponential
backoff after a 429 without `Retry-After`. `teams_sends` logs every request made to Teams per
tenant and per conversation, so every process can check the sliding-window limits before
sending.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("claimed_by", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_outbox_target_pending",
        "outbox",
        ["target", "id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.add_column(
        "teams_throttle",
        sa.Column("strikes", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "teams_sends",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_sends")),
    )
    op.create_index("ix_teams_sends_key_at", "teams_sends", ["key", "sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_teams_sends_key_at", table_name="teams_sends")
    op.drop_table("teams_sends")
    op.drop_column("teams_throttle", "strikes")
    op.drop_index("ix_outbox_target_pending", table_name="outbox")
    op.drop_column("outbox", "claimed_by")
    op.drop_column("outbox", "claimed_until")
