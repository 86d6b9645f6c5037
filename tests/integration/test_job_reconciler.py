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
from dataclasses import dataclass, field, replace
from datetime import timedelta
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
        self.checkpoint_failure = ""  # Flink's failure_message of the latest failed checkpoint
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
        latest: dict[str, Any] = {"completed": {"external_path": self.checkpoint_path}}
        if self.checkpoint_failure:
            latest["failed"] = {"failure_message": self.checkpoint_failure}
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

    def host_lost(self, host: str) -> bool:
        return False  # this machine's processes only

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


def until(reconciler: job_reconciler.JobReconciler, done: Callable[[], bool], what: str) -> None:
    """Reconcile until `done` (a submission runs in the reconciler's thread pool)."""

    def reconciled() -> bool:
        reconciler.reconcile_once()
        return done()

    wait_for(what, reconciled, DEADLINE_SECONDS, every=0.01)


@dataclass
class World:
    """What every test drives: the API as the project's owner, the platform's database, the
    reconciler and the fake Flink under it."""

    api: TestClient
    platform: platform_module.Platform
    owner: Owner
    reconciler: job_reconciler.JobReconciler
    runtime: FakeRuntime

    @property
    def flink(self) -> FakeRest:
        return self.runtime.rest_api

    def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        """POST to the project's jobs (`etl:stop`) as the owner."""
        return ok(self.api.post(f"{JOBS}/{path}", headers=self.owner.headers, json=body), status)

    def put(self, path: str, body: Any) -> Any:
        return ok(self.api.put(f"{JOBS}/{path}", headers=self.owner.headers, json=body))

    def get(self, path: str) -> Any:
        return ok(self.api.get(f"{JOBS}/{path}", headers=self.owner.headers))

    def start(self, name: str = "etl", parallelism: int = 2, **start_body: Any) -> int:
        """A job made, published and started through the API; its id."""
        settings = {"parallelism": parallelism, "state_bucket": BUCKET}
        body = {"name": name, "sql": SQL, "settings": settings}
        ok(self.api.post(JOBS, headers=self.owner.headers, json=body), 201)
        self.post(f"{name}:publish")
        self.post(f"{name}:start", start_body or None)
        with db.transaction(self.platform.sessions) as session:
            project = session.scalars(select(tables.Project).where(tables.Project.name == PROJECT))
            found = job_store.read_job(session=session, project_id=project.one().id, name=name)
            assert found is not None
            return found.id

    def running(self) -> int:
        """A job started and running in Flink."""
        ident = self.start()
        self.flink.up, self.flink.slots = True, 2
        self.until(lambda: self.state(ident)[0] == "running", "running")
        return ident

    def until(self, done: Callable[[], bool], what: str) -> None:
        until(self.reconciler, done, what)

    def state(self, job_id: int) -> tuple[str, str, str, str]:
        """(state, desired, flink_state, message) of the deployment."""
        with db.transaction(self.platform.sessions) as session:
            found = job_store.read_deployment(session=session, job_id=job_id)
            assert found is not None
            return found.state, found.desired, found.flink_state, found.message

    def run_of(self, job_id: int, number: int = 1) -> job_store.Run:
        with db.transaction(self.platform.sessions) as session:
            found = job_store.read_run(session=session, job_id=job_id, number=number)
            assert found is not None
            session.expunge(found)
            return found

    def events(self, job_id: int) -> list[tuple[str, str]]:
        """(kind, message), oldest first."""
        with db.transaction(self.platform.sessions) as session:
            found = job_store.list_events(session=session, job_id=job_id)
            return [(e.kind, e.message) for e in reversed(found)]


@pytest.fixture
def world(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: job_reconciler.JobReconciler,
    runtime: FakeRuntime,
) -> World:
    return World(api, platform, owner, reconciler, runtime)


# ---------------------------------------------------------------- starting


