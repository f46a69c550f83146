"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 23:45:56.824120
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import movieverse.platform.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "password_changed_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_auth_accounts_email")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_accounts_username")),
    )
    op.create_table(
        "auth_inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("handled_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_auth_inbox")),
    )
    op.create_table(
        "auth_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_auth_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_auth_outbox_event_id")),
    )
    with op.batch_alter_table("auth_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "auth_refresh_families",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_refresh_families")),
    )
    with op.batch_alter_table("auth_refresh_families", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_refresh_families_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "auth_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["auth_refresh_families.id"],
            name=op.f("fk_auth_refresh_tokens_family_id_auth_refresh_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_refresh_tokens")),
    )
    with op.batch_alter_table("auth_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_auth_refresh_tokens_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_auth_refresh_tokens_family_id"), ["family_id"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL where a
    # foreign key still needs one. Children before parents.
    op.drop_table("auth_refresh_tokens")
    op.drop_table("auth_refresh_families")
    op.drop_table("auth_outbox")
    op.drop_table("auth_inbox")
    op.drop_table("auth_accounts")
