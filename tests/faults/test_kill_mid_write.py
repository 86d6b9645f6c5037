"""kill -9 of the server at every step of a write: no change is ever left without its event.

The server (tests/faults/kill_at.py) dies at one step of one request; the database is read
afterwards. A change that was committed has its audit event (they commit together); one
that was not committed left nothing; a refused attempt answered has its event too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, fresh_postgres_database, start_server, stop_server
from tests.faults import harness, kill_at

pytestmark = pytest.mark.slow

LAUNCHER = (sys.executable, "-m", "tests.faults.kill_at")


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgres":
        with fresh_postgres_database("rtc_kill") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'data' / 'rtcompute.db'}"


def killed_server(tmp_path: Path, url: str, step: str) -> LiveServer:
    env = {"RTC_DATABASE_URL": url, "RTC_RECONCILERS__ENABLED": "false"}
    return start_server(tmp_path / "data", env, prefix=(*LAUNCHER, step, "--"))


def wait_killed(server: LiveServer) -> int:
    try:
        return server.process.wait(15)
    finally:
        if server.process.poll() is None:
            stop_server(server)


@pytest.mark.parametrize("step", kill_at.STEPS)
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_change_and_its_event_survive_a_kill_together(
    kind: str, step: str, tmp_path: Path, fault_report: harness.Report
) -> None:
    with database(kind, tmp_path) as url:
        server = killed_server(tmp_path, url, step)
        headers = harness.sign_in(server)
        sent = harness.Sent("kv1", "kill-1", 0, 0.0)
        try:
            response = httpx.post(
                server.url + "/api/v1/ram/users",
                json={"name": sent.name},
                headers={**headers, "X-Request-Id": sent.request_id},
                timeout=30,
            )
            sent = harness.Sent(sent.name, sent.request_id, response.status_code, 0.0)
        except httpx.TransportError:
            pass  # killed before it answered
        returncode = wait_killed(server)
        trail = harness.read_trail(url, "k")
    missing = harness.changes_without_event([sent], trail)
    fault_report.add(
        f"kill -9 {step} ({kind})",
        changed=len(trail.users),
        events=len(trail.events),
        changes_without_event=len(missing),
    )
    assert returncode == -9, server.log()[-3000:]
    assert "kill_at: SIGKILL now" in server.log()
    assert not missing, (missing, trail)
    if step == "in-transaction":
        assert trail.users == set() and trail.events == {}
    else:
        assert trail.users == {"kv1"}
        assert trail.events == {"kill-1": ("ram:CreateUser", "success")}
    if step == "after-answer":
        assert sent.status == 201


@pytest.mark.parametrize("step", ["after-commit", "after-answer"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_refused_attempt_is_audited_before_its_answer(
    kind: str, step: str, tmp_path: Path
) -> None:
    """A wrong password commits its throttle counts, which are not a change: no event joins
    them as a success (so a kill after their commit finds nothing to kill on); the refusal's
    event is written before the 401 goes out."""
    with database(kind, tmp_path) as url:
        server = killed_server(tmp_path, url, step)
        response = httpx.post(
            server.url + "/api/v1/sessions",
            json={"account": server.account, "password": "not-the-password-1"},
            headers={"X-Request-Id": "kill-2"},
            timeout=30,
        )
        assert response.status_code == 401
        if step == "after-answer":
            assert wait_killed(server) == -9
        else:
            assert server.process.poll() is None
            stop_server(server)
        trail = harness.read_trail(url, "k")
    assert trail.events == {"kill-2": ("rtc:SignIn", "failed")}, trail
