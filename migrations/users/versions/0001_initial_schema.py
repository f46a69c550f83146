"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 23:45:57.893128
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
        "users_inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("handled_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_users_inbox")),
    )
    op.create_table(
        "users_list_items",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "watchlist", "favourites", "seen", name="listkind", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("movie_id", sa.Integer(), nullable=False),
        sa.Column("added_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", "movie_id", name=op.f("pk_users_list_items")),
    )
    with op.batch_alter_table("users_list_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_list_items_added_at"), ["added_at"], unique=False
        )

    op.create_table(
        "users_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_users_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_users_outbox_event_id")),
    )
    with op.batch_alter_table("users_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_users_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "users_profiles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("favourite_genres", sa.JSON(), nullable=False),
        sa.Column("preferred_languages", sa.JSON(), nullable=False),
        sa.Column("include_adult", sa.Boolean(), nullable=False),
        sa.Column("notification_settings", sa.JSON(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users_profiles")),
        sa.UniqueConstraint("username", name=op.f("uq_users_profiles_username")),
    )
    op.create_table(
        "users_tombstones",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users_tombstones")),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MySQL where a
    # foreign key still needs one. Children before parents.
    op.drop_table("users_tombstones")
    op.drop_table("users_profiles")
    op.drop_table("users_outbox")
    op.drop_table("users_list_items")
    op.drop_table("users_inbox")
