"""clusters, their components and engine deployments say their messages in both languages

A cluster's message, each component's message and an engine deployment's message carry a
Chinese text next to the English one, as job events do since 0012 (issue 18): the API
answers in the Accept-Language language and the console in the page's. Rows written before
have no Chinese text (""), and read in English in both languages until the reconciler
writes them again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clusters", "cluster_components", "engine_deployments")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("message_zh", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("message_zh")
