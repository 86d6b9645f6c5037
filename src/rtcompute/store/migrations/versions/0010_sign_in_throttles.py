"""sign-in throttling per source instead of a lock on the identity

Five failed sign-ins locked an identity for everyone, so anyone could lock anyone out.
Failures are now counted per (source, identity) and per source in `sign_in_throttles`
(domain/throttling.py); the identity's own counter and lock go.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcompute.store.tables

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttles",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", rtcompute.store.tables.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "subject", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("sign_in_throttles") as batch:
        batch.create_index("ix_sign_in_throttles_expires_at", ["expires_at"], unique=False)
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("failed_attempts")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("identities") as batch:
        batch.add_column(
            sa.Column(
                "locked_until", rtcompute.store.tables.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False)
        )
    op.drop_table("sign_in_throttles")