def test_a_start_places_then_launches_in_order_then_submits(world: World) -> None:
    ident = world.start(parallelism=2)
    flink = world.flink
    # pass 1: the run is written (placement, ports, directory) and every process started
    # at once (TaskManagers retry until their JobManager answers); no answer yet: no submit
    world.runtime.answer = workers.SubmitResult("f00d", ())
    world.reconciler.reconcile_once()
    run = world.run_of(ident)
    processes = run.placement
    assert [(p.name, p.node, p.slots) for p in processes] == [
        ("jobmanager-0", "pool", 0),
        ("taskmanager-0", "pool", 2),
    ]
    assert run.step == "launching" and run.port_base == world.platform.settings.jobs.port_min
    directory = Path(run.directory)
    assert directory.parent == world.platform.settings.data_dir / "flink"
    assert re.fullmatch(rf"job-{ident}-run-1-[0-9a-f]{{8}}", directory.name)
    assert world.runtime.started == ["jobmanager-0", "taskmanager-0"]
    assert world.state(ident)[0] == "starting"
    world.reconciler.reconcile_once()
    assert world.runtime.started == ["jobmanager-0", "taskmanager-0"]  # found alive: not again
    assert world.runtime.submitted == []
    # the JobManager answers: submit at once, before the slots register (Flink schedules
    # the job when they do)
    flink.up = True
    world.until(lambda: world.run_of(ident).step == "running", "the submission")
    ((version, script, config),) = world.runtime.submitted
    assert version == "flink-2.2.1"
    # the oss:// location was rewritten into the bucket's directory
    assert (
        "oss://" not in script and f"'file://{world.platform.settings.data_dir}/buckets/" in script
    )
    manager = processes[0]
    assert (config["execution.target"], config["rest.address"], config["rest.port"]) == (
        "remote",
        "127.0.0.1",
        str(manager.rest_port),
    )
    assert config["parallelism.default"] == "2"
    assert config["execution.checkpointing.dir"].startswith(
        f"file://{world.platform.settings.data_dir}/buckets/"
    )
    assert config["execution.checkpointing.dir"].endswith(
        f"/rtcompute/jobs/pooled/{ident}/checkpoints"
    )
    assert "execution.state-recovery.path" not in config  # stateless
    assert world.run_of(ident).flink_job_id == "f00d"
    world.until(lambda: world.state(ident)[0] == "running", "running")
    assert world.state(ident)[:3] == ("running", "running", "RUNNING")
    assert ("state", "run 1: submitted as f00d") in world.events(ident)
    assert len(world.runtime.submitted) == 1


def test_a_job_already_in_the_cluster_is_adopted_not_submitted_again(
    world: World, monotonic: Monotonic
) -> None:
    """`rtc up` died after the submission, before it was recorded: the next process finds
    the run in `submitting` and the job in the cluster."""
    ident = world.start()
    world.reconciler.reconcile_once()  # the run is written and its processes started
    assert world.run_of(ident).step == "launching"
    # ... then the old process submitted and died before its record
    flink = world.flink
    flink.up, flink.slots = True, 2
    flink.run("beef", start=10)
    flink.run("cafe", start=20)  # a second copy (should never be): cancelled
    flink.run("dead", state="CANCELED", start=1)
    restarted = job_reconciler.JobReconciler(world.platform, world.runtime, monotonic=monotonic)
    try:
        restarted.reconcile_once()
        assert world.runtime.submitted == []
        assert world.run_of(ident).flink_job_id == "beef"
        assert flink.cancelled == ["cafe"]
        assert ("state", "run 1: adopted Flink job beef") in world.events(ident)
        until(restarted, lambda: world.state(ident)[0] == "running", "running")
    finally:
        restarted.close()
    assert world.runtime.submitted == []
    assert world.runtime.started == ["jobmanager-0", "taskmanager-0"]


def test_submission_problems_fail_the_job(world: World, notifier: RecordingNotifier) -> None:
    world.runtime.answer = workers.SubmitResult(
        None, (sqlscript.Problem(3, 1, "Table 'x' not found"),)
    )
    ident = world.start()
    world.put("etl/alerts", {"rules": [{"kind": "failed"}]})
    world.flink.up, world.flink.slots = True, 2
    world.until(lambda: world.state(ident)[0] == "failed", "failed")
    assert world.state(ident) == (
        "failed",
        "stopped",
        "",
        "submission refused by Flink: Table 'x' not found",
    )
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9", **world.owner.headers}
    found = ok(world.api.get(f"{JOBS}/etl/deployment", headers=chinese))
    assert found["message"] == "Flink 拒绝了作业提交：Table 'x' not found"
    assert world.runtime.stops == 1 and world.runtime.alive == {}
    assert world.run_of(ident).step == "ended"
    # the failed rule alerts through the notifier, with a link to the job
    (sent,) = notifier.sent[-1:]
    assert sent.subject == "job etl failed"
    assert "Table 'x' not found" in sent.body and "/console/projects/pooled/jobs/etl" in sent.body
    # locations that no longer pass when the job is submitted (the API checked them at
    # start): the job fails before Flink sees it
    world.runtime.answer = workers.SubmitResult("f00d", ())
    world.runtime.submitted.clear()
    world.post("etl:start")
    with db.transaction(world.platform.sessions) as session:
        session.execute(
            update(job_store.Deployment)
            .where(job_store.Deployment.job_id == ident)
            .values(sql=SQL.replace(f"oss://{BUCKET}/", "oss://not-mine/"))
        )
    world.until(lambda: world.state(ident)[0] == "failed", "failed again")
    message = world.state(ident)[3]
    assert message.startswith("line 2, column ") and "bucket not-mine is not a bucket" in message
    found = ok(world.api.get(f"{JOBS}/etl/deployment", headers=chinese))
    assert found["message"].startswith("第 2 行第 ") and "not-mine" in found["message"]
    assert world.runtime.submitted == []


