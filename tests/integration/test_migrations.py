"""Schema upgrades: repeatable, and safe when several servers start at once on PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from rtcompute.domain import job_placement, jobs
from rtcompute.store import migrate
from rtcompute.store.tables import jobs as job_tables
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


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of either kind, not migrated yet (PostgreSQL's as the suite decides:
    skipped on a developer's run without RTC_TEST_POSTGRES_URL, a failure under CI)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_postgres_database("rtc_json") as url:
        yield url


ROWS = (
    "INSERT INTO accounts (id, alias, display_name, email, is_operator, created_at) "
    "VALUES ('a1', 'acme', '', '', false, '2026-12-07 00:00:00')",
    "INSERT INTO projects (id, account_id, region, name, description, created_by, created_at) "
    "VALUES (1, 'a1', 'local', 'p1', '', '', '2026-12-07 00:00:00')",
    "INSERT INTO jobs (id, project_id, name, engine_version, state, created_at, settings) "
    "VALUES (1, 1, 'etl', '', 'draft', '2026-12-07 00:00:00', :settings)",
    "INSERT INTO job_revisions (id, job_id, number, sql, settings, engine_version, resources, "
    "message, created_by, created_at) VALUES (1, 1, 1, 'SELECT 1', :settings, 'flink-2.2.1', "
    ":resources, '', '', '2026-12-07 00:00:00')",
    "INSERT INTO job_runs (id, job_id, number, engine_version, port_base, placement, directory, "
    "config, step, restore_path, flink_job_id, trigger_id, flink_duration_ms, "
    "failover_seen_ms, message, started_at) VALUES (1, 1, 1, 'flink-2.2.1', 41000, "
    ":placement, '/d', '', 'ended', '', '', '', 0, 0, '', '2026-12-07 00:00:00')",
)


def test_job_json_columns_keep_what_the_text_columns_held(old_database: str) -> None:
    """0011: settings, resources, placement and run configuration written as JSON text (and
    a run's empty configuration from before 0009) read back as domain values."""
    migrate.upgrade(old_database, "0010")
    settings = jobs.JobSettings(parallelism=3)
    process = {
        "kind": "jobmanager",
        "index": 0,
        "node": "m1",
        "host": "127.0.0.1",
        "rpc_port": 1,
        "memory_mb": 2,
    }
    values = {
        "settings": json.dumps(settings.as_dict()),
        "resources": json.dumps([{"bucket": "b1", "key": "u.jar", "kind": "jar"}]),
        "placement": json.dumps([process]),
    }
    engine = create_engine(old_database)
    try:
        with engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row), values)
    finally:
        engine.dispose()
    migrate.upgrade(old_database)
    engine = create_engine(old_database)
    try:
        with Session(engine) as session:
            job = session.get(job_tables.Job, 1)
            revision = session.get(job_tables.JobRevision, 1)
            run = session.get(job_tables.JobRun, 1)
            assert job is not None and revision is not None and run is not None
            assert job.settings == revision.settings == settings
            assert revision.resources == (jobs.Attached("b1", "u.jar", "jar"),)
            assert run.placement == job_placement.from_json([process])
            assert run.config == {}
    finally:
        engine.dispose()
