"""leases count their terms: the fencing token of a leader

Each take-over of a lease by a new holder raises its term by one; a renewal keeps it. A
reconciler's write checks, in its own transaction, that its holder still holds the lease
in the term it acts for (issue 20: an old leader that wakes up cannot act).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("term", sa.BigInteger(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("term")