def test_what_flink_resolved_is_judged_before_the_inserts_run(world: World) -> None:
    """The text passed, but the engine reports a table whose final options point outside
    the account's buckets (a concatenated literal, say): the job fails, nothing runs."""
    world.runtime.resolved = sqlscript.Resolved(
        tables=(
            sqlscript.ResolvedTable(
                1, "default_catalog.default_database.orders", (("path", "file:///etc"),)
            ),
        ),
        settings=(sqlscript.ResolvedSetting(2, "pipeline.jars", False),),
    )
    ident = world.start()
    world.flink.up, world.flink.slots = True, 2
    world.until(lambda: world.state(ident)[0] == "failed", "failed")
    message = world.state(ident)[3]
    assert message.startswith("line ") and "table orders: option 'path' = 'file:///etc'" in message
    assert "lies outside the account's buckets" in message
    assert len(world.runtime.submitted) == 1 and world.flink.jobs() == []
    messages = [m for _, m in world.events(ident)]
    assert not any("submitted as" in m for m in messages)


def test_a_jobmanager_that_never_answers_times_out(world: World, clock: FakeClock) -> None:
    ident = world.start()
    world.reconciler.reconcile_once()
    clock.advance(seconds=world.platform.settings.jobs.start_timeout_seconds + 1)
    world.reconciler.reconcile_once()
    found = world.state(ident)
    assert found[0] == "failed" and "did not come up in 300 s" in found[3]
    assert "ERROR the JobManager could not bind" in found[3]
    chinese = {"Accept-Language": "zh-CN", **world.owner.headers}
    shown = ok(world.api.get(f"{JOBS}/etl/deployment", headers=chinese))["message"]
    assert shown.startswith("作业的 Flink 集群在 300 秒内未能启动")
    assert "ERROR the JobManager could not bind" in shown
    assert world.runtime.stops == 1


def test_a_launch_error_fails_the_start(world: World) -> None:
    world.runtime.launch_error = "Java not found: install a JDK 17"
    ident = world.start()
    world.reconciler.reconcile_once()
    assert world.state(ident)[::3] == ("failed", "Java not found: install a JDK 17")
    # a Permanent failure: the run begun in that same pass is ended, and nothing is retried
    assert world.runtime.stops == 1 and world.run_of(ident).step == "ended"
    assert world.reconciler.retries.failures(ident) == 0
    world.runtime.launch_error = ""
    for _ in range(3):
        world.reconciler.reconcile_once()
    assert world.runtime.started == [] and world.state(ident)[0] == "failed"


def test_a_submission_whose_worker_died_is_submitted_again_after_a_back_off(
    world: World, monotonic: Monotonic
) -> None:
    """A Temporary failure: the job stays starting and is tried again, later, not on every
    pass."""
    died = errors.Unavailable(
        "the engine worker for flink-2.2.1 stopped while checking; it is restarting: try again",
        "引擎版本 flink-2.2.1 的引擎进程在检查时停止，正在重启，请重试",
        code="EngineWorkerRestarted",
    )
    world.runtime.submit_errors = [died, died]
    ident = world.start()
    world.flink.up, world.flink.slots = True, 2
    world.until(lambda: world.reconciler.retries.failures(ident) == 1, "the first failure")
    assert len(world.runtime.submitted) == 1 and world.state(ident)[0] == "starting"
    delay = job_reconciler.SUBMIT_RETRY_SECONDS
    retry_at = world.reconciler.retries.retry_at(ident)
    assert retry_at == monotonic.now + delay
    monotonic.now += delay - 0.1
    for _ in range(3):
        world.reconciler.reconcile_once()
    assert len(world.runtime.submitted) == 1  # not due yet
    monotonic.now += 0.1
    world.until(lambda: world.reconciler.retries.failures(ident) == 2, "the second failure")
    assert len(world.runtime.submitted) == 2
    assert world.reconciler.retries.retry_at(ident) == monotonic.now + 2 * delay  # doubled
    monotonic.now += 2 * delay
    world.until(lambda: world.state(ident)[0] == "running", "running")
    assert len(world.runtime.submitted) == 3 and world.reconciler.retries.failures(ident) == 0
    assert ("state", "run 1: submitted as f00d") in world.events(ident)


def test_an_engine_version_gone_from_the_machine_fails_the_start(world: World) -> None:
    """A Permanent failure: the job fails with the worker pool's message, once."""
    gone = engine_rules.version_missing("flink-2.2.1", "/engines/flink-2.2.1/bin/python")
    world.runtime.submit_errors = [gone]
    ident = world.start()
    world.flink.up, world.flink.slots = True, 2
    world.until(lambda: world.state(ident)[0] == "failed", "failed")
    assert world.state(ident)[3] == gone.message
    assert world.runtime.stops == 1 and world.run_of(ident).step == "ended"
    for _ in range(3):
        world.reconciler.reconcile_once()
    assert len(world.runtime.submitted) == 1


