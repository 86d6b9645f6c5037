"""The job reconciler's decisions (reconcilers/jobs.py) with a fake runtime and a fake clock,
on a real database (SQLite): the order of a start (placement written first, the JobManager
before the TaskManagers, the submission only once their slots registered), adoption of a
Flink job already in the cluster after a crash (never a second submission), what it does
with what Flink says while a job runs, stops with a savepoint or cancel, and alerts.

The jobs are made and started through the API like a tenant would (the SQL check on a stub
engine); only Flink is fake. Real Flink runs in the lead's end-to-end tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from rtcompute import errors
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import job_placement as placement
from rtcompute.domain import sqlscript
from rtcompute.reconcilers import engines as engine_reconciler
from rtcompute.reconcilers import job_runtime as runtime_module
from rtcompute.reconcilers import jobs as job_reconciler
from rtcompute.runtime.engines import workers
from rtcompute.services.jobs import records as job_records
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, migrate, tables
from rtcompute.store import jobs as job_store
from tests.conftest import FakeClock, RecordingNotifier
from tests.integration.test_clusters_api import (
    OPERATOR_PASSWORD,
    add_bucket,
    operator,  # noqa: F401
)
from tests.integration.test_engines_api import POOL, FakeInstaller, settle
from tests.integration.test_jobs_api import StubSqlEngine
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    authorize_service_role,
    ok,
    shared_project,
)
from tests.waiting import wait_for

PROJECT = "pooled"
JOBS = f"{API}/projects/{PROJECT}/jobs"
BUCKET = "acme-state"
SQL = (
    "CREATE TABLE src (a INT) WITH ('connector' = 'datagen');\n"
    "CREATE TABLE out (a INT) WITH ('connector' = 'filesystem', "
    f"'path' = 'oss://{BUCKET}/out/', 'format' = 'csv');\n"
    "INSERT INTO out SELECT a FROM src"
)
DEADLINE_SECONDS = 10.0


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite only: these are decision tests (the API tests run on both databases)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('jobs') / 'rtc.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    # every pass reads a running job (the real loop reads one every second); the throttle
    # has its own test
    return {"bootstrap_password": OPERATOR_PASSWORD, "jobs": {"watch_interval_seconds": 0.0}}


# ---------------------------------------------------------------- the fake world


class FakeRest:
    """One Flink cluster's REST API as the reconciler sees it."""

    def __init__(self) -> None:
        self.up = False
        self.slots = 0
        self.flink_jobs: dict[str, dict[str, Any]] = {}  # jid -> overview entry
        self.exception_history: list[dict[str, Any]] = []
        self.root_exception = ""
        self.checkpoint_path = ""
        self.failed_checkpoints = 0
        self.savepoint = runtime_module.SavepointStatus("IN_PROGRESS", None, None)
        self.stop_calls: list[tuple[str, str]] = []
        self.cancelled: list[str] = []
        self.metric_reads = 0
        self.tasks_at: int | None = None  # when the tasks began processing (Flink's ms)
        self.tasks_at_reads = 0
        self.job_reads_refused = 0  # the next reads of a job fail (the overview answers)
        self.job_reads = 0

    def _answer(self) -> None:
        if not self.up:
            raise runtime_module.Unreachable("connection refused")

    def overview(self) -> dict[str, Any]:
        self._answer()
        return {"flink-version": "2.2.1", "slots-total": self.slots, "taskmanagers": 1}

    def jobs(self) -> list[dict[str, Any]]:
        self._answer()
        return list(self.flink_jobs.values())

    def job(self, job_id: str) -> dict[str, Any]:
        self._answer()
        self.job_reads += 1
        if self.job_reads_refused:
            self.job_reads_refused -= 1
            raise runtime_module.Unreachable("read timed out")
        if job_id not in self.flink_jobs:
            raise runtime_module.FlinkError(404, "Job could not be found")
        return self.flink_jobs[job_id]

    def tasks_running_at(self, job_id: str, vertex_ids: list[str]) -> int | None:
        self._answer()
        assert vertex_ids == ["v1"]
        self.tasks_at_reads += 1
        return self.tasks_at

    def exceptions(self, job_id: str) -> dict[str, Any]:
        self._answer()
        return {
            "root-exception": self.root_exception,
            "exceptionHistory": {"entries": self.exception_history},
        }

    def checkpoints(self, job_id: str) -> dict[str, Any]:
        self._answer()
        latest = {"completed": {"external_path": self.checkpoint_path}}
        return {"latest": latest, "counts": {"failed": self.failed_checkpoints}}

    def stop_with_savepoint(
        self, job_id: str, target_directory: str, *, drain: bool = False
    ) -> str:
        self._answer()
        self.stop_calls.append((job_id, target_directory))
        return "trigger-1"

    def savepoint_status(self, job_id: str, request_id: str) -> runtime_module.SavepointStatus:
        self._answer()
        assert request_id == "trigger-1"
        return self.savepoint

    def cancel(self, job_id: str) -> None:
        self._answer()
        self.cancelled.append(job_id)

    def metrics(self, job_id: str) -> runtime_module.JobMetrics:
        self._answer()
        self.metric_reads += 1
        return runtime_module.JobMetrics(120.0, 118.5, 0.25, 1500, 40, 8192)

    def run(
        self,
        jid: str,
        state: str = "RUNNING",
        start: int = 1,
        tasks: str = "",
        *,
        deployed: int = 0,
        ended: int = 0,
    ) -> None:
        """A job in the cluster; its one vertex's tasks are `tasks` (default: as the job),
        deployed at `deployed` (ms); `ended`: the job's end (ms)."""
        vertex = {"id": "v1", "status": tasks or state, "start-time": deployed}
        self.flink_jobs[jid] = {
            "jid": jid,
            "state": state,
            "start-time": start,
            "vertices": [vertex],
            "timestamps": {state: ended} if ended else {},
        }


