"""jobs keep settings, resources, placement and run configuration as JSON columns

They were JSON text, parsed again by each reader (a job's settings nine times, twice in one
view); the store now reads them once into domain values (store/tables/jobs.py). Empty texts
(runs before 0009 have no configuration) become the empty JSON value first.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (column, its empty JSON value, its server default)
COLUMNS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "jobs": (("settings", "{}", None),),
    "job_revisions": (("settings", "{}", None), ("resources", "[]", "[]")),
    "job_deployments": (("settings", "{}", None), ("resources", "[]", "[]")),
    "job_runs": (("placement", "[]", None), ("config", "{}", "{}")),
}
OLD_DEFAULTS = {
    ("job_revisions", "resources"): "[]",
    ("job_deployments", "resources"): "[]",
    ("job_runs", "config"): "",
}


def _drop_defaults() -> None:
    """PostgreSQL cannot cast a text default to json: drop them before the type changes."""
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in COLUMNS.items():
            for column, _, _ in columns:
                op.alter_column(table, column, server_default=None)


def _alter(to: sa.types.TypeEngine[Any], was: sa.types.TypeEngine[Any], cast: str) -> None:
    """Every column to type `to`, with its server default in that type."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, _, default in columns:
                batch.alter_column(
                    column,
                    type_=to,
                    existing_type=was,
                    existing_nullable=False,
                    server_default=default if cast == "json" else OLD_DEFAULTS.get((table, column)),
                    postgresql_using=f"{column}::{cast}",
                )


def upgrade() -> None:
    _drop_defaults()
    for table, columns in COLUMNS.items():
        for column, empty, _ in columns:
            op.execute(sa.text(f"UPDATE {table} SET {column} = '{empty}' WHERE {column} = ''"))
    _alter(sa.JSON(), sa.Text(), "json")


def downgrade() -> None:
    _drop_defaults()
    _alter(sa.Text(), sa.JSON(), "text")