def test_a_restore_start_passes_the_savepoint(world: World, tmp_path: Path) -> None:
    ident = world.start()
    world.post("etl:stop", {"mode": "cancel"})
    world.reconciler.reconcile_once()  # no run yet: stopped at once
    assert world.state(ident)[0] == "stopped"
    saved = tmp_path / "sp-1"
    saved.mkdir()
    job_records.record_savepoint(
        world.platform, ident, 1, kind="savepoint", reason="stop", location=f"file://{saved}"
    )
    body = {"mode": "latest_savepoint", "allow_non_restored_state": True}
    world.post("etl:start", body)
    world.flink.up, world.flink.slots = True, 2
    world.until(lambda: bool(world.runtime.submitted), "the submission")
    config = world.runtime.submitted[0][2]
    assert config["execution.state-recovery.path"] == f"file://{saved}"
    assert config["execution.state-recovery.ignore-unclaimed-state"] == "true"
    # a savepoint gone from the bucket: the start fails and says so
    world.post("etl:stop", {"mode": "cancel"})
    world.flink.run("f00d", state="CANCELED")
    world.until(lambda: world.state(ident)[0] != "stopping", "stopped")
    saved.rmdir()
    world.post("etl:start", body)
    world.reconciler.reconcile_once()
    message = world.state(ident)[3]
    assert message.startswith("cannot start: the savepoint to restore from is gone from the bucket")


# ---------------------------------------------------------------- running


def test_a_dead_taskmanager_is_started_again(world: World) -> None:
    ident = world.running()
    del world.runtime.alive["taskmanager-0"]
    world.flink.run("f00d", state="RESTARTING")
    world.reconciler.reconcile_once()
    assert world.runtime.started == ["jobmanager-0", "taskmanager-0", "taskmanager-0"]
    gone = "taskmanager-0 on pool was gone: started again; Flink restarts the job from its last "
    assert ("failover", gone + "checkpoint") in world.events(ident)
    # Flink restarts the job: it is not shown as running (issue 18), and Flink's own word
    # for it is told truthfully
    assert world.state(ident) == (
        "restarting",
        "running",
        "RESTARTING",
        "Flink restarts the job after a failure",
    )


def test_a_taskmanager_killed_by_its_memory_limit_is_started_again_and_the_event_says_so(
    world: World,
) -> None:
    ident = world.running()
    del world.runtime.alive["taskmanager-0"]
    world.runtime.killed_by_memory["taskmanager-0"] = 1
    world.flink.run("f00d", state="RESTARTING")
    world.reconciler.reconcile_once()
    assert world.runtime.started == ["jobmanager-0", "taskmanager-0", "taskmanager-0"]
    killed = (
        "taskmanager-0 on pool went over the memory its CU allows and was killed by its limit: "
        "started again; Flink restarts the job from its last checkpoint"
    )
    assert ("failover", killed) in world.events(ident)
    # its next death, of another cause, is told as such
    del world.runtime.alive["taskmanager-0"]
    world.reconciler.reconcile_once()
    assert world.events(ident).count(("failover", killed)) == 1


def test_flink_failing_to_answer_a_read_is_retried_with_back_off(
    world: World, monotonic: Monotonic
) -> None:
    ident = world.running()
    flink = world.flink
    flink.job_reads_refused = 2
    flink.run("f00d", state="RESTARTING")
    world.reconciler.reconcile_once()
    assert world.reconciler.retries.failures(ident) == 1
    reads = flink.job_reads
    world.reconciler.reconcile_once()  # not due yet: Flink is not asked
    assert flink.job_reads == reads
    monotonic.now += job_reconciler.FLINK_RETRY_SECONDS
    world.reconciler.reconcile_once()
    assert flink.job_reads == reads + 1 and world.reconciler.retries.failures(ident) == 2
    monotonic.now += 2 * job_reconciler.FLINK_RETRY_SECONDS
    world.reconciler.reconcile_once()
    # the job kept running all along; what Flink says is recorded once it answers
    assert world.state(ident)[:3] == ("restarting", "running", "RESTARTING")
    assert world.reconciler.retries.failures(ident) == 0


