"""hosts: machines joined through a node agent, their join tokens, a zone's provider

A zone is backed by this machine (`local`) or by joined hosts (`hosts`, issue 19). A host
row holds its agent's public key (its credential) and the node it serves; a join token is
single use, expires, and keeps only the SHA-256 of its secret.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcompute.store.tables

UTC = rtcompute.store.tables.UtcDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.add_column(
            sa.Column("provider", sa.String(length=16), nullable=False, server_default="local")
        )
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("agent_port", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("memory_mb", sa.Integer(), nullable=False),
        sa.Column("detected_cores", sa.Integer(), nullable=False),
        sa.Column("detected_memory_mb", sa.Integer(), nullable=False),
        sa.Column("disk_mb", sa.BigInteger(), nullable=False),
        sa.Column("pinned_type", sa.String(length=16), nullable=True),
        sa.Column("draining", sa.Boolean(), nullable=False),
        sa.Column("lost_since", UTC(timezone=True), nullable=True),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("agent_version", sa.String(length=32), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("joined_at", UTC(timezone=True), nullable=False),
        sa.Column("last_heartbeat_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_hosts_zone_id_zones")),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["cluster_nodes.id"],
            name=op.f("fk_hosts_node_id_cluster_nodes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosts")),
        sa.UniqueConstraint("name", name=op.f("uq_hosts_name")),
        sa.UniqueConstraint("address", name=op.f("uq_hosts_address")),
        sa.UniqueConstraint("node_id", name=op.f("uq_hosts_node_id")),
    )
    op.create_table(
        "host_join_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("probe_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("used_at", UTC(timezone=True), nullable=True),
        sa.Column("host_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["zones.id"],
            name=op.f("fk_host_join_tokens_zone_id_zones"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.id"],
            name=op.f("fk_host_join_tokens_host_id_hosts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_join_tokens")),
    )


def downgrade() -> None:
    op.drop_table("host_join_tokens")
    op.drop_table("hosts")
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("provider")
