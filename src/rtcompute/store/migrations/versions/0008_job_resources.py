"""job resources: the attached JARs and files frozen into revisions and deployments

A deployment runs what was frozen when the job went online; its resources are part of
that, so they get a column of their own (a JSON list) rather than a key inside the settings
JSON, which the settings parser refuses by design (unknown settings are an error).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("job_revisions", "job_deployments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("resources", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    for table in ("job_revisions", "job_deployments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("resources")