@dataclass
class FakeRuntime:
    """Processes are names in `alive`; every JobManager answers through one FakeRest."""

    rest_api: FakeRest = field(default_factory=FakeRest)
    alive: dict[str, int] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    stops: int = 0
    submitted: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    answer: workers.SubmitResult = field(default_factory=lambda: workers.SubmitResult("f00d", ()))
    launch_error: str = ""
    # what the engine reports as resolved before its INSERTs run
    resolved: sqlscript.Resolved = field(default_factory=sqlscript.Resolved)
    # processes their memory limit killed (by name: how often, in their last life)
    killed_by_memory: dict[str, int] = field(default_factory=dict)
    # what the next submissions raise (the worker pool's errors), before any answer
    submit_errors: list[Exception] = field(default_factory=list)

    def start(self, work: job_runs.Work, process: placement.Process) -> int:
        if self.launch_error:
            raise runtime_module.LaunchError(self.launch_error)
        self.started.append(process.name)
        self.alive[process.name] = 1000 + len(self.started)
        return self.alive[process.name]

    def find(self, work: job_runs.Work, process: placement.Process) -> int | None:
        return self.alive.get(process.name)

    def memory_kills(self, work: job_runs.Work, process: placement.Process) -> int:
        return self.killed_by_memory.pop(process.name, 0)  # a start gives fresh cgroups

    def stop(self, work: job_runs.Work) -> None:
        self.stops += 1
        self.alive.clear()

    def rest(self, process: placement.Process) -> runtime_module.Rest:
        return self.rest_api

    def submit(
        self,
        version: str,
        script: str,
        config: Mapping[str, str],
        approve: workers.Approve | None = None,
        account: str = "",
    ) -> workers.SubmitResult:
        self.submitted.append((version, script, dict(config)))
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        if approve is not None:  # the real worker asks before the INSERTs run
            refused = approve(sqlscript.split(script), self.resolved)
            if refused:
                return workers.SubmitResult(None, refused, approved=False)
        if self.answer.job_id:
            self.rest_api.run(self.answer.job_id)
        return self.answer

    def log_tail(self, work: job_runs.Work) -> str:
        return "ERROR the JobManager could not bind"


@dataclass
class Monotonic:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def reconciler(
    platform: platform_module.Platform, runtime: FakeRuntime, monotonic: Monotonic
) -> Iterator[job_reconciler.JobReconciler]:
    made = job_reconciler.JobReconciler(platform, runtime, monotonic=monotonic)
    yield made
    made.close()


