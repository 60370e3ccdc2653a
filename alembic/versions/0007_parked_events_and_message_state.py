"""Park events of conversations not stored yet; keep a message's kind, attributes and deletion.

Chatwoot assigns an agent (and agents may answer) inside the conversation create, before our
ticket row commits; those events were dropped as foreign and lost for good. They now wait in
`parked_events` until the ticket commits. Messages keep Chatwoot's `content_type` and
`content_attributes` (a question's options), whether an agent deleted them, and Chatwoot's time
of the stored version, so an older update never overwrites a newer one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parked_events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("event", postgresql.JSONB(), nullable=False),
        sa.Column(
            "parked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index(
        "ix_parked_events_conversation_id", "parked_events", ["conversation_id"], unique=False
    )
    op.create_index("ix_parked_events_parked_at", "parked_events", ["parked_at"], unique=False)
    op.add_column(
        "messages",
        sa.Column("content_type", sa.String(40), nullable=False, server_default="text"),
    )
    op.add_column(
        "messages",
        sa.Column(
            "content_attributes",
            postgresql.JSONB(),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column(
        "messages", sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "messages", sa.Column("chatwoot_updated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("messages", "chatwoot_updated_at")
    op.drop_column("messages", "deleted")
    op.drop_column("messages", "content_attributes")
    op.drop_column("messages", "content_type")
    op.drop_index("ix_parked_events_parked_at", table_name="parked_events")
    op.drop_index("ix_parked_events_conversation_id", table_name="parked_events")
    op.drop_table("parked_events")
