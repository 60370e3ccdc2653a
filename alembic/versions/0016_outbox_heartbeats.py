"""Add `outbox_workers`: each outbox worker's heartbeat, which says whose leases are live.

A lease used to be void as soon as its worker's LISTEN connection was missing from
`pg_stat_activity`. A live worker whose backend was terminated lost its leases at once, and
another worker sent its rows a second time while the first was still sending them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_workers",
        sa.Column("worker", sa.String(length=100), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox_workers")
