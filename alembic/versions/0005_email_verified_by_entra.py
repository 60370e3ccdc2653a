"""Add `users.email_verified_by_entra`: whether the stored address came from a verified claim.

Agents saw `email_verified_by_entra` for every user linked to Entra, though the address could
come from a sign-up form or an unverified token claim. Existing users start unverified: their
addresses' origin is unknown.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column(
            "email_verified_by_entra", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade() -> None:
    op.drop_column("users", "email_verified_by_entra")
