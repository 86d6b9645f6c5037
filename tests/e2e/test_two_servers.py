"""Two `rtc up` on one database: exactly one runs the reconcilers, the other takes over."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import LiveServer, start_server, stop_server
from tests.integration.test_cluster_reconciler import kill_all_under
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.slow


def lease_holder(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT holder FROM leases WHERE name = 'reconcilers'")
            ).first()
            return None if row is None else str(row[0])
    finally:
        engine.dispose()


def holder_pid(holder: str | None) -> int | None:
    return None if holder is None else int(holder.split(":")[1])


def test_one_leader_and_failover(sqlite_url: str, tmp_path: Path) -> None:
    """On one SQLite file (PostgreSQL: tests/faults/test_leader_failover.py)."""
    database_url = sqlite_url
    # the suite's database holds other tests' clusters: a leader would start their node
    # agents under its own directory (and the SIGKILL below would leave them running)
    env = {
        "RTC_DATABASE_URL": database_url,
        "RTC_RECONCILERS__LEASE_SECONDS": "2",
        "RTC_RECONCILERS__CLUSTERS__ENABLED": "false",
    }
    first = start_server(tmp_path / "a", env)
    second: LiveServer | None = None
    try:
        wait_for(
            "the first server to lead",
            lambda: holder_pid(lease_holder(database_url)) == first.process.pid,
            15,
        )
        second = start_server(tmp_path / "b", env)
        # longer than the lease: the first keeps renewing, the second waits
        holds_for(
            "the first server's lease",
            lambda: holder_pid(lease_holder(database_url)) == first.process.pid,
            3,
            every=0.3,
        )
        assert "is leader" in first.log()
        assert "is leader" not in second.log()

        first.process.kill()  # no clean release: the lease must expire
        first.process.wait(10)
        pid = second.process.pid
        wait_for(
            "the second server to lead", lambda: holder_pid(lease_holder(database_url)) == pid, 15
        )
        wait_for("the second server's log", lambda: "is leader" in second.log(), 5)  # type: ignore[union-attr]
    finally:
        if first.process.poll() is None:
            stop_server(first)
        if second is not None:
            stop_server(second)
        kill_all_under(tmp_path)
    # a clean stop releases the lease at once
    assert lease_holder(database_url) is None