def test_failovers_checkpoints_and_metrics_are_recorded(
    world: World, monotonic: Monotonic, clock: FakeClock
) -> None:
    ident = world.running()
    flink = world.flink
    now_ms = int(clock.now.timestamp() * 1000)
    flink.exception_history = [
        {
            "timestamp": now_ms - 2000,
            "exceptionName": "java.io.IOException",
            "stacktrace": "java.io.IOException: a\n\tat b",
        },
        {"timestamp": now_ms - 1000, "exceptionName": "java.lang.OOM", "stacktrace": ""},
    ]
    flink.checkpoint_path = "file:///b/chk-7"
    flink.failed_checkpoints = 2
    flink.checkpoint_failure = "Not all required tasks are currently running.\n\tat org..."
    world.reconciler.reconcile_once()
    world.reconciler.reconcile_once()  # the same history again: counted once
    kinds = [e for e in world.events(ident) if e[0] in ("failover", "checkpoint")]
    why = "a checkpoint failed: Not all required tasks are currently running."  # Flink's reason
    assert kinds == [
        ("failover", "java.io.IOException: a"),
        ("failover", "java.lang.OOM"),
        ("checkpoint", why),  # the two failed checkpoints, folded into one event
    ]
    folded = [e for e in world.get("etl/events") if e["kind"] == "checkpoint"]
    assert [(e["count"], e["message"]) for e in folded] == [(2, why)]
    deployment = world.get("etl/deployment")
    assert deployment["restarts"] == 2
    assert deployment["state"] == "restarting"  # Flink recorded failures: not `running`
    assert deployment["message"] == "Flink restarts the job after a failure: java.lang.OOM"
    saved = world.get("etl/savepoints")
    assert [(s["kind"], s["location"], s["run"]) for s in saved] == [
        ("checkpoint", "file:///b/chk-7", 1)
    ]
    flink.checkpoint_path = "file:///b/chk-8"  # the run's retained checkpoint moves on
    world.reconciler.reconcile_once()
    saved = world.get("etl/savepoints")
    assert [s["location"] for s in saved] == ["file:///b/chk-8"]
    # metrics: read once per interval
    reads = flink.metric_reads
    assert reads == 1
    monotonic.now += world.platform.settings.jobs.metrics_interval_seconds + 0.1
    world.reconciler.reconcile_once()
    assert flink.metric_reads == 2
    samples = world.get("etl/metrics")
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
    world: World, notifier: RecordingNotifier
) -> None:
    ident = world.running()
    world.put("etl/alerts", {"rules": [{"kind": "failed"}]})
    before = len(notifier.sent)
    world.flink.root_exception = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed by "
        "FailureRateRestartBackoffTimeStrategy(...)\n\tat x\n\tat y\nCaused by: "
        "java.lang.OutOfMemoryError: Java heap space\n\tat z\n\t... 3 more"
    )
    world.flink.run("f00d", state="FAILED")
    world.reconciler.reconcile_once()
    found = world.state(ident)
    assert found[:2] == ("failed", "stopped")
    # Flink's cause, not its wrapper that says it gave up
    assert found[3] == "the job failed in Flink: java.lang.OutOfMemoryError: Java heap space"
    assert world.runtime.alive == {} and world.runtime.stops == 1
    assert world.run_of(ident).step == "ended"
    assert len(notifier.sent) == before + 1
    assert notifier.sent[-1].subject == "job etl failed"
    world.reconciler.reconcile_once()  # nothing more to do
    assert len(notifier.sent) == before + 1 and world.runtime.stops == 1


def test_finished_in_flink_is_finished(world: World) -> None:
    ident = world.running()
    world.flink.run("f00d", state="FINISHED")
    world.reconciler.reconcile_once()
    assert world.state(ident)[:3] == ("finished", "stopped", "FINISHED")
    assert world.runtime.stops == 1 and world.run_of(ident).ended_at is not None


def test_the_jobs_flink_time_counts_from_its_tasks_processing(world: World) -> None:
    """Deployed at 1,000 ms, processing from 1,800 (a fresh TaskManager loads and compiles
    first), finished at 11,800: the job ran 10,000 ms, read from Flink once per run."""
    ident = world.running()
    world.flink.run("f00d", deployed=1_000)
    world.reconciler.reconcile_once()  # the tasks have not said when they began
    assert world.flink.tasks_at_reads >= 1
    world.flink.tasks_at = 1_800
    world.flink.run("f00d", "FINISHED", deployed=1_000, ended=11_800)
    world.reconciler.reconcile_once()
    assert world.state(ident)[:3] == ("finished", "stopped", "FINISHED")
    assert world.run_of(ident).flink_duration_ms == 10_000
    reads = world.flink.tasks_at_reads
    world.reconciler.reconcile_once()  # ended: nothing read again
    assert world.flink.tasks_at_reads == reads


def test_without_task_times_the_jobs_flink_time_counts_from_deployment(world: World) -> None:
    ident = world.running()
    world.flink.run("f00d", "FINISHED", deployed=1_000, ended=11_800)
    world.reconciler.reconcile_once()
    assert world.run_of(ident).flink_duration_ms == 10_800


# ---------------------------------------------------------------- stopping


