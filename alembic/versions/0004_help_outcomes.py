"""Add `help_outcomes`: what became of Help Center suggestions (shown, resolved, opened).

One row per form and outcome, so a repeated search or a double click counts once; the admin
stats read the last 30 days by `created_at`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "help_outcomes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("surface", sa.String(length=10), nullable=False),
        sa.Column("form_key", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_help_outcomes_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_help_outcomes"),
        sa.UniqueConstraint(
            "user_id", "surface", "form_key", "outcome", name="uq_help_outcomes_form_outcome"
        ),
    )
    op.create_index("ix_help_outcomes_created_at", "help_outcomes", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_help_outcomes_created_at", table_name="help_outcomes")
    op.drop_table("help_outcomes")
