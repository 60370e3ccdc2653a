"""Add `tickets.synced_message_id`, the catch-up watermark.

Catch-up used to read Chatwoot from the newest message id we held, so an agent message missed
during a fault and followed by an employee message was never read back. The watermark only
moves after a complete Client API read, so every gap above it is read again. Existing tickets
start at NULL (read everything once).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("synced_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "synced_message_id")
