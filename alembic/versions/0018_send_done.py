"""Add `teams_sends.done_at`: a request counts in Teams' windows until it has been answered.

A slot reserved at one moment reaches Teams a little later, and under load some requests travel
much slower than others; a window counted from the reservation alone then lets 51 requests
land inside one second. With the answer's time known, a request counts from its reservation
until one window after its answer, which covers the moment it reached Teams whatever its travel.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("teams_sends", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("teams_sends", "done_at")
