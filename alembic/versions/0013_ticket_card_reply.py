"""Add `tickets.teams_card_message_id`: the reply the ticket's newest Teams card shows alone.

A ticket's newest card in a chat is either its full card or an agent reply's own card. Knowing
which lets a reply leave the reply card before it alone (each shows a different reply) and
collapse only a full card, so a burst of replies costs one post each.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("teams_card_message_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("tickets", "teams_card_message_id")
