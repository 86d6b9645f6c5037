"""The runtime builds a run's JobCluster once and hands the same value to every call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rtcompute.domain import job_placement
from rtcompute.reconcilers import job_runtime
from rtcompute.services.jobs import runs as job_runs


def work(run_key: str, directory: Path) -> job_runs.Work:
    return job_runs.Work(
        job_id=1,
        job="etl",
        project="p",
        account_id="acct",
        desired="running",
        state="starting",
        state_since=datetime(2026, 12, 7, tzinfo=UTC),
        version="flink-2.2.1",
        stop_mode="",
        run=1,
        step="launch",
        run_key=run_key,
        directory=str(directory),
        processes=(job_placement.Process("jobmanager", 0, "m1", "127.0.0.1", 21001, 1024, 21000),),
        config={"parallelism.default": "1"},
    )


def test_a_run_s_cluster_is_built_once_and_dropped_when_the_run_stops(tmp_path: Path) -> None:
    runtime = job_runtime.FlinkRuntime(engines_home=tmp_path / "engines", workers=None)  # type: ignore[arg-type]
    first = work("job-1-run-1", tmp_path / "run1")
    cluster = runtime.cluster(first)
    assert runtime.cluster(first) is cluster
    assert cluster.engine_home == tmp_path / "engines" / "flink-2.2.1"
    assert cluster.tenant is None  # no platform: single-tenant, not sandboxed
    other = runtime.cluster(work("job-1-run-2", tmp_path / "run2"))
    assert other is not cluster and other.run_key == "job-1-run-2"
    runtime.stop(first)  # nothing runs: stopping finds no process
    rebuilt = runtime.cluster(first)
    assert rebuilt is not cluster and rebuilt == cluster
