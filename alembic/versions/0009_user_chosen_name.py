"""Add `users.name_chosen_at`: when the person typed their own name on the profile page.

The Microsoft sign-in and every Teams message replace the display name with the identity
provider's; once a person chose a name on the profile page, that choice is kept instead.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("name_chosen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "name_chosen_at")