@pytest.fixture
def owner(
    api: TestClient,
    platform: platform_module.Platform,
    operator: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> Owner:
    """A shared project of 4 CU on the pool (flink-2.2.1), bucket acme-state for the state."""
    platform.sql_engine = StubSqlEngine()  # the real check needs engine workers
    found = account(api)
    authorize_service_role(api, found)
    add_bucket(api, found, BUCKET)
    ok(api.post(POOL, headers=operator, json={"version": "flink-2.2.1"}), 201)
    settle(engine_reconciler.EngineReconciler(platform, FakeInstaller(tmp_path / "engines")))
    shared_project(api, found, PROJECT, cu=4)
    return found


def start(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    name: str = "etl",
    parallelism: int = 2,
    **start_body: Any,
) -> int:
    settings = {"parallelism": parallelism, "state_bucket": BUCKET}
    body = {"name": name, "sql": SQL, "settings": settings}
    ok(api.post(JOBS, headers=owner.headers, json=body), 201)
    ok(api.post(f"{JOBS}/{name}:publish", headers=owner.headers))
    ok(api.post(f"{JOBS}/{name}:start", headers=owner.headers, json=start_body or None))
    with db.transaction(platform.sessions) as session:
        project = session.scalars(select(tables.Project).where(tables.Project.name == PROJECT))
        found = job_store.read_job(session=session, project_id=project.one().id, name=name)
        assert found is not None
        return found.id


def state(platform: platform_module.Platform, job_id: int) -> tuple[str, str, str, str]:
    """(state, desired, flink_state, message) of the deployment."""
    with db.transaction(platform.sessions) as session:
        found = job_store.read_deployment(session=session, job_id=job_id)
        assert found is not None
        return found.state, found.desired, found.flink_state, found.message


def run_of(platform: platform_module.Platform, job_id: int, number: int = 1) -> job_store.Run:
    with db.transaction(platform.sessions) as session:
        found = job_store.read_run(session=session, job_id=job_id, number=number)
        assert found is not None
        session.expunge(found)
        return found


def events(platform: platform_module.Platform, job_id: int) -> list[tuple[str, str]]:
    """(kind, message), oldest first."""
    with db.transaction(platform.sessions) as session:
        found = job_store.list_events(session=session, job_id=job_id)
        return [(e.kind, e.message) for e in reversed(found)]


def until(reconciler: job_reconciler.JobReconciler, done: Callable[[], bool], what: str) -> None:
    """Reconcile until `done` (a submission runs in the reconciler's thread pool)."""

    def reconciled() -> bool:
        reconciler.reconcile_once()
        return done()

    wait_for(what, reconciled, DEADLINE_SECONDS, every=0.01)


def running(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    name: str = "etl",
    parallelism: int = 2,
) -> int:
    """A job started and running in Flink."""
    ident = start(api, platform, owner, name, parallelism)
    runtime.rest_api.up, runtime.rest_api.slots = True, parallelism
    until(reconciler, lambda: state(platform, ident)[0] == "running", "running")
    return ident


# ---------------------------------------------------------------- starting


def test_a_start_places_then_launches_in_order_then_submits(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = start(api, platform, owner, parallelism=2)
    flink = runtime.rest_api
    # pass 1: the run is written (placement, ports, directory) and every process started
    # at once (TaskManagers retry until their JobManager answers); no answer yet: no submit
    runtime.answer = workers.SubmitResult("f00d", ())
    reconciler.reconcile_once()
    run = run_of(platform, ident)
    processes = run.placement
    assert [(p.name, p.node, p.slots) for p in processes] == [
        ("jobmanager-0", "pool", 0),
        ("taskmanager-0", "pool", 2),
    ]
    assert run.step == "launching" and run.port_base == platform.settings.jobs.port_min
    directory = Path(run.directory)
    assert directory.parent == platform.settings.data_dir / "flink"
    assert re.fullmatch(rf"job-{ident}-run-1-[0-9a-f]{{8}}", directory.name)
    assert runtime.started == ["jobmanager-0", "taskmanager-0"]
    assert state(platform, ident)[0] == "starting"
    reconciler.reconcile_once()
    assert runtime.started == ["jobmanager-0", "taskmanager-0"]  # found alive: not again
    assert runtime.submitted == []
    # the JobManager answers: submit at once, before the slots register (Flink schedules
    # the job when they do)
    flink.up = True
    until(reconciler, lambda: run_of(platform, ident).step == "running", "the submission")
    ((version, script, config),) = runtime.submitted
    assert version == "flink-2.2.1"
    # the oss:// location was rewritten into the bucket's directory
    assert "oss://" not in script and f"'file://{platform.settings.data_dir}/buckets/" in script
    manager = processes[0]
    assert (config["execution.target"], config["rest.address"], config["rest.port"]) == (
        "remote",
        "127.0.0.1",
        str(manager.rest_port),
    )
    assert config["parallelism.default"] == "2"
    assert config["execution.checkpointing.dir"].startswith(
        f"file://{platform.settings.data_dir}/buckets/"
    )
    assert config["execution.checkpointing.dir"].endswith(
        f"/rtcompute/jobs/pooled/{ident}/checkpoints"
    )
    assert "execution.state-recovery.path" not in config  # stateless
    assert run_of(platform, ident).flink_job_id == "f00d"
    until(reconciler, lambda: state(platform, ident)[0] == "running", "running")
    assert state(platform, ident)[:3] == ("running", "running", "RUNNING")
    assert ("state", "run 1: submitted as f00d") in events(platform, ident)
    assert len(runtime.submitted) == 1


def test_a_job_already_in_the_cluster_is_adopted_not_submitted_again(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    monotonic: Monotonic,
) -> None:
    """`rtc up` died after the submission, before it was recorded: the next process finds
    the run in `submitting` and the job in the cluster."""
    ident = start(api, platform, owner)
    reconciler.reconcile_once()  # the run is written and its processes started
    assert run_of(platform, ident).step == "launching"
    # ... then the old process submitted and died before its record
    flink = runtime.rest_api
    flink.up, flink.slots = True, 2
    flink.run("beef", start=10)
    flink.run("cafe", start=20)  # a second copy (should never be): cancelled
    flink.run("dead", state="CANCELED", start=1)
    restarted = job_reconciler.JobReconciler(platform, runtime, monotonic=monotonic)
    try:
        restarted.reconcile_once()
        assert runtime.submitted == []
        assert run_of(platform, ident).flink_job_id == "beef"
        assert flink.cancelled == ["cafe"]
        assert ("state", "run 1: adopted Flink job beef") in events(platform, ident)
        until(restarted, lambda: state(platform, ident)[0] == "running", "running")
    finally:
        restarted.close()
    assert runtime.submitted == [] and runtime.started == ["jobmanager-0", "taskmanager-0"]


def test_submission_problems_fail_the_job(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    notifier: RecordingNotifier,
) -> None:
    runtime.answer = workers.SubmitResult(None, (sqlscript.Problem(3, 1, "Table 'x' not found"),))
    ident = start(api, platform, owner)
    ok(api.put(f"{JOBS}/etl/alerts", headers=owner.headers, json={"rules": [{"kind": "failed"}]}))
    runtime.rest_api.up, runtime.rest_api.slots = True, 2
    until(reconciler, lambda: state(platform, ident)[0] == "failed", "failed")
    assert state(platform, ident) == (
        "failed",
        "stopped",
        "",
        "submission refused by Flink: Table 'x' not found",
    )
    assert runtime.stops == 1 and runtime.alive == {}
    assert run_of(platform, ident).step == "ended"
    # the failed rule alerts through the notifier, with a link to the job
    (sent,) = notifier.sent[-1:]
    assert sent.subject == "job etl failed"
    assert "Table 'x' not found" in sent.body and "/console/projects/pooled/jobs/etl" in sent.body
    # locations that no longer pass when the job is submitted (the API checked them at
    # start): the job fails before Flink sees it
    runtime.answer = workers.SubmitResult("f00d", ())
    runtime.submitted.clear()
    ok(api.post(f"{JOBS}/etl:start", headers=owner.headers))
    with db.transaction(platform.sessions) as session:
        session.execute(
            update(job_store.Deployment)
            .where(job_store.Deployment.job_id == ident)
            .values(sql=SQL.replace(f"oss://{BUCKET}/", "oss://not-mine/"))
        )
    until(reconciler, lambda: state(platform, ident)[0] == "failed", "failed again")
    message = state(platform, ident)[3]
    assert message.startswith("line 2, column ") and "bucket not-mine is not a bucket" in message
    assert runtime.submitted == []


def test_what_flink_resolved_is_judged_before_the_inserts_run(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    """The text passed, but the engine reports a table whose final options point outside
    the account's buckets (a concatenated literal, say): the job fails, nothing runs."""
    runtime.resolved = sqlscript.Resolved(
        tables=(
            sqlscript.ResolvedTable(
                1, "default_catalog.default_database.orders", (("path", "file:///etc"),)
            ),
        ),
        settings=(sqlscript.ResolvedSetting(2, "pipeline.jars", False),),
    )
    ident = start(api, platform, owner)
    runtime.rest_api.up, runtime.rest_api.slots = True, 2
    until(reconciler, lambda: state(platform, ident)[0] == "failed", "failed")
    message = state(platform, ident)[3]
    assert message.startswith("line ") and "table orders: option 'path' = 'file:///etc'" in message
    assert "lies outside the account's buckets" in message
    assert len(runtime.submitted) == 1 and runtime.rest_api.jobs() == []
    messages = [m for _, m in events(platform, ident)]
    assert not any("submitted as" in m for m in messages)


def test_a_jobmanager_that_never_answers_times_out(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    clock: FakeClock,
) -> None:
    ident = start(api, platform, owner)
    reconciler.reconcile_once()
    clock.advance(seconds=platform.settings.jobs.start_timeout_seconds + 1)
    reconciler.reconcile_once()
    found = state(platform, ident)
    assert found[0] == "failed" and "did not come up in 300 s" in found[3]
    assert "ERROR the JobManager could not bind" in found[3]
    assert runtime.stops == 1


def test_a_launch_error_fails_the_start(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    runtime.launch_error = "Java not found: install a JDK 17"
    ident = start(api, platform, owner)
    reconciler.reconcile_once()
    assert state(platform, ident)[::3] == ("failed", "Java not found: install a JDK 17")
    # a Permanent failure: the run begun in that same pass is ended, and nothing is retried
    assert runtime.stops == 1 and run_of(platform, ident).step == "ended"
    assert reconciler.retries.failures(ident) == 0
    runtime.launch_error = ""
    for _ in range(3):
        reconciler.reconcile_once()
    assert runtime.started == [] and state(platform, ident)[0] == "failed"


def test_a_submission_whose_worker_died_is_submitted_again_after_a_back_off(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    monotonic: Monotonic,
) -> None:
    """A Temporary failure: the job stays starting and is tried again, later, not on every
    pass."""
    died = errors.Unavailable(
        "the engine worker for flink-2.2.1 stopped while checking; it is restarting: try again",
        "引擎版本 flink-2.2.1 的引擎进程在检查时停止，正在重启，请重试",
        code="EngineWorkerRestarted",
    )
    runtime.submit_errors = [died, died]
    ident = start(api, platform, owner)
    runtime.rest_api.up, runtime.rest_api.slots = True, 2
    until(reconciler, lambda: reconciler.retries.failures(ident) == 1, "the first failure")
    assert len(runtime.submitted) == 1 and state(platform, ident)[0] == "starting"
    delay = job_reconciler.SUBMIT_RETRY_SECONDS
    retry_at = reconciler.retries.retry_at(ident)
    assert retry_at == monotonic.now + delay
    monotonic.now += delay - 0.1
    for _ in range(3):
        reconciler.reconcile_once()
    assert len(runtime.submitted) == 1  # not due yet
    monotonic.now += 0.1
    until(reconciler, lambda: reconciler.retries.failures(ident) == 2, "the second failure")
    assert len(runtime.submitted) == 2
    assert reconciler.retries.retry_at(ident) == monotonic.now + 2 * delay  # doubled
    monotonic.now += 2 * delay
    until(reconciler, lambda: state(platform, ident)[0] == "running", "running")
    assert len(runtime.submitted) == 3 and reconciler.retries.failures(ident) == 0
    assert ("state", "run 1: submitted as f00d") in events(platform, ident)


def test_an_engine_version_gone_from_the_machine_fails_the_start(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    """A Permanent failure: the job fails with the worker pool's message, once."""
    gone = engine_rules.version_missing("flink-2.2.1", "/engines/flink-2.2.1/bin/python")
    runtime.submit_errors = [gone]
    ident = start(api, platform, owner)
    runtime.rest_api.up, runtime.rest_api.slots = True, 2
    until(reconciler, lambda: state(platform, ident)[0] == "failed", "failed")
    assert state(platform, ident)[3] == gone.message
    assert runtime.stops == 1 and run_of(platform, ident).step == "ended"
    for _ in range(3):
        reconciler.reconcile_once()
    assert len(runtime.submitted) == 1


def test_a_restore_start_passes_the_savepoint(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    tmp_path: Path,
) -> None:
    ident = start(api, platform, owner)
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers, json={"mode": "cancel"}))
    reconciler.reconcile_once()  # no run yet: stopped at once
    assert state(platform, ident)[0] == "stopped"
    saved = tmp_path / "sp-1"
    saved.mkdir()
    job_records.record_savepoint(
        platform, ident, 1, kind="savepoint", reason="stop", location=f"file://{saved}"
    )
    body = {"mode": "latest_savepoint", "allow_non_restored_state": True}
    ok(api.post(f"{JOBS}/etl:start", headers=owner.headers, json=body))
    runtime.rest_api.up, runtime.rest_api.slots = True, 2
    until(reconciler, lambda: bool(runtime.submitted), "the submission")
    config = runtime.submitted[0][2]
    assert config["execution.state-recovery.path"] == f"file://{saved}"
    assert config["execution.state-recovery.ignore-unclaimed-state"] == "true"
    # a savepoint gone from the bucket: the start fails and says so
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers, json={"mode": "cancel"}))
    runtime.rest_api.run("f00d", state="CANCELED")
    until(reconciler, lambda: state(platform, ident)[0] != "stopping", "stopped")
    saved.rmdir()
    ok(api.post(f"{JOBS}/etl:start", headers=owner.headers, json=body))
    reconciler.reconcile_once()
    message = state(platform, ident)[3]
    assert message.startswith("cannot start: the savepoint to restore from is gone from the bucket")


# ---------------------------------------------------------------- running


def test_a_dead_taskmanager_is_started_again(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    del runtime.alive["taskmanager-0"]
    runtime.rest_api.run("f00d", state="RESTARTING")
    reconciler.reconcile_once()
    assert runtime.started == ["jobmanager-0", "taskmanager-0", "taskmanager-0"]
    gone = "taskmanager-0 on pool was gone: started again; Flink restarts the job from its last "
    assert ("failover", gone + "checkpoint") in events(platform, ident)
    # Flink's own word for the job, told truthfully
    assert state(platform, ident)[:3] == ("running", "running", "RESTARTING")


def test_a_taskmanager_killed_by_its_memory_limit_is_started_again_and_the_event_says_so(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    del runtime.alive["taskmanager-0"]
    runtime.killed_by_memory["taskmanager-0"] = 1
    runtime.rest_api.run("f00d", state="RESTARTING")
    reconciler.reconcile_once()
    assert runtime.started == ["jobmanager-0", "taskmanager-0", "taskmanager-0"]
    killed = (
        "taskmanager-0 on pool went over the memory its CU allows and was killed by its limit: "
        "started again; Flink restarts the job from its last checkpoint"
    )
    assert ("failover", killed) in events(platform, ident)
    # its next death, of another cause, is told as such
    del runtime.alive["taskmanager-0"]
    reconciler.reconcile_once()
    assert events(platform, ident).count(("failover", killed)) == 1


def test_flink_failing_to_answer_a_read_is_retried_with_back_off(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    monotonic: Monotonic,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    flink = runtime.rest_api
    flink.job_reads_refused = 2
    flink.run("f00d", state="RESTARTING")
    reconciler.reconcile_once()
    assert reconciler.retries.failures(ident) == 1
    reads = flink.job_reads
    reconciler.reconcile_once()  # not due yet: Flink is not asked
    assert flink.job_reads == reads
    monotonic.now += job_reconciler.FLINK_RETRY_SECONDS
    reconciler.reconcile_once()
    assert flink.job_reads == reads + 1 and reconciler.retries.failures(ident) == 2
    monotonic.now += 2 * job_reconciler.FLINK_RETRY_SECONDS
    reconciler.reconcile_once()
    # the job kept running all along; what Flink says is recorded once it answers
    assert state(platform, ident)[:3] == ("running", "running", "RESTARTING")
    assert reconciler.retries.failures(ident) == 0


def test_failovers_checkpoints_and_metrics_are_recorded(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    monotonic: Monotonic,
    clock: FakeClock,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    flink = runtime.rest_api
    now_ms = int(clock.now.timestamp() * 1000)
    flink.exception_history = [
        {"timestamp": now_ms - 2000, "exceptionName": "java.io.IOException", "stacktrace": "a\nb"},
        {"timestamp": now_ms - 1000, "exceptionName": "java.lang.OOM", "stacktrace": ""},
    ]
    flink.checkpoint_path = "file:///b/chk-7"
    flink.failed_checkpoints = 2
    reconciler.reconcile_once()
    reconciler.reconcile_once()  # the same history again: counted once
    kinds = [e for e in events(platform, ident) if e[0] in ("failover", "checkpoint")]
    assert kinds == [
        ("failover", "java.io.IOException: a\nb"),
        ("failover", "java.lang.OOM"),
        ("checkpoint", "a checkpoint failed"),
        ("checkpoint", "a checkpoint failed"),
    ]
    deployment = ok(api.get(f"{JOBS}/etl/deployment", headers=owner.headers))
    assert deployment["restarts"] == 2
    saved = ok(api.get(f"{JOBS}/etl/savepoints", headers=owner.headers))
    assert [(s["kind"], s["location"], s["run"]) for s in saved] == [
        ("checkpoint", "file:///b/chk-7", 1)
    ]
    flink.checkpoint_path = "file:///b/chk-8"  # the run's retained checkpoint moves on
    reconciler.reconcile_once()
    saved = ok(api.get(f"{JOBS}/etl/savepoints", headers=owner.headers))
    assert [s["location"] for s in saved] == ["file:///b/chk-8"]
    # metrics: read once per interval
    reads = flink.metric_reads
    assert reads == 1
    monotonic.now += platform.settings.jobs.metrics_interval_seconds + 0.1
    reconciler.reconcile_once()
    assert flink.metric_reads == 2
    samples = ok(api.get(f"{JOBS}/etl/metrics", headers=owner.headers))
    assert len(samples) == 2
    assert {k: samples[-1][k] for k in samples[-1] if k not in ("at",)} == {
        "run": 1,
        "records_in_per_second": 120.0,
        "records_out_per_second": 118.5,
        "backpressure": 0.25,
        "watermark_lag_ms": 1500,
        "checkpoint_duration_ms": 40,
        "checkpoint_size_bytes": 8192,
    }


def test_failed_in_flink_is_failed_with_its_root_exception(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    notifier: RecordingNotifier,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    ok(api.put(f"{JOBS}/etl/alerts", headers=owner.headers, json={"rules": [{"kind": "failed"}]}))
    before = len(notifier.sent)
    runtime.rest_api.root_exception = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x\n\tat y\n\tat z"
    )
    runtime.rest_api.run("f00d", state="FAILED")
    reconciler.reconcile_once()
    found = state(platform, ident)
    assert found[:2] == ("failed", "stopped")
    assert found[3] == ("org.apache.flink.runtime.JobException: Recovery is suppressed\nat x\nat y")
    assert runtime.alive == {} and runtime.stops == 1
    assert run_of(platform, ident).step == "ended"
    assert len(notifier.sent) == before + 1
    assert notifier.sent[-1].subject == "job etl failed"
    reconciler.reconcile_once()  # nothing more to do
    assert len(notifier.sent) == before + 1 and runtime.stops == 1


def test_finished_in_flink_is_finished(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    runtime.rest_api.run("f00d", state="FINISHED")
    reconciler.reconcile_once()
    assert state(platform, ident)[:3] == ("finished", "stopped", "FINISHED")
    assert runtime.stops == 1 and run_of(platform, ident).ended_at is not None


def test_the_jobs_flink_time_counts_from_its_tasks_processing(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    """Deployed at 1,000 ms, processing from 1,800 (a fresh TaskManager loads and compiles
    first), finished at 11,800: the job ran 10,000 ms, read from Flink once per run."""
    ident = running(api, platform, owner, reconciler, runtime)
    runtime.rest_api.run("f00d", deployed=1_000)
    reconciler.reconcile_once()  # the tasks have not said when they began
    assert runtime.rest_api.tasks_at_reads >= 1
    runtime.rest_api.tasks_at = 1_800
    runtime.rest_api.run("f00d", "FINISHED", deployed=1_000, ended=11_800)
    reconciler.reconcile_once()
    assert state(platform, ident)[:3] == ("finished", "stopped", "FINISHED")
    assert run_of(platform, ident).flink_duration_ms == 10_000
    reads = runtime.rest_api.tasks_at_reads
    reconciler.reconcile_once()  # ended: nothing read again
    assert runtime.rest_api.tasks_at_reads == reads


def test_without_task_times_the_jobs_flink_time_counts_from_deployment(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    runtime.rest_api.run("f00d", "FINISHED", deployed=1_000, ended=11_800)
    reconciler.reconcile_once()
    assert run_of(platform, ident).flink_duration_ms == 10_800


# ---------------------------------------------------------------- stopping


def test_stop_with_a_savepoint(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    flink = runtime.rest_api
    flink.checkpoint_path = "file:///b/chk-1"
    reconciler.reconcile_once()
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers))
    reconciler.reconcile_once()
    ((stopped_job, directory),) = flink.stop_calls
    assert stopped_job == "f00d"
    assert directory.endswith(f"/rtcompute/jobs/pooled/{ident}/savepoints")
    assert run_of(platform, ident).trigger_id == "trigger-1"
    assert run_of(platform, ident).step == "stopping"
    reconciler.reconcile_once()  # in progress: wait
    assert state(platform, ident)[0] == "stopping" and runtime.stops == 0
    assert len(flink.stop_calls) == 1
    flink.savepoint = runtime_module.SavepointStatus("COMPLETED", "file:///b/sp-1", None)
    reconciler.reconcile_once()
    assert state(platform, ident)[:4] == (
        "stopped",
        "stopped",
        "FINISHED",
        "savepoint file:///b/sp-1",
    )
    assert runtime.stops == 1 and run_of(platform, ident).step == "ended"
    saved = ok(api.get(f"{JOBS}/etl/savepoints", headers=owner.headers))
    # the run's checkpoints are gone with the stop (Flink removes them): only the savepoint
    assert [(s["kind"], s["reason"], s["location"]) for s in saved] == [
        ("savepoint", "stop", "file:///b/sp-1")
    ]


def test_suspend_then_resume_from_its_savepoint(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    tmp_path: Path,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    flink = runtime.rest_api
    saved = tmp_path / "sp-suspend"
    saved.mkdir()
    flink.savepoint = runtime_module.SavepointStatus("COMPLETED", f"file://{saved}", None)
    ok(api.post(f"{JOBS}/etl:suspend", headers=owner.headers))
    reconciler.reconcile_once()
    reconciler.reconcile_once()
    assert state(platform, ident)[:2] == ("suspended", "suspended")
    listed = ok(api.get(f"{JOBS}/etl/savepoints", headers=owner.headers))
    assert [(s["reason"], s["location"]) for s in listed] == [("suspend", f"file://{saved}")]
    flink.flink_jobs.clear()
    ok(api.post(f"{JOBS}/etl:resume", headers=owner.headers))
    until(reconciler, lambda: len(runtime.submitted) == 2, "the second submission")
    assert runtime.submitted[1][2]["execution.state-recovery.path"] == f"file://{saved}"
    assert run_of(platform, ident, 2).restore_path == f"file://{saved}"


def test_a_failed_savepoint_keeps_the_job_running(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers))
    reconciler.reconcile_once()
    runtime.rest_api.savepoint = runtime_module.SavepointStatus(
        "FAILED", None, "java.util.concurrent.CompletionException: Checkpoint expired\n\tat x"
    )
    reconciler.reconcile_once()
    found = state(platform, ident)
    assert found[:2] == ("running", "running")
    assert found[3] == (
        "stop with savepoint failed: java.util.concurrent.CompletionException: Checkpoint "
        "expired\nat x; the job keeps running (stop with mode cancel to stop it without a "
        "savepoint)"
    )
    assert runtime.stops == 0 and "jobmanager-0" in runtime.alive
    assert (run_of(platform, ident).step, run_of(platform, ident).trigger_id) == ("running", "")
    # a new stop takes a new savepoint
    runtime.rest_api.savepoint = runtime_module.SavepointStatus("IN_PROGRESS", None, None)
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers))
    reconciler.reconcile_once()
    assert len(runtime.rest_api.stop_calls) == 2


def test_cancel(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    ok(api.post(f"{JOBS}/etl:stop", headers=owner.headers, json={"mode": "cancel"}))
    reconciler.reconcile_once()
    assert runtime.rest_api.cancelled == ["f00d"] and runtime.rest_api.stop_calls == []
    assert state(platform, ident)[0] == "stopping"
    runtime.rest_api.run("f00d", state="CANCELED")
    reconciler.reconcile_once()
    assert state(platform, ident)[:3] == ("stopped", "stopped", "CANCELED")
    assert runtime.stops == 1 and runtime.alive == {}
    assert ok(api.get(f"{JOBS}/etl/savepoints", headers=owner.headers)) == []


# ---------------------------------------------------------------- alerts


def test_a_restarts_rule_fires_once_per_window(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
    notifier: RecordingNotifier,
    clock: FakeClock,
) -> None:
    ident = running(api, platform, owner, reconciler, runtime)
    rules = {"rules": [{"kind": "restarts", "threshold": 1, "window_seconds": 600}]}
    ok(api.put(f"{JOBS}/etl/alerts", headers=owner.headers, json=rules))
    flink = runtime.rest_api
    before = len(notifier.sent)

    def failover(seconds_ago: float = 0) -> None:
        at = int((clock.now.timestamp() - seconds_ago) * 1000)
        flink.exception_history.append({"timestamp": at, "exceptionName": "boom"})

    failover(5)
    reconciler.reconcile_once()
    assert len(notifier.sent) == before  # 1 is not above 1
    failover(1)
    reconciler.reconcile_once()
    assert len(notifier.sent) == before + 1
    sent = notifier.sent[-1]
    assert sent.subject == "job etl: 2 restarts in 600 s"
    assert "(alert above 1)" in sent.body and "/console/projects/pooled/jobs/etl" in sent.body
    assert ("alert", "job etl: 2 restarts in 600 s") in events(platform, ident)
    # more failovers in the same window: no second alert
    clock.advance(seconds=60)
    failover()
    failover()
    reconciler.reconcile_once()
    assert len(notifier.sent) == before + 1
    # a window later, new failovers fire again (counted in the new window only)
    clock.advance(seconds=601)
    failover()
    failover()
    reconciler.reconcile_once()
    assert len(notifier.sent) == before + 2
    assert notifier.sent[-1].subject == "job etl: 2 restarts in 600 s"


def test_a_running_job_is_read_once_per_watch_interval(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    runtime: FakeRuntime,
    monotonic: Monotonic,
) -> None:
    settings = platform.settings.model_copy(
        update={"jobs": platform.settings.jobs.model_copy(update={"watch_interval_seconds": 2.0})}
    )
    throttled = job_reconciler.JobReconciler(
        platform_module.Platform(
            settings=settings,
            engine=platform.engine,
            sessions=platform.sessions,
            notifier=platform.notifier,
            clock=platform.clock,
        ),
        runtime,
        monotonic=monotonic,
    )
    try:
        ident = running(api, platform, owner, throttled, runtime)
        flink = runtime.rest_api
        flink.flink_jobs["f00d"]["state"] = "RESTARTING"
        monotonic.now += 2.0
        throttled.reconcile_once()
        assert state(platform, ident)[2] == "RESTARTING"
        flink.flink_jobs["f00d"]["state"] = "RUNNING"
        monotonic.now += 1.0
        throttled.reconcile_once()  # not due yet: still as last read
        assert state(platform, ident)[2] == "RESTARTING"
        monotonic.now += 1.0
        throttled.reconcile_once()
        assert state(platform, ident)[2] == "RUNNING"
    finally:
        throttled.close()


def test_a_job_is_running_only_once_its_tasks_run(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> None:
    """Flink says RUNNING when it schedules the job, before the TaskManagers' slots came: a
    stop with savepoint then fails (`Not all required tasks are currently running`)."""
    ident = start(api, platform, owner)
    runtime.answer = workers.SubmitResult("f00d", ())
    runtime.rest_api.up = True
    until(reconciler, lambda: run_of(platform, ident).step == "running", "the submission")
    runtime.rest_api.run("f00d", tasks="SCHEDULED")
    for _ in range(3):
        reconciler.reconcile_once()
    assert state(platform, ident)[0] == "starting"
    runtime.rest_api.run("f00d")
    reconciler.reconcile_once()
    assert state(platform, ident)[:3] == ("running", "running", "RUNNING")
