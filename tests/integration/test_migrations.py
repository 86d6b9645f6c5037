"""Schema upgrades: repeatable, and safe when several servers start at once on PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine

from rtcompute.store import migrate
from tests.conftest import fresh_postgres_database


def test_upgrade_is_repeatable(database_url: str) -> None:
    migrate.upgrade(database_url)  # the fixture upgraded already: nothing to do, no error
    engine = create_engine(database_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_concurrent_first_upgrades_on_postgres() -> None:
    failures: list[str] = []
    with fresh_postgres_database("rtc_mig") as url:

        def upgrade() -> None:
            try:
                migrate.upgrade(url)
            except Exception as exc:  # the test reports every failure, not just the first
                failures.append(repr(exc)[:300])

        threads = [threading.Thread(target=upgrade) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        engine = create_engine(url)
        try:
            assert migrate.current_revision(engine) == migrate.head_revision()
        finally:
            engine.dispose()


def test_migrations_match_the_tables(database_url: str) -> None:
    """What the migrations build is what store/tables/ declares (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from rtcompute.store import tables

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, tables.Base.metadata) == []
    finally:
        engine.dispose()
