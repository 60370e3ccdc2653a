"""Add `helpdesk_binding`: the Chatwoot base URL and inbox this database belongs to.

Pointed at another Chatwoot or inbox, every ticket's conversation id named someone else's
conversation and every later create failed. The first start stores the pair; a later start with
another pair is refused before anything runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "helpdesk_binding",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("base_url", sa.String(400), nullable=False),
        sa.Column("inbox_identifier", sa.String(100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("helpdesk_binding")
