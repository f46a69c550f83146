"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 00:55:52.457869
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

import movieverse.platform.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metadata_documents",
        sa.Column(
            "collection",
            sa.String(length=64)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=64), "mysql"
            )
            .with_variant(sa.VARCHAR(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "doc_id",
            sa.String(length=128)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=128), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=128), "mysql"
            )
            .with_variant(sa.VARCHAR(length=128, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("collection", "doc_id", name=op.f("pk_metadata_documents")),
    )
    op.create_table(
        "metadata_inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("handled_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_metadata_inbox")),
    )
    op.create_table(
        "metadata_outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=120), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", movieverse.platform.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_metadata_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_metadata_outbox_event_id")),
    )
    with op.batch_alter_table("metadata_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_metadata_outbox_published_at"), ["published_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("metadata_outbox")
    op.drop_table("metadata_inbox")
    op.drop_table("metadata_documents")
