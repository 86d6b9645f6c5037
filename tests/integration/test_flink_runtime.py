"""Per-job Flink clusters on real Flink: launch, submit through the warm worker, fail over,
stop with a savepoint, restore into a fresh cluster, and read back exactly-once output.

One Flink experiment at a time (2 cores): each test starts its own cluster in tmp_path and
asserts that no JVM of it is left when it ends.
"""

from __future__ import annotations

import csv
import dataclasses
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rtcompute.domain import flinkconf
from rtcompute.runtime import processes, zookeeper
from rtcompute.runtime.engines import workers
from rtcompute.runtime.flink import cluster as flink_cluster
from rtcompute.runtime.flink import rest
from tests import waiting

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def jobmanager(ports: list[int]) -> flink_cluster.FlinkProcess:
    return flink_cluster.FlinkProcess(
        "jobmanager",
        0,
        "pool",
        HOST,
        ports[0],
        flinkconf.JOBMANAGER_MEMORY_MB,
        rest_port=ports[1],
        blob_port=ports[2],
    )


def taskmanager(index: int, slots: int) -> flink_cluster.FlinkProcess:
    rpc, data = free_ports(2)
    memory = flinkconf.taskmanager_memory_mb(slots)
    return flink_cluster.FlinkProcess(
        "taskmanager", index, "pool", HOST, rpc, memory, data_port=data, slots=slots
    )


def jvms_under(directory: Path) -> list[int]:
    """Live processes with an argument naming something under `directory`."""
    needle = str(directory)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and any(needle in a for a in processes.cmdline(int(entry.name))):
            found.append(int(entry.name))
    return found


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.3) -> Any:
    """The suite's wait, with Flink not answering yet counted as "not yet"."""
    return waiting.wait_for(
        what, check, timeout, every, ignore=(rest.FlinkUnreachable, rest.FlinkError)
    )


def state_config(version: str, root: Path) -> dict[str, str]:
    keys = flinkconf.state_keys(version)
    return {
        keys.checkpoint_dir: f"file://{root}/checkpoints",
        keys.savepoint_dir: f"file://{root}/savepoints",
        keys.checkpoint_interval: "1s",
        "heartbeat.interval": "1000",
        "metrics.fetcher.update-interval": "1000",
        "heartbeat.timeout": "6000",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "100",
        "restart-strategy.fixed-delay.delay": "1s",
    }


@pytest.fixture
def pool(installed_engines: Any) -> Iterator[workers.WorkerPool]:
    made = workers.WorkerPool(
        installed_engines.home, idle_seconds=600, request_timeout=60, start_timeout=120
    )
    yield made
    made.close()


class Run:
    """One per-job cluster in a directory: launch, wait, stop; remembers what it started."""

    def __init__(self, engines: Any, version: str, directory: Path, slots: int):
        ports = free_ports(3)
        self.launcher = flink_cluster.FlinkLauncher(stop_grace=5.0)
        self.cluster = flink_cluster.JobCluster(
            run_key=directory.name,
            version=version,
            engine_home=engines.path(version),
            directory=directory,
            processes=(jobmanager(ports), taskmanager(0, slots)),
            config=state_config(version, directory.parent),
        )
        self.rest = rest.FlinkRest(HOST, ports[1])

    def start(self) -> float:
        started = time.monotonic()
        for process in self.cluster.processes:
            self.launcher.start(self.cluster, process)
        wait_for("a registered TaskManager", lambda: self.rest.overview().get("taskmanagers"), 60)
        return time.monotonic() - started

    def add_taskmanager(self, slots: int) -> flink_cluster.FlinkProcess:
        index = len(self.cluster.processes) - 1
        process = taskmanager(index, slots)
        self.cluster = dataclasses.replace(
            self.cluster, processes=(*self.cluster.processes, process)
        )
        self.launcher.start(self.cluster, process)
        return process

    def submit_config(self, **extra: str) -> dict[str, str]:
        leader = self.cluster.leader()
        return {
            "rest.address": leader.host,
            "rest.port": str(leader.rest_port),
            "parallelism.default": "1",
            **self.cluster.config,
            **extra,
        }

    def state(self, job_id: str) -> str:
        return str(self.rest.job(job_id).get("state"))

    def stop(self) -> None:
        self.launcher.stop(self.cluster)
        assert jvms_under(self.cluster.directory) == []