def test_stop_with_a_savepoint(world: World) -> None:
    ident = world.running()
    flink = world.flink
    flink.checkpoint_path = "file:///b/chk-1"
    world.reconciler.reconcile_once()
    world.post("etl:stop")
    world.reconciler.reconcile_once()
    ((stopped_job, directory),) = flink.stop_calls
    assert stopped_job == "f00d"
    assert directory.endswith(f"/rtcompute/jobs/pooled/{ident}/savepoints")
    assert world.run_of(ident).trigger_id == "trigger-1"
    assert world.run_of(ident).step == "stopping"
    world.reconciler.reconcile_once()  # in progress: wait
    assert world.state(ident)[0] == "stopping" and world.runtime.stops == 0
    assert len(flink.stop_calls) == 1
    flink.savepoint = runtime_module.SavepointStatus("COMPLETED", "file:///b/sp-1", None)
    world.reconciler.reconcile_once()
    assert world.state(ident)[:4] == (
        "stopped",
        "stopped",
        "FINISHED",
        "savepoint file:///b/sp-1",
    )
    assert world.runtime.stops == 1 and world.run_of(ident).step == "ended"
    saved = world.get("etl/savepoints")
    # the run's checkpoints are gone with the stop (Flink removes them): only the savepoint
    assert [(s["kind"], s["reason"], s["location"]) for s in saved] == [
        ("savepoint", "stop", "file:///b/sp-1")
    ]


def test_suspend_then_resume_from_its_savepoint(world: World, tmp_path: Path) -> None:
    ident = world.running()
    flink = world.flink
    saved = tmp_path / "sp-suspend"
    saved.mkdir()
    flink.savepoint = runtime_module.SavepointStatus("COMPLETED", f"file://{saved}", None)
    world.post("etl:suspend")
    world.reconciler.reconcile_once()
    world.reconciler.reconcile_once()
    assert world.state(ident)[:2] == ("suspended", "suspended")
    listed = world.get("etl/savepoints")
    assert [(s["reason"], s["location"]) for s in listed] == [("suspend", f"file://{saved}")]
    flink.flink_jobs.clear()
    world.post("etl:resume")
    world.until(lambda: len(world.runtime.submitted) == 2, "the second submission")
    assert world.runtime.submitted[1][2]["execution.state-recovery.path"] == f"file://{saved}"
    assert world.run_of(ident, 2).restore_path == f"file://{saved}"


def test_a_failed_savepoint_keeps_the_job_running(world: World) -> None:
    ident = world.running()
    world.post("etl:stop")
    world.reconciler.reconcile_once()
    world.flink.savepoint = runtime_module.SavepointStatus(
        "FAILED", None, "java.util.concurrent.CompletionException: Checkpoint expired\n\tat x"
    )
    world.reconciler.reconcile_once()
    found = world.state(ident)
    assert found[:2] == ("running", "running")
    assert found[3] == (
        "stop with savepoint failed: java.util.concurrent.CompletionException: Checkpoint "
        "expired\nat x; the job keeps running (stop with mode cancel to stop it without a "
        "savepoint)"
    )
    assert world.runtime.stops == 0 and "jobmanager-0" in world.runtime.alive
    assert (world.run_of(ident).step, world.run_of(ident).trigger_id) == ("running", "")
    # a new stop takes a new savepoint
    world.flink.savepoint = runtime_module.SavepointStatus("IN_PROGRESS", None, None)
    world.post("etl:stop")
    world.reconciler.reconcile_once()
    assert len(world.flink.stop_calls) == 2


def test_cancel(world: World) -> None:
    ident = world.running()
    world.post("etl:stop", {"mode": "cancel"})
    world.reconciler.reconcile_once()
    assert world.flink.cancelled == ["f00d"] and world.flink.stop_calls == []
    assert world.state(ident)[0] == "stopping"
    world.flink.run("f00d", state="CANCELED")
    world.reconciler.reconcile_once()
    assert world.state(ident)[:3] == ("stopped", "stopped", "CANCELED")
    assert world.runtime.stops == 1 and world.runtime.alive == {}
    assert world.get("etl/savepoints") == []


# ---------------------------------------------------------------- alerts


def test_a_restarts_rule_fires_once_per_window(
    world: World, notifier: RecordingNotifier, clock: FakeClock
) -> None:
    ident = world.running()
    rules = {"rules": [{"kind": "restarts", "threshold": 1, "window_seconds": 600}]}
    world.put("etl/alerts", rules)
    flink = world.flink
    before = len(notifier.sent)

    def failover(seconds_ago: float = 0) -> None:
        at = int((clock.now.timestamp() - seconds_ago) * 1000)
        flink.exception_history.append({"timestamp": at, "exceptionName": "boom"})

    failover(5)
    world.reconciler.reconcile_once()
    assert len(notifier.sent) == before  # 1 is not above 1
    failover(1)
    world.reconciler.reconcile_once()
    assert len(notifier.sent) == before + 1
    sent = notifier.sent[-1]
    assert sent.subject == "job etl: 2 restarts in 600 s"
    assert "(alert above 1)" in sent.body and "/console/projects/pooled/jobs/etl" in sent.body
    assert ("alert", "job etl: 2 restarts in 600 s") in world.events(ident)
    # more failovers in the same window: no second alert
    clock.advance(seconds=60)
    failover()
    failover()
    world.reconciler.reconcile_once()
    assert len(notifier.sent) == before + 1
    # a window later, new failovers fire again (counted in the new window only)
    clock.advance(seconds=601)
    failover()
    failover()
    world.reconciler.reconcile_once()
    assert len(notifier.sent) == before + 2
    assert notifier.sent[-1].subject == "job etl: 2 restarts in 600 s"


