"""Faults of the database met by a unit of work: `errors.Unavailable`, and a pool that
recovers by itself once the cause is gone (no restart)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rtcompute import errors
from rtcompute.store import db, migrate
from tests.conftest import fresh_postgres_database


@pytest.fixture
def postgres() -> Iterator[str]:
    with fresh_postgres_database("rtc_dbfault") as url:
        migrate.upgrade(url)
        yield url


def admin(url: str, statement: str) -> None:
    conninfo = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(statement)


def write(sessions: db.sessionmaker[db.Session], name: str) -> None:
    with db.transaction(sessions) as session:
        session.execute(
            text("INSERT INTO leases (name, holder, expires_at, term) VALUES (:n, 'x', now(), 1)"),
            {"n": name},
        )


def test_a_read_only_postgresql_answers_unavailable_and_the_pool_recovers(postgres: str) -> None:
    database = make_url(postgres).database
    engine = db.make_engine(postgres)
    sessions = db.make_sessionmaker(engine)
    try:
        write(sessions, "before")
        # read-only from now on for new sessions; the pool's connections are cut, so the
        # ones it opens next are read-only (the setting is read when a connection opens)
        admin(postgres, f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
        admin(
            postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
        )
        for attempt in range(3):
            with pytest.raises(errors.Unavailable) as refused:
                write(sessions, f"during-{attempt}")
            assert refused.value.code == "ServiceUnavailable.Database"
            assert refused.value.retry_after > 0
        admin(postgres, f'ALTER DATABASE "{database}" RESET default_transaction_read_only')
        # the connection opened read-only fails once more and is dropped; then writes pass
        outcomes = []
        for attempt in range(3):
            try:
                write(sessions, f"after-{attempt}")
                outcomes.append("ok")
            except errors.Unavailable:
                outcomes.append("unavailable")
        assert outcomes[-2:] == ["ok", "ok"], outcomes
    finally:
        engine.dispose()
