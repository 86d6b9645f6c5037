"""job runs keep their Flink configuration

A run's configuration (the job's settings, its state directories, the HA quorum) is fixed
when the run is placed. It was rebuilt from five tables on every pass of the job reconciler
(twice a second per running job); now it is written once, with the run. Runs written before
this revision have none and are still rebuilt.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("config", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("config")
