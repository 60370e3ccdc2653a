"""Add `send_claims`: one holder per send to Chatwoot, and a trace of sends that may have landed.

An employee's retry (same idempotency key) can reach another service process while the first
attempt is still talking to Chatwoot, or after the first process died between Chatwoot's answer
and our commit. Per-process locks cannot see either case; this table can.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_claims",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("holder", sa.String(length=40), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("after_message_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("send_claims")
