"""job events are folded and bilingual; deployments say their state in both languages; runs
count their JobManager failovers

Repeated identical events (a checkpoint failing every interval, the same failure after each
restart) become one row with a count and the time of the first (issue 18). Events and a
deployment's state message carry a Chinese text next to the English one, as errors do, so
the API and the console answer in the reader's language. A run counts the failovers of its
JobManager that the platform saw (a standby taking over, the JobManager started again),
which the job's restarts include.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcompute.store.tables

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_events") as batch:
        batch.add_column(sa.Column("message_zh", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("first_at", rtcompute.store.tables.UtcDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE job_events SET first_at = at WHERE first_at IS NULL")
    with op.batch_alter_table("job_deployments") as batch:
        batch.add_column(sa.Column("message_zh", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(
            sa.Column("jobmanager_failovers", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.drop_column("jobmanager_failovers")
    with op.batch_alter_table("job_deployments") as batch:
        batch.drop_column("message_zh")
    with op.batch_alter_table("job_events") as batch:
        batch.drop_column("first_at")
        batch.drop_column("count")
        batch.drop_column("message_zh")
