"""PostgreSQL terminates the server's connections again and again under writes.

Every request that meets a dead connection answers 503 with Retry-After (never 500), a
write that was made has its audit event (they commit together), and once the killing
stops the pool has replaced its connections by itself.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import fresh_postgres_database, start_server, stop_server
from tests.faults import harness

pytestmark = pytest.mark.slow

KILLING_SECONDS = 6.0
KILL_EVERY_SECONDS = 0.25
RECOVERY_SECONDS = 1.0


def terminate_backends(database_url: str, database: str) -> int:
    """pg_terminate_backend on every connection to `database` but this one."""
    conninfo = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(
        conninfo.render_as_string(hide_password=False), autocommit=True
    ) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_connections_killed_during_traffic(tmp_path: Path, fault_report: harness.Report) -> None:
    with fresh_postgres_database("rtc_fault") as url:
        database = str(make_url(url).database)
        server = start_server(tmp_path / "data", {"RTC_DATABASE_URL": url})
        killed = [0]
        killing = threading.Event()

        def kill() -> None:
            while not killing.is_set():
                killed[0] += terminate_backends(url, database)
                time.sleep(KILL_EVERY_SECONDS)

        try:
            traffic = harness.Traffic(server.url, harness.sign_in(server), "pk").start()
            time.sleep(1)
            killer = threading.Thread(target=kill, daemon=True)
            killer.start()
            time.sleep(KILLING_SECONDS)
            killing.set()
            killer.join(10)
            stopped_at = time.monotonic()
            time.sleep(3)
            sent = traffic.stop()
            trail = harness.read_trail(url, "pk")
            log = server.log()
        finally:
            stop_server(server)

    counts = harness.counts(sent)
    missing = harness.changes_without_event(sent, trail)
    fault_report.add(
        "postgres connections killed",
        **counts,
        connections_killed=killed[0],
        changes_without_event=len(missing),
        log_bytes=len(log.encode()),
        tracebacks=harness.logged_tracebacks(log),
    )
    assert killed[0] > 0
    assert counts["500"] == 0, [s for s in sent if s.status >= 500 and s.status != 503][:5]
    assert counts["503"] > 0, "no request met a killed connection: the fault did not bite"
    assert all(s.retry_after for s in sent if s.status == 503)
    assert not missing, missing[:10]
    after = [s for s in sent if s.sent_at > stopped_at + RECOVERY_SECONDS]
    assert after and {s.status for s in after} == {201}, [s for s in after if s.status != 201]
    # a traceback once per distinct error (a few: the killed connection seen by a request, a
    # reconciler, the lease, the pool), not once per failed request
    assert harness.logged_tracebacks(log) <= 8, log[-5000:]
