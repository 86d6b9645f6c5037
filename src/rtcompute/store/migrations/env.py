"""Alembic environment: runs online on the connection `store.migrate` hands over, or on the
URL it passes in (for the `alembic` command line)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from rtcompute.store import db, tables

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=tables.Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = db.make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        run(connection)
    engine.dispose()
