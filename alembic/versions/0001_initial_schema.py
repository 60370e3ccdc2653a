"""Create the whole domain: users, sessions, contact links, tickets, timeline, Teams, outbox.

Messages and ticket events share `timeline_seq` so one id orders a ticket's whole timeline.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("timeline_seq")))
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
    op.create_table(
        "teams_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_teams_throttle")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("entra_oid", sa.String(length=64), nullable=True),
        sa.Column("entra_tid", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("current_ticket_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("entra_oid", "entra_tid", name="uq_users_entra"),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=True),
        sa.Column("event", sa.String(length=80), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
    )
    op.create_index(
        op.f("ix_webhook_receipts_delivery_id"), "webhook_receipts", ["delivery_id"], unique=False
    )
    op.create_table(
        "chatwoot_contact_link",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("inbox_identifier", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("pubsub_token", sa.String(length=100), nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chatwoot_contact_link_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatwoot_contact_link")),
        sa.UniqueConstraint("source_id", name=op.f("uq_chatwoot_contact_link_source_id")),
        sa.UniqueConstraint("user_id", "inbox_identifier", name="uq_contact_user_inbox"),
    )
    op.create_table(
        "teams_conversation_refs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=False),
        sa.Column("reference", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "state",
            sa.Enum("active", "blocked", "uninstalled", "gone", name="reference_state"),
            server_default="active",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_teams_conversation_refs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_conversation_refs")),
        sa.UniqueConstraint(
            "conversation_id", name=op.f("uq_teams_conversation_refs_conversation_id")
        ),
    )
    op.create_index(
        op.f("ix_teams_conversation_refs_user_id"),
        "teams_conversation_refs",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("csrf_token", sa.String(length=128), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("requester_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_link_id", sa.BigInteger(), nullable=True),
        sa.Column("beneficiary_name", sa.String(length=200), nullable=True),
        sa.Column("beneficiary_email", sa.String(length=320), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("complexity", sa.String(length=60), nullable=False),
        sa.Column("sector", sa.String(length=60), nullable=False),
        sa.Column("chatwoot_conversation_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "pending", "resolved", "snoozed", name="ticket_status"),
            server_default="open",
            nullable=False,
        ),
        sa.Column("assignee_name", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.Enum("web", "teams", "chatwoot", name="origin"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("teams_card_activity_id", sa.String(length=200), nullable=True),
        sa.Column("teams_card_conversation_id", sa.String(length=400), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_link_id"],
            ["chatwoot_contact_link.id"],
            name=op.f("fk_tickets_contact_link_id_chatwoot_contact_link"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["users.id"],
            name=op.f("fk_tickets_requester_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "chatwoot_conversation_id", name=op.f("uq_tickets_chatwoot_conversation_id")
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_tickets_idempotency_key")),
    )
    op.create_index(
        "ix_tickets_requester_activity",
        "tickets",
        ["requester_id", "last_activity_at"],
        unique=False,
    )
    op.create_table(
        "messages",
        sa.Column(
            "id", sa.BigInteger(), server_default=sa.text("nextval('timeline_seq')"), nullable=False
        ),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("chatwoot_message_id", sa.BigInteger(), nullable=True),
        sa.Column("echo_id", sa.String(length=100), nullable=True),
        sa.Column(
            "direction", sa.Enum("requester", "agent", "system", name="direction"), nullable=False
        ),
        sa.Column("author", sa.String(length=200), server_default="", nullable=False),
        sa.Column("content", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "attachments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("origin", sa.Enum("web", "teams", "chatwoot", name="origin"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_messages_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("chatwoot_message_id", name=op.f("uq_messages_chatwoot_message_id")),
        sa.UniqueConstraint("echo_id", name=op.f("uq_messages_echo_id")),
    )
    op.create_index("ix_messages_ticket_id_id", "messages", ["ticket_id", "id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dedupe_key", sa.String(length=500), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "sent", "failed", "cancelled", name="outbox_state"),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("activity_id", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_outbox_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "ticket_events",
        sa.Column(
            "id", sa.BigInteger(), server_default=sa.text("nextval('timeline_seq')"), nullable=False
        ),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_ticket_events_dedupe_key")),
    )
    op.create_index(
        "ix_ticket_events_ticket_id_id", "ticket_events", ["ticket_id", "id"], unique=False
    )

    op.create_foreign_key(
        op.f("fk_users_current_ticket_id_tickets"),
        "users",
        "tickets",
        ["current_ticket_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_users_current_ticket_id_tickets"), "users", type_="foreignkey")
    op.drop_index("ix_ticket_events_ticket_id_id", table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_messages_ticket_id_id", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_tickets_requester_activity", table_name="tickets")
    op.drop_table("tickets")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_teams_conversation_refs_user_id"), table_name="teams_conversation_refs")
    op.drop_table("teams_conversation_refs")
    op.drop_table("chatwoot_contact_link")
    op.drop_index(op.f("ix_webhook_receipts_delivery_id"), table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
    op.drop_table("teams_throttle")
    op.drop_index("ix_login_attempts_key_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    for name in ("reference_state", "ticket_status", "origin", "direction", "outbox_state"):
        op.execute(f"DROP TYPE IF EXISTS {name}")
    op.execute(sa.schema.DropSequence(sa.Sequence("timeline_seq")))
