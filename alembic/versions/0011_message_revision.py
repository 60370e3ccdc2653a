"""Give a message a revision from the timeline sequence when an edit or delete changes it.

A page following a ticket over /ws resumes "after cursor N"; an edited or deleted message keeps
its id below N, so the open page kept showing the old text. The revision is drawn from the same
sequence as timeline ids, so "after N" also finds messages changed since.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("revision", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "revision")
