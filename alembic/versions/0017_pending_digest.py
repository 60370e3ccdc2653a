"""Add `chatwoot_contact_link.pending_digest`: which requests unfinished creates were for.

A conversation whose create reached Chatwoot but whose first message never went is empty, and
carries the custom attributes (title, sector...) of the request that made it. It must be adopted
only by a retry of that request, never by the next ticket the same person opens.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chatwoot_contact_link", sa.Column("pending_digest", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("chatwoot_contact_link", "pending_digest")
