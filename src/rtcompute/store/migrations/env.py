"""Alembic environment: runs online against the URL that `store.migrate` passes in."""

from __future__ import annotations

from alembic import context

from rtcompute.store import db, tables

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
engine = db.make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=tables.Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
