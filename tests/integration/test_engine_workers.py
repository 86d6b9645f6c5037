"""Warm engine workers on real installed Flink versions: checks, positions, failures.

Every worker start costs seconds (a JVM), so the pools are module-scoped: `pool` answers
the checks; `fragile` (short timeouts, tiny idle period) is the one whose workers the
tests kill, freeze and reap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcompute import errors
from rtcompute.domain import engines, sqlscript
from rtcompute.runtime.engines import workers
from tests.waiting import holds_for, wait_for

pytestmark = pytest.mark.slow

V2 = "flink-2.2.1"
V1 = "flink-1.20.5"

# the error is on line 7, column 24 (`orders`: `FORM` parses as an alias of `amount`)
SCRIPT = """-- orders job
CREATE TABLE orders (id BIGINT, amount DOUBLE) WITH ('connector' = 'datagen');
CREATE TABLE totals (id BIGINT, amount DOUBLE)
  WITH ('connector' = 'blackhole');

INSERT INTO totals
SELECT id, amount {keyword} orders;
"""
VALID = SCRIPT.format(keyword="FROM")
PARSE_ERROR = SCRIPT.format(keyword="FORM")


@pytest.fixture(scope="module")
def pool(installed_engines: Any) -> Iterator[workers.WorkerPool]:
    pool = workers.WorkerPool(
        installed_engines.home, idle_seconds=600, request_timeout=60, start_timeout=120
    )
    yield pool
    pids = [status.pid for status in pool.status()]
    pool.close()
    assert pids, "the module's checks ran in a worker"
    assert all(wait_gone(pid) for pid in pids)  # close takes the workers and their JVMs


@pytest.fixture(scope="module")
def fragile(installed_engines: Any) -> Iterator[workers.WorkerPool]:
    pool = workers.WorkerPool(
        installed_engines.home,
        idle_seconds=0.5,
        request_timeout=8,
        start_timeout=120,
        per_version=1,  # the tests freeze the one worker: no spare steps in
    )
    yield pool
    pool.close()


def gone(pid: int) -> bool:
    """No process is left in the group the worker led (the interpreter and its JVM)."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def exited(pid: int) -> bool:
    """The process has died (a zombie until the pool reaps it counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    return wait_for(f"process {pid} to end", lambda: gone(pid), seconds)


def pid_of(pool: workers.WorkerPool, version: str) -> int:
    [status] = [s for s in pool.status() if s.version == version]
    return status.pid


def test_valid_script_is_ok(pool: workers.WorkerPool) -> None:
    result = pool.validate(V2, VALID)
    resolved = sqlscript.Resolved(
        tables=(
            sqlscript.ResolvedTable(
                0, "default_catalog.default_database.orders", (("connector", "datagen"),)
            ),
            sqlscript.ResolvedTable(
                1, "default_catalog.default_database.totals", (("connector", "blackhole"),)
            ),
            # the INSERT's sink, as the planner resolved it
            sqlscript.ResolvedTable(
                2, "default_catalog.default_database.totals", (("connector", "blackhole"),), True
            ),
        )
    )
    assert result == sqlscript.CheckResult(True, (), "", result.elapsed_ms, "2.2.1", resolved)


def test_parse_error_at_the_script_line_and_column(pool: workers.WorkerPool) -> None:
    result = pool.validate(V2, PARSE_ERROR)
    assert not result.ok
    [problem] = result.problems
    assert (problem.line, problem.column) == (7, 24)
    # Flink's own words, positions relative to the statement it was given
    assert problem.message == 'SQL parse failed. Encountered "orders" at line 2, column 24.'


def test_unknown_column_position(pool: workers.WorkerPool) -> None:
    script = (
        "CREATE TABLE orders (id BIGINT) WITH ('connector' = 'datagen'); "
        "SELECT id,\n  nosuchcol FROM orders"
    )
    result = pool.validate(V2, script)
    [problem] = result.problems
    assert (problem.line, problem.column) == (2, 3)
    assert "Column 'nosuchcol' not found in any table" in problem.message
    assert problem.message.startswith("SQL validation failed. From line 2, column 3 to line 2")
    # on the statement's first line the statement's own column is added
    one_line = script.replace(",\n  nosuchcol", ", nosuchcol")
    [problem] = pool.validate(V2, one_line).problems
    assert (problem.line, problem.column) == (1, one_line.index("nosuchcol") + 1)


def test_problem_without_position_is_at_the_statement(pool: workers.WorkerPool) -> None:
    script = VALID.replace("amount DOUBLE)\n  WITH", "amount STRING, extra INT)\n  WITH")
    result = pool.validate(V2, script)
    [problem] = result.problems
    assert (problem.line, problem.column) == (6, 1)  # the INSERT
    assert "do not match" in problem.message


def test_explain_returns_the_plan(pool: workers.WorkerPool) -> None:
    result = pool.explain(V2, VALID)
    assert result.ok, result.problems
    assert "== Optimized Execution Plan ==" in result.plan
    assert "totals" in result.plan
    assert "orders" in result.plan
    assert pool.validate(V2, VALID).plan == ""


def test_nothing_leaks_between_requests(pool: workers.WorkerPool) -> None:
    first = pool.validate(
        V2,
        "CREATE TABLE leak_probe (id INT) WITH ('connector' = 'datagen');"
        "SET 'pipeline.name' = 'probe'; SELECT id FROM leak_probe",
    )
    assert first.ok, first.problems
    second = pool.validate(V2, "SELECT id FROM leak_probe")
    [problem] = second.problems
    assert "Object 'leak_probe' not found" in problem.message
    assert (problem.line, problem.column) == (1, 16)


def test_nothing_is_executed(pool: workers.WorkerPool, tmp_path: Path) -> None:
    """A job that would write a file: planned only, so the file never appears."""
    out = tmp_path / "out"
    script = (
        "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');"
        f"CREATE TABLE out_csv (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}', "
        "'format' = 'csv');"
        "INSERT INTO out_csv SELECT id FROM src;"
        f"CREATE TABLE ctas WITH ('connector' = 'filesystem', 'path' = '{out}2', "
        "'format' = 'csv') AS SELECT id FROM src;"
    )
    result = pool.explain(V2, script)
    assert result.ok, result.problems
    holds_for(
        "nothing written by the explained script",
        lambda: not out.exists() and not Path(f"{out}2").exists(),
        2,
    )


def test_empty_script(pool: workers.WorkerPool) -> None:
    result = pool.validate(V2, "  -- nothing here\n;;")
    assert not result.ok
    assert result.problems == (sqlscript.Problem(1, 1, "the script has no SQL statement"),)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_submit_to_an_unreachable_cluster_is_a_problem_on_the_insert(
    pool: workers.WorkerPool,
) -> None:
    config = {"rest.address": "127.0.0.1", "rest.port": str(closed_port())}
    config["parallelism.default"] = "1"
    config["rest.retry.max-attempts"] = "0"
    config["client.timeout"] = "5s"
    result = pool.submit(V2, VALID, config, timeout=60)
    assert result.job_id is None
    assert len(result.problems) == 1
    assert result.problems[0].line == 6  # the first INSERT
    assert result.problems[0].message


def test_a_submission_runs_only_what_the_platform_approved(pool: workers.WorkerPool) -> None:
    """The worker stops before the INSERTs with what Flink resolved; a refusal ends the
    submission there (the closed port is never tried), an approval lets it go on."""
    config = {"rest.address": "127.0.0.1", "rest.port": str(closed_port())}
    config.update({"parallelism.default": "1", "rest.retry.max-attempts": "0"})
    config["client.timeout"] = "5s"
    script = VALID.replace("'connector' = 'blackhole'", "'connector' = 'blackhole', 'x' = N'y'")
    seen: list[sqlscript.Resolved] = []

    def refuse(
        statements: tuple[sqlscript.Statement, ...], resolved: sqlscript.Resolved
    ) -> tuple[sqlscript.Problem, ...]:
        seen.append(resolved)
        return (sqlscript.Problem(statements[1].line, statements[1].column, "not yours"),)

    result = pool.submit(V2, script, config, timeout=60, approve=refuse)
    assert (result.job_id, result.approved) == (None, False)
    assert result.problems == (sqlscript.Problem(3, 1, "not yours"),)
    ((_first, second, sink),) = [r.tables for r in seen]
    assert second.options == (("connector", "blackhole"), ("x", "y"))  # N'y' resolved
    assert sink.statement == 2 and sink.name.endswith(".totals")
    approved = pool.submit(V2, script, config, timeout=60, approve=lambda s, r: ())
    assert approved.approved and approved.job_id is None
    assert approved.problems[0].line == 6  # it went on to the cluster, which is not there

    # an approval that cannot be decided (a leader that lost its lease): the prepared job is
    # aborted, its error raised, and the worker answers the next submission as before
    def lost(
        statements: tuple[sqlscript.Statement, ...], resolved: sqlscript.Resolved
    ) -> tuple[sqlscript.Problem, ...]:
        raise RuntimeError("no longer the leader")

    with pytest.raises(RuntimeError, match="no longer the leader"):
        pool.submit(V2, script, config, timeout=60, approve=lost)
    again = pool.submit(V2, script, config, timeout=60, approve=refuse)
    assert again.problems == (sqlscript.Problem(3, 1, "not yours"),)


def listening(pids: set[int]) -> list[str]:
    """The local addresses the processes listen on (TCP), from `ss`."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            found.append(line.split()[3])
    return found


