"""Add `tickets.assignee_changed_at`: Chatwoot's time of the newest assignee seen.

Chatwoot's jobs run unordered and send a snapshot of the conversation as they find it, so an
older snapshot can arrive after a newer one. Like `status_changed_at` for the status, this lets
ingest drop an assignee older than the one it holds instead of waiting for the next catch-up.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tickets", sa.Column("assignee_changed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("tickets", "assignee_changed_at")