def test_a_running_job_is_read_once_per_watch_interval(world: World, monotonic: Monotonic) -> None:
    settings = world.platform.settings.model_copy(
        update={
            "jobs": world.platform.settings.jobs.model_copy(update={"watch_interval_seconds": 2.0})
        }
    )
    throttled = job_reconciler.JobReconciler(
        platform_module.Platform(
            settings=settings,
            engine=world.platform.engine,
            sessions=world.platform.sessions,
            notifier=world.platform.notifier,
            clock=world.platform.clock,
        ),
        world.runtime,
        monotonic=monotonic,
    )
    try:
        ident = replace(world, reconciler=throttled).running()
        flink = world.flink
        flink.flink_jobs["f00d"]["state"] = "RESTARTING"
        monotonic.now += 2.0
        throttled.reconcile_once()
        assert world.state(ident)[2] == "RESTARTING"
        flink.flink_jobs["f00d"]["state"] = "RUNNING"
        monotonic.now += 1.0
        throttled.reconcile_once()  # not due yet: still as last read
        assert world.state(ident)[2] == "RESTARTING"
        monotonic.now += 1.0
        throttled.reconcile_once()
        assert world.state(ident)[2] == "RUNNING"
    finally:
        throttled.close()


def test_a_job_is_running_only_once_its_tasks_run(world: World) -> None:
    """Flink says RUNNING when it schedules the job, before the TaskManagers' slots came: a
    stop with savepoint then fails (`Not all required tasks are currently running`)."""
    ident = world.start()
    world.runtime.answer = workers.SubmitResult("f00d", ())
    world.flink.up = True
    world.until(lambda: world.run_of(ident).step == "running", "the submission")
    world.flink.run("f00d", tasks="SCHEDULED")
    for _ in range(3):
        world.reconciler.reconcile_once()
    assert world.state(ident)[0] == "starting"
    world.flink.run("f00d")
    world.reconciler.reconcile_once()
    assert world.state(ident)[:3] == ("running", "running", "RUNNING")


# ---------------------------------------------------------------- failures (issue 18)

OOM_TRACE = (
    "java.lang.OutOfMemoryError: Java heap space\n\tat org.example.Source.run(Source.java:1)"
    "\n\tat org.apache.flink.streaming.runtime.tasks.StreamTask.invoke(StreamTask.java:2)"
)


def _failure(clock: FakeClock, seconds_ago: float = 0, trace: str = OOM_TRACE) -> dict[str, Any]:
    """An entry of Flink's exception history, as its REST API sends it."""
    at = int((clock.now.timestamp() - seconds_ago) * 1000)
    return {"timestamp": at, "exceptionName": trace.split(":")[0], "stacktrace": trace}


def test_a_failure_while_starting_says_why_at_once(world: World, clock: FakeClock) -> None:
    """An OutOfMemoryError in a source while the job starts: on the next pass the job is
    `restarting` with the error's class and first line, in both languages, and an event says
    it (not `starting` until the start timeout)."""
    ident = world.start()
    world.flink.up = True
    world.until(lambda: world.run_of(ident).step == "running", "the submission")
    world.flink.run("f00d", state="RESTARTING", tasks="CANCELED")
    world.flink.exception_history = [_failure(clock)]
    world.reconciler.reconcile_once()
    state, desired, flink_state, message = world.state(ident)
    assert (state, desired, flink_state) == ("restarting", "running", "RESTARTING")
    assert message == (
        "Flink restarts the job after a failure: java.lang.OutOfMemoryError: Java heap space"
    )
    assert ("failover", "java.lang.OutOfMemoryError: Java heap space") in world.events(ident)
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9", **world.owner.headers}
    found = ok(world.api.get(f"{JOBS}/etl/deployment", headers=chinese))
    assert found["message"] == (
        "作业出现故障，Flink 正在重启：java.lang.OutOfMemoryError: Java heap space"
    )
    events = ok(world.api.get(f"{JOBS}/etl/events", headers=chinese))
    assert "java.lang.OutOfMemoryError: Java heap space" in [e["message"] for e in events]
    assert any(e["message"].startswith("重启中：作业出现故障") for e in events)
    assert any(e["message"].endswith(" 启动作业（无状态启动）") for e in events)