ROWS = 2000  # 50 s of data at RATE: the first run stops half way even on a busy host
RATE = 40


def job_sql(out: Path) -> str:
    # id n is event time n * 100 ms: each 1 s window holds ids 10k .. 10k+9
    return f"""
CREATE TABLE src (id BIGINT, ts AS TO_TIMESTAMP_LTZ(id * 100, 3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'datagen', 'rows-per-second' = '{RATE}',
      'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '{ROWS}');
CREATE TABLE windows (lo BIGINT, hi BIGINT, cnt BIGINT, total BIGINT)
WITH ('connector' = 'filesystem', 'path' = 'file://{out}', 'format' = 'csv');
INSERT INTO windows
SELECT MIN(id), MAX(id), COUNT(*), SUM(id)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))
GROUP BY window_start, window_end;
"""


def expected_windows() -> list[tuple[int, int, int, int]]:
    rows = []
    for k in range(ROWS // 10 + 1):
        ids = [i for i in range(10 * k, 10 * k + 10) if 1 <= i <= ROWS]
        if ids:
            rows.append((min(ids), max(ids), len(ids), sum(ids)))
    return rows


def finished_rows(out: Path) -> list[tuple[int, int, int, int]]:
    rows = []
    for path in sorted(out.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            with path.open(newline="") as handle:
                rows += [tuple(int(v) for v in row) for row in csv.reader(handle) if row]
    return sorted(rows)  # type: ignore[arg-type]


def test_exactly_once_across_taskmanager_loss_and_savepoint_restore(
    installed_engines: Any, pool: workers.WorkerPool, tmp_path: Path
) -> None:
    version = "flink-2.2.1"
    out = tmp_path / "out"
    first = Run(installed_engines, version, tmp_path / "job-1-run-1", slots=2)
    second: Run | None = None
    try:
        first.start()
        submitted = pool.submit(version, job_sql(out), first.submit_config())
        assert submitted.problems == () and submitted.job_id
        job_id = submitted.job_id
        wait_for("RUNNING", lambda: first.state(job_id) == "RUNNING", 30)
        completed = lambda: first.rest.checkpoints(job_id).get("counts", {}).get("completed")  # noqa: E731
        wait_for("a completed checkpoint", lambda: (completed() or 0) >= 2, 30)

        # a TaskManager lost: a new one takes its place, the job restores its checkpoint
        first.launcher.kill(first.cluster, first.cluster.processes[1])
        first.add_taskmanager(slots=2)
        restored = lambda: first.rest.checkpoints(job_id).get("latest", {}).get("restored")  # noqa: E731
        wait_for("a restore from a checkpoint", restored, 60)
        wait_for("RUNNING again", lambda: first.state(job_id) == "RUNNING", 60)
        before = completed() or 0
        wait_for("a checkpoint after the restore", lambda: (completed() or 0) > before, 30)

        # the JobManager fetches task metrics on demand, at most every update-interval
        metrics = wait_for(
            "task metrics",
            lambda: (m := first.rest.metrics(job_id)).records_in_per_second and m,
            30,
            every=1.0,
        )
        assert metrics.records_out_per_second is not None
        assert metrics.last_checkpoint_duration_ms is not None
        assert metrics.last_checkpoint_size_bytes
        assert metrics.watermark_lag_ms is not None and metrics.watermark_lag_ms > 0
        assert metrics.backpressure is not None and 0 <= metrics.backpressure <= 1

        request = first.rest.stop_with_savepoint(job_id, f"file://{tmp_path}/savepoints")
        status = wait_for(
            "the savepoint",
            lambda: (
                (s := first.rest.savepoint_status(job_id, request)).state != "IN_PROGRESS" and s
            ),
            60,
        )
        assert status.state == "COMPLETED" and status.location, status
        wait_for("FINISHED after stop", lambda: first.state(job_id) == "FINISHED", 30)
        first.stop()
        partial = finished_rows(out)
        assert partial and len(partial) < len(expected_windows())  # stopped half way

        second = Run(installed_engines, version, tmp_path / "job-1-run-2", slots=2)
        second.start()
        keys = flinkconf.state_keys(version)
        config = second.submit_config(
            **{keys.restore_path: status.location, keys.allow_non_restored: "true"}
        )
        resubmitted = pool.submit(version, job_sql(out), config)
        assert resubmitted.problems == () and resubmitted.job_id
        new_id = resubmitted.job_id
        wait_for("FINISHED", lambda: second.state(new_id) == "FINISHED", 90, every=1.0)
        restore = second.rest.checkpoints(new_id).get("latest", {}).get("restored") or {}
        assert restore.get("is_savepoint") is True
        second.stop()
        assert finished_rows(out) == expected_windows()
    finally:
        for run in (first, second):
            if run is not None:
                run.launcher.stop(run.cluster)
    assert jvms_under(tmp_path) == []


def test_flink_120_smoke_and_adoption(
    installed_engines: Any,
    pool: workers.WorkerPool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = "flink-1.20.5"
    run = Run(installed_engines, version, tmp_path / "job-2-run-1", slots=1)
    # the server's environment never reaches a job's processes (runtime/sandbox.py)
    monkeypatch.setenv("RTC_BOOTSTRAP_PASSWORD", "canary-secret-82")
    monkeypatch.setenv("JVM_ARGS", "-Dinjected=1")
    try:
        run.start()
        assert run.rest.overview().get("flink-version") == "1.20.5"
        submitted = pool.submit(version, job_sql(tmp_path / "out"), run.submit_config())
        assert submitted.problems == () and submitted.job_id
        job_id = submitted.job_id
        wait_for("RUNNING", lambda: run.state(job_id) == "RUNNING", 30)
        metrics = wait_for(
            "task metrics",
            lambda: (m := run.rest.metrics(job_id)).records_in_per_second and m,
            30,
            every=1.0,
        )
        assert metrics.records_out_per_second is not None
        assert metrics.watermark_lag_ms is not None and metrics.backpressure is not None

        # a fresh launcher (a restarted server) adopts the processes it did not start
        adopter = flink_cluster.FlinkLauncher(stop_grace=5.0)
        pids = [adopter.find(run.cluster, p) for p in run.cluster.processes]
        assert all(pids) and len(set(pids)) == len(pids)
        # each is the JVM itself (no script in between), with Flink's own memory sizing
        for process, pid in zip(run.cluster.processes, pids, strict=True):
            argv = processes.cmdline(int(pid or 0))
            assert argv[0].endswith("java"), argv[:3]
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert not [e for e in environ if e.startswith((b"RTC_", b"JVM_ARGS"))], environ
            assert b"canary-secret-82" not in b"".join(environ) and "-Dinjected=1" not in argv
            assert flink_cluster.ENTRYPOINTS[process.kind] in argv
            assert any(a.startswith("-Xmx") for a in argv), argv
            assert any(a.startswith(f"{process.kind}.memory.") for a in argv), argv
        kinds = {log.kind for log in adopter.logs(run.cluster)}
        assert kinds == {"log", "out"}

        # 1.20's restore key: a savepoint taken without stopping, then a resubmission
        wait_for("a checkpoint", lambda: run.rest.checkpoints(job_id)["counts"]["completed"], 30)
        request = run.rest.trigger_savepoint(job_id, f"file://{tmp_path}/savepoints")
        status = wait_for(
            "the savepoint",
            lambda: (s := run.rest.savepoint_status(job_id, request)).state != "IN_PROGRESS" and s,
            60,
        )
        assert status.state == "COMPLETED" and status.location, status
        run.rest.cancel(job_id)
        wait_for("CANCELED", lambda: run.state(job_id) == "CANCELED", 30)
        keys = flinkconf.state_keys(version)
        config = run.submit_config(
            **{keys.restore_path: status.location, keys.allow_non_restored: "true"}
        )
        again = pool.submit(version, job_sql(tmp_path / "out"), config)
        assert again.job_id, again.problems
        restored = wait_for(
            "the restore",
            lambda: run.rest.checkpoints(str(again.job_id)).get("latest", {}).get("restored"),
            30,
        )
        assert restored.get("is_savepoint") is True
        run.rest.cancel(again.job_id)
        wait_for("CANCELED", lambda: run.state(str(again.job_id)) == "CANCELED", 30)

        adopter.stop(run.cluster)
        assert [adopter.find(run.cluster, p) for p in run.cluster.processes] == [None, None]
        assert jvms_under(tmp_path) == []
        adopter.remove(run.cluster)
        assert not run.cluster.directory.exists()
    finally:
        run.launcher.stop(run.cluster)
    assert jvms_under(tmp_path) == []


def test_memory_flink_refuses_is_a_launch_error_and_starts_nothing(
    installed_engines: Any, tmp_path: Path
) -> None:
    version = "flink-2.2.1"
    small = dataclasses.replace(taskmanager(0, 1), memory_mb=300)  # under Flink's minimum
    directory = tmp_path / "job-3-run-1"
    cluster = flink_cluster.JobCluster(
        run_key=directory.name,
        version=version,
        engine_home=installed_engines.path(version),
        directory=directory,
        processes=(jobmanager(free_ports(3)), small),
        config={},
    )
    launcher = flink_cluster.FlinkLauncher(stop_grace=5.0)
    with pytest.raises(flink_cluster.LaunchError, match="Flink refused the taskmanager-0's"):
        launcher.start(cluster, small)
    assert not flink_cluster.pid_file(cluster, small).exists()
    assert jvms_under(tmp_path) == []


def test_submit_reports_a_problem_at_its_position(
    installed_engines: Any, pool: workers.WorkerPool
) -> None:
    sql = (
        "CREATE TABLE s (id INT) WITH ('connector' = 'datagen');\n"
        "INSERT INTO nowhere SELECT id FROM s;"
    )
    config = {"rest.address": HOST, "rest.port": "1", "parallelism.default": "1"}
    result = pool.submit("flink-2.2.1", sql, config)
    assert result.job_id is None
    assert result.problems and result.problems[0].line == 2
    assert "nowhere" in result.problems[0].message


UDF_SOURCE = """
import org.apache.flink.table.functions.ScalarFunction;

public class Twice extends ScalarFunction {
    public Long eval(Long value) {
        return value == null ? null : value * 2;
    }
}
"""


def build_udf_jar(flink_home: Path, directory: Path) -> Path:
    directory.mkdir()
    (directory / "Twice.java").write_text(UDF_SOURCE)
    api = next((flink_home / "lib").glob("flink-table-api-java-uber-*.jar"))
    subprocess.run(["javac", "-cp", str(api), "Twice.java"], cwd=directory, check=True)
    subprocess.run(["jar", "cf", "twice.jar", "Twice.class"], cwd=directory, check=True)
    (directory / "Twice.class").unlink()
    return directory / "twice.jar"


def test_pipeline_jars_reach_the_cluster(
    installed_engines: Any, pool: workers.WorkerPool, tmp_path: Path
) -> None:
    version = "flink-2.2.1"
    home = flink_cluster.flink_home(installed_engines.path(version))
    assert home is not None
    jar = build_udf_jar(home, tmp_path / "udf")
    out = tmp_path / "out"
    sql = f"""
CREATE TEMPORARY FUNCTION twice AS 'Twice' LANGUAGE JAVA;
CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '20',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '20');
CREATE TABLE doubled (id BIGINT, twice BIGINT)
WITH ('connector' = 'filesystem', 'path' = 'file://{out}', 'format' = 'csv');
INSERT INTO doubled SELECT id, twice(id) FROM src;
"""
    run = Run(installed_engines, version, tmp_path / "job-3-run-1", slots=1)
    try:
        run.start()
        config = run.submit_config(**{"pipeline.jars": f"file://{jar}"})
        submitted = pool.submit(version, sql, config)
        assert submitted.problems == () and submitted.job_id
        job_id = submitted.job_id
        wait_for("FINISHED", lambda: run.state(job_id) == "FINISHED", 60)
        rows = []
        for path in sorted(out.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                rows += [tuple(map(int, r)) for r in csv.reader(path.open()) if r]
        assert sorted(rows) == [(i, 2 * i) for i in range(1, 21)]
        run.stop()
    finally:
        run.launcher.stop(run.cluster)
    assert jvms_under(tmp_path) == []


def start_zookeeper(directory: Path) -> tuple[subprocess.Popen[bytes], int]:
    (port,) = free_ports(1)
    config = zookeeper.write_config(
        member_dir=directory, myid=1, host=HOST, client_port=port, peers=[]
    )
    argv = zookeeper.command(java="java", heap_mb=64, zookeeper_home=ZOOKEEPER_HOME, config=config)
    child = processes.spawn(
        argv, log_file=directory / "zookeeper.log", pid_file=directory / "zk.pid", cwd=directory
    )
    wait_for("ZooKeeper", lambda: zookeeper.four_letter(HOST, port, "ruok", timeout=1), 30)
    return child, port


ZOOKEEPER_HOME = Path("/usr/share/zookeeper")


# no skip when ZooKeeper is missing: `make test` installs it (`make zookeeper`), and a
# skip would hide the HA test in CI; a missing package fails in start_zookeeper instead
def test_standby_jobmanager_takes_over_through_zookeeper(
    installed_engines: Any, pool: workers.WorkerPool, tmp_path: Path
) -> None:
    version = "flink-2.2.1"
    out = tmp_path / "out"
    (tmp_path / "zk").mkdir()
    keeper, zk_port = start_zookeeper(tmp_path / "zk")
    run = Run(installed_engines, version, tmp_path / "job-4-run-1", slots=2)
    ha = {
        "high-availability.type": "zookeeper",
        "high-availability.zookeeper.quorum": f"{HOST}:{zk_port}",
        "high-availability.storageDir": f"file://{tmp_path}/ha",
        "high-availability.cluster-id": run.cluster.run_key,
        "high-availability.zookeeper.client.session-timeout": "4000",
        "high-availability.zookeeper.client.connection-timeout": "4000",
    }
    standby_ports = free_ports(3)
    standby = dataclasses.replace(jobmanager(standby_ports), index=1, node="master-2")
    leader, worker = run.cluster.processes
    run.cluster = dataclasses.replace(
        run.cluster,
        processes=(leader, standby, worker),
        config={**run.cluster.config, **ha},
    )
    try:
        run.start()
        submitted = pool.submit(version, job_sql(out), run.submit_config(**ha))
        assert submitted.problems == () and submitted.job_id
        job_id = submitted.job_id
        wait_for("RUNNING", lambda: run.state(job_id) == "RUNNING", 30)
        wait_for(
            "a checkpoint", lambda: run.rest.checkpoints(job_id)["counts"]["completed"] >= 2, 30
        )
        run.launcher.kill(run.cluster, leader)
        second = rest.FlinkRest(HOST, standby.rest_port)
        wait_for(
            "the job RUNNING on the standby",
            lambda: str(second.job(job_id).get("state")) == "RUNNING",
            60,
            every=1.0,
        )
        wait_for("FINISHED", lambda: str(second.job(job_id).get("state")) == "FINISHED", 90, 1.0)
        run.stop()
        assert finished_rows(out) == expected_windows()
    finally:
        run.launcher.stop(run.cluster)
        processes.terminate([keeper.pid], markers={keeper.pid: [zookeeper.MAIN_CLASS]}, grace=5)
        keeper.wait(10)
    assert jvms_under(tmp_path) == []
