"""Two `rtc up` on one PostgreSQL database: a leader that stalls, then one that is killed.

A leader stopped (SIGSTOP) past its lease and resumed after the take-over does not act
again: it finds itself standby. A leader killed (kill -9) is replaced within 5 s (lease
3 s, renewed every second, tried by the standby every second).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import LiveServer, fresh_postgres_database, start_server, stop_server
from tests.faults import harness
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.slow

TAKEOVER_LIMIT_SECONDS = 5.0


def lease(database_url: str) -> tuple[int, int] | None:
    """(holder's pid, term) of the reconcilers' lease."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT holder, term FROM leases WHERE name = 'reconcilers'")
            ).first()
    finally:
        engine.dispose()
    return None if row is None else (int(str(row[0]).split(":")[1]), int(row[1]))


def two_servers(tmp_path: Path, url: str) -> tuple[LiveServer, LiveServer]:
    env = {"RTC_DATABASE_URL": url}
    first = start_server(tmp_path / "a", env)
    wait_for("the first server to lead", lambda: (lease(url) or (0, 0))[0] == first.process.pid, 15)
    second = start_server(tmp_path / "b", env)
    return first, second


def test_a_stalled_leader_stands_by_and_a_killed_one_is_replaced_within_five_seconds(
    tmp_path: Path, fault_report: harness.Report
) -> None:
    with fresh_postgres_database("rtc_failover") as url:
        first, second = two_servers(tmp_path, url)
        try:
            holds_for(
                "the first server's lease",
                lambda: (lease(url) or (0, 0))[0] == first.process.pid,
                2,
                every=0.2,
            )
            # the leader stalls past its lease: the standby takes over in term 2
            first.process.send_signal(signal.SIGSTOP)
            wait_for(
                "the standby to take over",
                lambda: lease(url) == (second.process.pid, 2),
                15,
            )
            first.process.send_signal(signal.SIGCONT)
            # the old leader finds itself standby and leaves the lease alone
            wait_for("the old leader to stand by", lambda: "is standby" in first.log(), 10)
            holds_for(
                "the new leader's lease",
                lambda: lease(url) == (second.process.pid, 2),
                3,
                every=0.2,
            )
            # the new leader is killed: the first one takes over again, in term 3
            second.process.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            second.process.wait(10)
            wait_for(
                "the standby to take over",
                lambda: (lease(url) or (0, 0))[0] == first.process.pid,
                15,
                every=0.05,
            )
            takeover = time.monotonic() - killed_at
            term = (lease(url) or (0, 0))[1]
            wait_for("the log", lambda: "is leader (term 3)" in first.log(), 5)
        finally:
            for server in (first, second):
                if server.process.poll() is None:
                    server.process.send_signal(signal.SIGCONT)
                    stop_server(server)
    fault_report.add("kill -9 of the leader", takeover_seconds=round(takeover, 2), term=term)
    assert takeover <= TAKEOVER_LIMIT_SECONDS
    assert term == 3