def group_pids(leader: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry.name)) == leader:
                    found.add(int(entry.name))
    return found


def test_a_worker_sees_nothing_of_the_server_and_listens_on_loopback_only(
    installed_engines: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's environment (a secret in it) does not reach the worker or its JVM, and
    checks leave no server behind: no Beam loopback server, only py4j's on 127.0.0.1."""
    monkeypatch.setenv("RTC_BOOTSTRAP_PASSWORD", "canary-secret-81")
    pool = workers.WorkerPool(
        installed_engines.home, idle_seconds=600, request_timeout=60, start_timeout=120
    )
    try:
        for _ in range(3):
            assert pool.validate(V2, VALID).ok
        [status] = pool.status()
        pids = group_pids(status.pid)
        assert len(pids) >= 2  # the interpreter and its JVM
        for pid in pids:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert b"canary-secret-81" not in environ and b"RTC_" not in environ
        addresses = listening(pids)
        assert addresses, "py4j's gateway listens"
        assert all(a.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for a in addresses), (
            addresses
        )
        assert len(addresses) <= 2  # the gateway and its callback server, not one per check
    finally:
        pool.close()


def test_submit_refuses_scripts_that_run_nothing(pool: workers.WorkerPool) -> None:
    ddl_only = "CREATE TABLE t (id INT) WITH ('connector' = 'datagen');"
    config = {"rest.address": "127.0.0.1", "rest.port": "1", "parallelism.default": "1"}
    result = pool.submit(V2, ddl_only, config)
    assert result.job_id is None and "no INSERT" in result.problems[0].message
    query = ddl_only + "\nSELECT id FROM t;"
    result = pool.submit(V2, query, config)
    assert result.job_id is None
    assert result.problems[0].line == 2 and "INSERT" in result.problems[0].message


def test_version_missing_is_30006(pool: workers.WorkerPool, installed_engines: Any) -> None:
    with pytest.raises(errors.Conflict) as raised:
        pool.validate("flink-9.9.9", VALID)
    script = str(installed_engines.home / "flink-9.9.9" / "bin" / "python")
    assert raised.value.code == "30006"
    assert raised.value.message == engines.script_missing("flink-9.9.9", script)
    assert "engine script not exist, please check engine version" in raised.value.message
    with pytest.raises(errors.Conflict) as raised:  # not a version name: never a path
        pool.validate(f"../{installed_engines.home.name}/{V2}", VALID)
    assert raised.value.code == "30006"


def test_worker_killed_mid_request(fragile: workers.WorkerPool) -> None:
    assert fragile.validate(V2, VALID).ok
    pid = pid_of(fragile, V2)
    os.kill(pid, signal.SIGSTOP)  # holds the request until the kill
    outcome: list[BaseException] = []

    def check() -> None:
        try:
            fragile.validate(V2, VALID)
        except errors.RtcError as error:
            outcome.append(error)

    thread = threading.Thread(target=check)
    thread.start()
    # the request is counted as it is sent to the stopped worker
    wait_for("the request sent", lambda: fragile.status()[0].requests >= 2, 10, every=0.01)
    os.kill(pid, signal.SIGKILL)
    thread.join(10)
    [error] = outcome
    assert isinstance(error, errors.Unavailable)
    assert error.code == "EngineWorkerRestarted"
    assert error.message == (
        f"the engine worker for {V2} stopped while checking; it is restarting: try again"
    )
    assert wait_gone(pid)
    assert fragile.validate(V2, VALID).ok
    assert pid_of(fragile, V2) != pid


def test_killed_idle_worker_is_replaced(fragile: workers.WorkerPool) -> None:
    assert fragile.validate(V2, VALID).ok
    pid = pid_of(fragile, V2)
    os.killpg(pid, signal.SIGKILL)
    wait_for("the worker to die", lambda: exited(pid), 10, every=0.02)
    # either this request meets the dead worker (a retryable error) or a fresh one
    try:
        result = fragile.validate(V2, PARSE_ERROR)
    except errors.Unavailable as error:
        assert error.code == "EngineWorkerRestarted"
        result = fragile.validate(V2, PARSE_ERROR)
    assert [(p.line, p.column) for p in result.problems] == [(7, 24)]
    assert wait_gone(pid)
    assert pid_of(fragile, V2) != pid


def test_hung_worker_is_killed(fragile: workers.WorkerPool) -> None:
    assert fragile.validate(V2, VALID).ok
    pid = pid_of(fragile, V2)
    # the JVM's temporary files (the planner jar it unpacks) live in the worker's own
    # directory, which goes with the killed worker instead of piling up in /tmp
    [worker] = fragile._workers[V2]
    tmp = worker.tmp
    assert tmp is not None and any(tmp.glob("flink-table-planner_*.jar"))
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(errors.Unavailable) as raised:
        fragile.validate(V2, VALID)
    assert raised.value.code == "EngineWorkerTimeout"
    assert 7.5 <= time.monotonic() - started < 20
    assert wait_gone(pid)
    assert not tmp.exists()
    assert fragile.validate(V2, VALID).ok


def test_reap_idle(fragile: workers.WorkerPool) -> None:
    assert fragile.validate(V2, VALID).ok
    [status] = fragile.status()
    assert status.version == V2
    assert status.requests >= 1
    assert fragile.reap_idle() == []  # just used
    assert wait_for("the idle worker reaped", fragile.reap_idle, 5) == [V2]
    assert fragile.status() == []
    assert wait_gone(status.pid)


def test_flink_1_20(installed_engines: Any) -> None:
    pool = workers.WorkerPool(
        installed_engines.home, idle_seconds=600, request_timeout=60, start_timeout=120
    )
    try:
        result = pool.explain(V1, VALID)
        assert result.ok, result.problems
        assert result.flink_version == "1.20.5"
        assert "totals" in result.plan
        [problem] = pool.validate(V1, PARSE_ERROR).problems
        assert (problem.line, problem.column) == (7, 24)
        assert problem.message.startswith('SQL parse failed. Encountered "orders"')
        pid = pid_of(pool, V1)
        pool.stop_version(V1)
        assert pool.status() == []
        assert wait_gone(pid)  # the worker and its JVM
        pool.stop_version(V1)  # none running: nothing to do
    finally:
        pool.close()


def fake_engine(home: Path, version: str, body: str) -> None:
    python = home / version / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\n{body}\n")
    python.chmod(0o755)


def test_start_failure_quotes_stderr(tmp_path: Path) -> None:
    fake_engine(tmp_path, "flink-0.0.1", 'echo "no pyflink in here" >&2; exit 1')
    pool = workers.WorkerPool(tmp_path, idle_seconds=60, request_timeout=5, start_timeout=10)
    try:
        with pytest.raises(errors.Unavailable) as raised:
            pool.validate("flink-0.0.1", "SELECT 1")
        assert raised.value.code == "EngineWorkerStartFailed"
        assert "no pyflink in here" in raised.value.message
    finally:
        pool.close()


def test_start_timeout_kills_the_worker(tmp_path: Path) -> None:
    fake_engine(tmp_path, "flink-0.0.2", "echo $$ > $(dirname $0)/pid; exec sleep 60")
    pool = workers.WorkerPool(tmp_path, idle_seconds=60, request_timeout=5, start_timeout=1)
    try:
        with pytest.raises(errors.Unavailable) as raised:
            pool.validate("flink-0.0.2", "SELECT 1")
        assert raised.value.code == "EngineWorkerStartFailed"
        assert "did not start within 1 s" in raised.value.message
        assert wait_gone(int((tmp_path / "flink-0.0.2" / "bin" / "pid").read_text()))
    finally:
        pool.close()


def test_worker_protocol_survives_bad_requests(installed_engines: Any) -> None:
    """The documented protocol, spoken directly: bad lines get answers, not a crash."""
    python = installed_engines.path(V2) / "bin" / "python"
    lines = [
        "not json",
        "[1, 2]",
        json.dumps({"id": 1, "op": "ping"}),
        json.dumps({"id": 2, "op": "launch"}),
        json.dumps({"id": 3, "op": "validate", "statements": "SELECT 1"}),
        json.dumps({"id": 4, "op": "validate", "statements": [{"sql": "SELECT 1 FORM x"}]}),
        json.dumps({"id": 5, "op": "explain", "statements": [{"sql": "SELECT 1"}]}),
    ]
    done = subprocess.run(
        [str(python), str(workers.WORKER_MAIN)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert answers[0] == {"ready": True, "flink_version": "2.2.1"}
    by_id = {a["id"]: a for a in answers[1:]}
    assert [a["id"] for a in answers[1:3]] == [None, None]
    assert by_id[1] == {"id": 1, "ok": True, "problems": [], "plan": ""}
    assert by_id[2]["ok"] is False
    assert "unknown op 'launch'" in by_id[2]["problems"][0]["message"]
    assert by_id[3]["ok"] is False
    [problem] = by_id[4]["problems"]
    assert (problem["statement"], problem["line"], problem["column"]) == (0, 1, 15)
    assert problem["message"] == 'SQL parse failed. Encountered "x" at line 1, column 15.'
    assert by_id[5]["ok"] is True
    assert "== Optimized Execution Plan ==" in by_id[5]["plan"]


CLASS_LOADERS = """
import sys
sys.path.insert(0, sys.argv[1])
import worker_main
from pyflink.java_gateway import get_gateway
checker = worker_main.Checker(warm=False)
for _ in range(40):
    checker.take()
    checker.prepare()
loader, depth = get_gateway().jvm.Thread.currentThread().getContextClassLoader(), 0
while loader is not None:
    loader, depth = loader.getParent(), depth + 1
print("depth", depth)
"""


def test_fresh_environments_do_not_stack_class_loaders(installed_engines: Any) -> None:
    """PyFlink's `EnvironmentSettings.Builder.build()` wraps the context class loader in a
    new one each time; a worker that made one environment per check slowed down with every
    check (each class lookup walked all of them). 41 environments: the chain stays short."""
    for version in (V2, V1):
        python = installed_engines.path(version) / "bin" / "python"
        done = subprocess.run(
            [str(python), "-c", CLASS_LOADERS, str(workers.WORKER_MAIN.parent)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        [depth] = [int(line.split()[1]) for line in done.stdout.splitlines() if "depth" in line]
        # the application loader, its platform and boot parents, and build()'s one
        assert depth <= 4, (version, depth)


def test_a_held_worker_leaves_another_tenant_a_warm_one(installed_engines: Any) -> None:
    """Tenant A's request keeps a real worker (frozen here, as a 60-join plan would keep
    it for seconds); tenant B is answered by a spare worker meanwhile, and A by its own
    once it thaws."""
    pool = workers.WorkerPool(
        installed_engines.home,
        idle_seconds=600,
        request_timeout=120,
        start_timeout=120,
        per_version=2,
        spare_after=0.5,
    )
    try:
        assert pool.validate(V2, VALID, account="a").ok
        first = pid_of(pool, V2)
        os.kill(first, signal.SIGSTOP)
        answers: list[sqlscript.CheckResult] = []
        held = threading.Thread(
            target=lambda: answers.append(pool.validate(V2, VALID, account="a"))
        )
        held.start()
        try:
            spares = wait_for(
                "a spare worker",
                lambda: [s.pid for s in pool.status() if s.pid != first],
                120,
            )
            result = pool.validate(V2, PARSE_ERROR, account="b")
            assert [(p.line, p.column) for p in result.problems] == [(7, 24)]
            [status] = [s for s in pool.status() if s.pid in spares]
            assert status.requests == 1  # B's check, answered by the spare
            assert held.is_alive() and not answers
        finally:
            os.kill(first, signal.SIGCONT)
        held.join(60)
        assert answers and answers[0].ok
    finally:
        pool.close()