def test_a_restarting_job_runs_again_after_a_quiet_minute(world: World, clock: FakeClock) -> None:
    ident = world.running()
    world.flink.exception_history = [_failure(clock)]
    world.flink.run("f00d", state="RUNNING")  # restarted at once: its tasks run again
    world.reconciler.reconcile_once()
    assert world.state(ident)[0] == "restarting"
    clock.advance(seconds=30)
    world.reconciler.reconcile_once()
    assert world.state(ident)[0] == "restarting"  # it may fail again: not running yet
    clock.advance(seconds=31)
    world.reconciler.reconcile_once()
    assert world.state(ident)[:3] == ("running", "running", "RUNNING")
    assert world.get("etl/deployment")["restarts"] == 1


def test_a_job_that_keeps_failing_ends_failed_with_its_cause(
    world: World, clock: FakeClock
) -> None:
    """Each failure is a restart with its reason (folded events); when Flink's restart
    strategy gives up (FAILED), the job is `failed` with Flink's cause."""
    ident = world.running()
    gc = "java.lang.OutOfMemoryError: GC overhead limit exceeded\n\tat x.y(Z.java:1)"
    for _ in range(3):
        clock.advance(seconds=11)
        world.flink.exception_history.append(_failure(clock, trace=gc))
        world.flink.run("f00d", state="RESTARTING")
        world.reconciler.reconcile_once()
        assert world.state(ident)[0] == "restarting"
        assert world.state(ident)[3].endswith("GC overhead limit exceeded")
    failover = [e for e in world.get("etl/events") if e["kind"] == "failover"]
    assert [(e["count"], e["message"]) for e in failover] == [
        (3, "java.lang.OutOfMemoryError: GC overhead limit exceeded")
    ]
    assert failover[0]["first_at"] < failover[0]["at"]
    assert world.get("etl/deployment")["restarts"] == 3
    world.flink.root_exception = (
        "org.apache.flink.runtime.JobException: Recovery is suppressed by "
        "FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=300000, maxFailuresPerInterval"
        "=3)\n\tat a.b(C.java:1)\nCaused by: " + gc
    )
    world.flink.run("f00d", state="FAILED")
    world.reconciler.reconcile_once()
    state, desired, _, message = world.state(ident)
    assert (state, desired) == ("failed", "stopped")
    assert (
        message == "the job failed in Flink: java.lang.OutOfMemoryError: GC overhead limit exceeded"
    )


def test_jobmanager_failovers_count_as_restarts_per_run(world: World) -> None:
    ident = world.running()
    del world.runtime.alive["jobmanager-0"]
    world.reconciler.reconcile_once()
    assert world.run_of(ident).jobmanager_failovers == 1
    assert world.get("etl/deployment")["restarts"] == 1
    gone = "jobmanager-0 on pool was gone: started again; Flink restarts the job from its last "
    assert ("failover", gone + "checkpoint") in world.events(ident)


def test_identical_events_are_folded_and_alerts_count_every_occurrence(
    world: World, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    ident = world.running()
    world.put("etl/alerts", {"rules": [{"kind": "checkpoint_failures", "threshold": 36}]})
    world.flink.checkpoint_failure = "Not all required tasks are currently running."
    first = clock.now
    for count in range(1, 38):
        world.flink.failed_checkpoints = count
        world.reconciler.reconcile_once()
        clock.advance(seconds=10)
    folded = [e for e in world.get("etl/events") if e["kind"] == "checkpoint"]
    assert len(folded) == 1
    assert folded[0]["count"] == 37
    assert (
        folded[0]["message"] == "a checkpoint failed: Not all required tasks are currently running."
    )
    assert folded[0]["first_at"].startswith(first.strftime("%Y-%m-%dT%H:%M:%S"))
    # 37 in 600 s is above 36: the alert counts the folded occurrences, not the one row
    assert notifier.sent[-1].subject == "job etl: 37 failed checkpoints in 600 s"
    chinese = {"Accept-Language": "zh", **world.owner.headers}
    shown = ok(world.api.get(f"{JOBS}/etl/events", headers=chinese))
    assert "检查点失败：Not all required tasks are currently running." in [
        e["message"] for e in shown
    ]
    # a different event in between starts a new row
    world.flink.checkpoint_failure = "Checkpoint expired before completing."
    world.flink.failed_checkpoints = 38
    world.reconciler.reconcile_once()
    rows = [e for e in world.get("etl/events") if e["kind"] == "checkpoint"]
    assert [e["count"] for e in rows] == [1, 37]
    with db.transaction(world.platform.sessions) as session:
        since = clock.now - timedelta(seconds=100)
        # the 37-row's last ten (10 s apart) fall in the last 100 s, and the new one
        assert job_store.count_events(
            session=session, job_id=ident, kind="checkpoint", since=since
        ) in (10, 11)
