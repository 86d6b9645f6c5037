"""Migration 0012: job events keep what they said and count once; deployments and runs get
their new columns with values that read as before (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from rtcompute.store import migrate
from rtcompute.store.tables import jobs as job_tables
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with fresh_postgres_database("rtc_events") as url:
        yield url


ROWS = (
    "INSERT INTO accounts (id, alias, display_name, email, is_operator, created_at) "
    "VALUES ('a1', 'acme', '', '', false, '2026-12-07 00:00:00')",
    "INSERT INTO projects (id, account_id, region, name, description, created_by, created_at) "
    "VALUES (1, 'a1', 'local', 'p1', '', '', '2026-12-07 00:00:00')",
    "INSERT INTO jobs (id, project_id, name, engine_version, state, created_at, settings) "
    "VALUES (1, 1, 'etl', '', 'draft', '2026-12-07 00:00:00', '{}')",
    "INSERT INTO job_events (id, job_id, at, kind, message) "
    "VALUES (1, 1, '2026-12-07 16:09:00', 'checkpoint', 'a checkpoint failed')",
    "INSERT INTO job_runs (id, job_id, number, engine_version, port_base, placement, directory, "
    "config, step, restore_path, flink_job_id, trigger_id, flink_duration_ms, "
    "failover_seen_ms, message, started_at) VALUES (1, 1, 1, 'flink-2.2.1', 41000, "
    "'[]', '/d', '{}', 'ended', '', '', '', 0, 0, '', '2026-12-07 00:00:00')",
)


def test_old_events_read_as_one_occurrence_since_their_time(old_database: str) -> None:
    migrate.upgrade(old_database, "0011")
    engine = create_engine(old_database)
    try:
        with engine.begin() as connection:
            for row in ROWS:
                connection.execute(text(row))
    finally:
        engine.dispose()
    migrate.upgrade(old_database)
    engine = create_engine(old_database)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with Session(engine) as session:
            event = session.get(job_tables.JobEvent, 1)
            run = session.get(job_tables.JobRun, 1)
            assert event is not None and run is not None
            at = datetime(2026, 12, 7, 16, 9, tzinfo=UTC)
            assert (event.count, event.first_at, event.at) == (1, at, at)
            assert (event.message, event.message_zh) == ("a checkpoint failed", "")
            assert run.jobmanager_failovers == 0
    finally:
        engine.dispose()
