"""Merge `login_attempts` into `rate_hits`: one throttle for sign-ins, sign-ups, mails, profile.

Two tables counted requests the same way (a key, a moment, a sliding window) with two sets
of functions. Sign-in attempts still inside their window move over with their keys, so a
guesser throttled before the upgrade stays throttled after it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO rate_hits (key, hit_at) SELECT key, attempted_at FROM login_attempts"
        " WHERE attempted_at > now() - interval '1 day'"
    )
    op.drop_index("ix_login_attempts_key_at", table_name="login_attempts")
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_key_at", "login_attempts", ["key", "attempted_at"], unique=False
    )
    # Sign-in keys ("email:", "ip:") go back; the others stay where the old code reads them.
    op.execute(
        "INSERT INTO login_attempts (key, attempted_at) SELECT key, hit_at FROM rate_hits"
        " WHERE key LIKE 'email:%' OR key LIKE 'ip:%'"
    )
    op.execute("DELETE FROM rate_hits WHERE key LIKE 'email:%' OR key LIKE 'ip:%'")
