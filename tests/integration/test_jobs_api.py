"""Jobs through the API (issue 6), on both databases: folders, drafts and revisions, settings,
the per-job engine version, the online job's state machine with the exact refusal codes,
the project's CU quota, read-only RAM users, the engine version an online job pins, and
bad input that never gives a 500.

No Flink runs here: the states the job reconciler writes are written through its own
service (services/jobs/records.move), the way the cluster tests set a cluster running. The SQL
check runs on a stub `platform.sql_engine` that answers ok: the real engine workers are
tested by the real-Flink tests (tests/e2e); the isolation rules of locations run for real.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event, select
from starlette.testclient import TestClient

from rtcompute.domain import engines as engine_rules
from rtcompute.domain import flinkconf, sqlscript
from rtcompute.domain import jobs as job_rules
from rtcompute.reconcilers import engines as engine_reconciler
from rtcompute.services.jobs import records as job_records
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from rtcompute.store import jobs as job_store
from rtcompute.store.tables import capacity as capacity_tables
from tests.integration.test_clusters_api import (
    OPERATOR_PASSWORD,
    Setup,
    operator,  # noqa: F401
    setup,  # noqa: F401
)
from tests.integration.test_engines_api import (
    POOL,
    FakeInstaller,
    installed,
    listing,
    running_cluster,
    settle,
    versions_of,
)
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    create_policy,
    expect,
    ok,
    ram_user,
    shared_project,
)

PROJECT = "alpha"
JOBS = f"{API}/projects/{PROJECT}/jobs"
FOLDERS = f"{API}/projects/{PROJECT}/folders"
SQL = (
    "CREATE TABLE src (a INT) WITH ('connector' = 'datagen');\n"
    "CREATE TABLE out (a INT) WITH ('connector' = 'print');\n"
    "INSERT INTO out SELECT a FROM src"
)


@dataclass
class StubSqlEngine:
    """services/kernel/platform.SqlEngine answering ok (or `problems` when set): the real workers
    are tested with real Flink elsewhere."""

    problems: tuple[sqlscript.Problem, ...] = ()
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def _answer(self, version: str) -> sqlscript.CheckResult:
        return sqlscript.CheckResult(
            not self.problems, self.problems, "", 1.0, engine_rules.release_of(version)
        )

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("validate", version, sql))
        return self._answer(version)

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("explain", version, sql))
        return self._answer(version)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": OPERATOR_PASSWORD}


@pytest.fixture
def reconciler(
    platform: platform_module.Platform, tmp_path: Path
) -> engine_reconciler.EngineReconciler:
    return engine_reconciler.EngineReconciler(platform, FakeInstaller(tmp_path / "engines"))


@pytest.fixture
def engine(platform: platform_module.Platform) -> StubSqlEngine:
    stub = StubSqlEngine()
    platform.sql_engine = stub
    return stub


@pytest.fixture
def owner(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    engine: StubSqlEngine,
) -> Owner:
    """An account with a running 1-master cluster (its bucket acme-udfs), flink-2.2.1
    installed and current, and project alpha of 2 CU in the cluster."""
    running_cluster(api, platform, setup)
    installed(api, setup.owner, reconciler, "flink-2.2.1")
    body = {"name": PROJECT, "cluster": "cluster1", "cu": 2}
    ok(api.post(f"{API}/projects", headers=setup.owner.headers, json=body), 201)
    return setup.owner


def job_url(name: str, rest: str = "") -> str:
    return f"{JOBS}/{name}{rest}"


def new_job(api: TestClient, owner: Owner, name: str, **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = ok(
        api.post(JOBS, headers=owner.headers, json={"name": name, "sql": SQL, **body}), 201
    )
    return made


def online(api: TestClient, owner: Owner, name: str, **body: Any) -> dict[str, Any]:
    new_job(api, owner, name, **body)
    published: dict[str, Any] = ok(api.post(job_url(name, ":publish"), headers=owner.headers))
    return published


def job_id(platform: platform_module.Platform, name: str, project: str = PROJECT) -> int:
    with db.transaction(platform.sessions) as session:
        return session.scalars(
            select(job_store.Job.id)
            .join(tables.Project, tables.Project.id == job_store.Job.project_id)
            .where(job_store.Job.name == name, tables.Project.name == project)
        ).one()


def observed(platform: platform_module.Platform, name: str, *states: str) -> None:
    """What the job reconciler writes as Flink moves (services/jobs/records.move)."""
    for state in states:
        assert job_records.move(platform, job_id(platform, name), state), state


def deployment(api: TestClient, owner: Owner, name: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(api.get(job_url(name, "/deployment"), headers=owner.headers))
    return found


def action(api: TestClient, headers: dict[str, str], name: str, verb: str, **body: Any) -> Any:
    return api.post(job_url(name, f":{verb}"), headers=headers, json=body or None)


# ---------------------------------------------------------------- folders


def test_folders(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    assert ok(api.get(FOLDERS, headers=h)) == {"folders": ["/"]}
    assert ok(api.post(FOLDERS, headers=h, json={"path": "/etl/"}), 201) == {"folders": ["/etl"]}
    ok(api.post(FOLDERS, headers=h, json={"path": "/etl/daily"}), 201)
    body = expect(api.post(FOLDERS, headers=h, json={"path": "/x/y"}), 404, "FolderNotFound")
    assert body["message"] == "folder /x does not exist: create it first"
    expect(api.post(FOLDERS, headers=h, json={"path": "/etl"}), 409, "FolderAlreadyExists")
    expect(api.post(FOLDERS, headers=h, json={"path": "/"}), 409, "FolderAlreadyExists")
    for bad in ("etl", "/a/../b", "/.x", "/a\tb"):
        expect(api.post(FOLDERS, headers=h, json={"path": bad}), 400, "InvalidParameter.Folder")
    new_job(api, owner, "daily_etl", folder="/etl/daily")
    new_job(api, owner, "top")
    expect(
        api.post(JOBS, headers=h, json={"name": "lost", "folder": "/nope"}), 404, "FolderNotFound"
    )
    # a move takes the folder's folders and jobs along
    move = f"{FOLDERS}:move"
    moved = ok(api.post(move, headers=h, json={"path": "/etl", "to": "/pipelines"}))
    assert moved == {"folders": ["/pipelines"]}
    assert ok(api.get(FOLDERS, headers=h))["folders"] == ["/", "/pipelines", "/pipelines/daily"]
    assert ok(api.get(job_url("daily_etl"), headers=h))["folder"] == "/pipelines/daily"
    listed = ok(api.get(JOBS, headers=h, params={"folder": "/pipelines/daily"}))
    assert [j["name"] for j in listed] == ["daily_etl"]
    assert [j["name"] for j in ok(api.get(JOBS, headers=h))] == ["daily_etl", "top"]
    for body, status, code in (
        ({"path": "/pipelines", "to": "/pipelines/daily/x"}, 400, "InvalidParameter.Folder"),
        ({"path": "/", "to": "/x"}, 400, "InvalidParameter.Folder"),
        ({"path": "/nope", "to": "/x"}, 404, "FolderNotFound"),
        ({"path": "/pipelines", "to": "/a/b"}, 404, "FolderNotFound"),
        ({"path": "/pipelines/daily", "to": "/pipelines"}, 409, "FolderAlreadyExists"),
    ):
        expect(api.post(move, headers=h, json=body), status, code)
    # only an empty folder is deleted
    delete = f"{FOLDERS}:delete"
    body = expect(api.post(delete, headers=h, json={"path": "/pipelines"}), 409, "FolderNotEmpty")
    assert body["message"] == (
        "folder /pipelines is not empty (1 jobs, 1 folders): move or delete them first"
    )
    ok(api.post(job_url("daily_etl", ":move"), headers=h, json={"folder": "/"}))
    body = expect(api.post(delete, headers=h, json={"path": "/pipelines"}), 409, "FolderNotEmpty")
    assert "(0 jobs, 1 folders)" in body["message"]
    ok(api.post(delete, headers=h, json={"path": "/pipelines/daily"}), 204)
    ok(api.post(delete, headers=h, json={"path": "/pipelines"}), 204)
    expect(api.post(delete, headers=h, json={"path": "/pipelines"}), 404, "FolderNotFound")
    assert ok(api.get(FOLDERS, headers=h)) == {"folders": ["/"]}


# ---------------------------------------------------------------- drafts and revisions


def test_drafts_revisions_diff_restore(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    made = new_job(api, owner, "orders_etl", description="orders")
    assert (made["revision"], made["state"], made["cu"], made["online_revision"]) == (
        1,
        "draft",
        1.25,
        None,
    )
    assert made["settings"] == job_rules.JobSettings().as_dict() and made["engine_version"] == ""
    expect(api.post(JOBS, headers=h, json={"name": "orders_etl"}), 409, "JobAlreadyExists")
    # every save of SQL, settings or version is a revision; a description is not
    saved = ok(
        api.patch(job_url("orders_etl"), headers=h, json={"sql": "SELECT 2", "message": "m"})
    )
    assert saved["revision"] == 2 and saved["sql"] == "SELECT 2"
    same = ok(api.patch(job_url("orders_etl"), headers=h, json={"sql": "SELECT 2"}))
    assert same["revision"] == 2
    described = ok(api.patch(job_url("orders_etl"), headers=h, json={"description": "new"}))
    assert (described["revision"], described["description"]) == (2, "new")
    tuned = ok(api.patch(job_url("orders_etl"), headers=h, json={"settings": {"parallelism": 3}}))
    assert (tuned["revision"], tuned["cu"], tuned["settings"]["parallelism"]) == (3, 3.25, 3)
    assert tuned["settings"]["checkpoint_mode"] == "exactly_once"  # a partial update
    revisions = ok(api.get(job_url("orders_etl", "/revisions"), headers=h))
    assert [(r["number"], r["message"]) for r in revisions] == [
        (3, ""),
        (2, "m"),
        (1, "created"),
    ]
    first = ok(api.get(job_url("orders_etl", "/revisions/1"), headers=h))
    assert first["sql"] == SQL and first["settings"]["parallelism"] == 1
    diff = ok(api.get(job_url("orders_etl", "/diff"), headers=h, params={"from": 1, "to": 3}))
    text = diff["diff"]
    assert text.startswith("--- orders_etl@1\n+++ orders_etl@3\n")
    assert "-INSERT INTO out SELECT a FROM src" in text and "+SELECT 2" in text
    assert '---   "parallelism": 1,' in text and '+--   "parallelism": 3,' in text
    empty = ok(api.get(job_url("orders_etl", "/diff"), headers=h, params={"from": 2, "to": 2}))
    assert empty == {"diff": ""}
    expect(
        api.get(job_url("orders_etl", "/diff"), headers=h, params={"from": 1, "to": 9}),
        404,
        "RevisionNotFound",
    )
    expect(api.get(job_url("orders_etl", "/revisions/9"), headers=h), 404, "RevisionNotFound")
    # restore: a new revision with the old content
    restored = ok(api.post(job_url("orders_etl", "/revisions/1:restore"), headers=h))
    assert (restored["revision"], restored["sql"], restored["cu"]) == (4, SQL, 1.25)
    latest = ok(api.get(job_url("orders_etl", "/revisions/4"), headers=h))
    assert latest["message"] == "restored revision 1"
    # a save based on a stale revision is refused
    stale = {"sql": "SELECT 3", "base_revision": 3}
    body = expect(api.patch(job_url("orders_etl"), headers=h, json=stale), 409, "RevisionConflict")
    assert body["message"] == (
        "job orders_etl was saved as revision 4 after your revision 3: reload it, then save again"
    )
    fresh = {"sql": "SELECT 3", "base_revision": 4}
    assert ok(api.patch(job_url("orders_etl"), headers=h, json=fresh))["revision"] == 5
    # rename and move
    renamed = ok(api.post(job_url("orders_etl", ":move"), headers=h, json={"name": "orders"}))
    assert renamed["name"] == "orders" and renamed["revision"] == 5
    expect(api.get(job_url("orders_etl"), headers=h), 404, "JobNotFound")
    new_job(api, owner, "other")
    expect(
        api.post(job_url("orders", ":move"), headers=h, json={"name": "other"}),
        409,
        "JobAlreadyExists",
    )
    expect(
        api.post(job_url("orders", ":move"), headers=h, json={"folder": "/nope"}),
        404,
        "FolderNotFound",
    )
    expect(
        api.post(job_url("orders", ":move"), headers=h, json={"name": "9bad"}),
        400,
        "InvalidParameter.JobName",
    )
    # delete: the draft and its revisions go
    ok(api.delete(job_url("orders"), headers=h), 204)
    expect(api.get(job_url("orders"), headers=h), 404, "JobNotFound")
    expect(api.get(job_url("orders", "/revisions"), headers=h), 404, "JobNotFound")
    assert [j["name"] for j in ok(api.get(JOBS, headers=h))] == ["other"]
    # another account sees none of it
    stranger = account(api, "globex")
    expect(api.get(job_url("other"), headers=stranger.headers), 404)
    expect(api.get(JOBS, headers=stranger.headers), 404)


def test_settings_validation(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    refused = {"flink_config": {"rest.port": "8081"}}
    body = expect(
        api.post(JOBS, headers=h, json={"name": "j", "settings": refused}),
        400,
        "InvalidParameter.JobSettings",
    )
    assert body["message"] == (
        "settings.flink_config: key 'rest.port' is not allowed: the platform sets state "
        "locations, ports, memory, classpath and HA itself; allowed keys are "
        + flinkconf.allowed_text()
    )
    for settings, says in (
        ({"parallelism": 0}, "settings.parallelism: a whole number from 1 to 256"),
        ({"parallelism": "4"}, "settings.parallelism: a whole number from 1 to 256"),
        ({"checkpoint_mode": "maybe"}, "settings.checkpoint_mode: one of exactly_once"),
        ({"restart": {"type": "x"}}, "settings.type: one of none, fixed-delay"),
        ({"wat": 1}, "settings.wat: unknown setting"),
        ({"state_bucket": "UPPER"}, "settings.state_bucket: a bucket name"),
    ):
        body = expect(
            api.post(JOBS, headers=h, json={"name": "j", "settings": settings}),
            400,
            "InvalidParameter.JobSettings",
        )
        assert body["message"].startswith(says), body
    new_job(api, owner, "j")
    expect(
        api.patch(job_url("j"), headers=h, json={"settings": refused}),
        400,
        "InvalidParameter.JobSettings",
    )
    good = {"flink_config": {"table.exec.mini-batch.enabled": "true"}, "state_ttl_seconds": 60}
    saved = ok(api.patch(job_url("j"), headers=h, json={"settings": good}))
    assert saved["settings"]["flink_config"] == {"table.exec.mini-batch.enabled": "true"}
    assert saved["revision"] == 2


def test_per_job_engine_version(
    api: TestClient,
    owner: Owner,
    engine: StubSqlEngine,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    """The guide's per-job version switch: each job checks and goes online on its own."""
    h = owner.headers
    installed(api, owner, reconciler, "flink-1.20.5")
    new_job(api, owner, "on_current")
    new_job(api, owner, "on_old", engine_version="flink-1.20.5")
    new_job(api, owner, "on_missing", engine_version="flink-2.0.2")
    checked = ok(api.post(job_url("on_old", ":validate"), headers=h))
    assert (checked["ok"], checked["engine_version"], checked["flink_version"]) == (
        True,
        "flink-1.20.5",
        "1.20.5",
    )
    assert ok(api.get(job_url("on_old"), headers=h))["state"] == "checked"
    assert ok(api.post(job_url("on_current", ":validate"), headers=h))["engine_version"] == (
        "flink-2.2.1"
    )
    explained = ok(api.post(job_url("on_current", ":explain"), headers=h))
    assert explained["ok"] is True and "plan" in explained
    body = expect(api.post(job_url("on_missing", ":validate"), headers=h), 409, "30006")
    assert "engine version:[flink-2.0.2]" in body["message"]
    expect(api.post(job_url("on_missing", ":publish"), headers=h), 409, "30006")
    assert [c[:2] for c in engine.calls] == [
        ("validate", "flink-1.20.5"),
        ("validate", "flink-2.2.1"),
        ("explain", "flink-2.2.1"),
    ]
    published = ok(api.post(job_url("on_old", ":publish"), headers=h))
    assert published["engine_version"] == "flink-1.20.5"
    # a draft saved after a check is a draft again
    ok(api.patch(job_url("on_current"), headers=h, json={"sql": "SELECT 9"}))
    assert ok(api.get(job_url("on_current"), headers=h))["state"] == "draft"
    # switch the job's version: a revision of its own
    switched = ok(
        api.patch(job_url("on_current"), headers=h, json={"engine_version": "flink-1.20.5"})
    )
    assert (switched["engine_version"], switched["revision"]) == ("flink-1.20.5", 3)
    expect(
        api.patch(job_url("on_current"), headers=h, json={"engine_version": "2.2.1"}),
        400,
        "InvalidParameter.EngineVersion",
    )


# ---------------------------------------------------------------- the lifecycle


def test_publish_start_stop_suspend_resume_offline(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    h = owner.headers
    made = online(api, owner, "etl")
    assert {k: made[k] for k in ("job", "revision", "engine_version", "target", "cu")} == {
        "job": "etl",
        "revision": 1,
        "engine_version": "flink-2.2.1",
        "target": "cluster cluster1",
        "cu": 1.25,
    }
    assert (made["state"], made["desired"], made["run"], made["flink_job_id"]) == (
        "online",
        "stopped",
        0,
        "",
    )
    job = ok(api.get(job_url("etl"), headers=h))
    assert (job["state"], job["online_revision"]) == ("online", 1)
    # editing the draft does not touch what is online
    ok(api.patch(job_url("etl"), headers=h, json={"sql": SQL + "\n-- v2"}))
    job = ok(api.get(job_url("etl"), headers=h))
    assert (job["revision"], job["online_revision"], job["state"]) == (2, 1, "online")
    assert deployment(api, owner, "etl")["revision"] == 1
    # the actions allowed from "online" (never started)
    for verb, says in (
        ("stop", "job etl is online: it can be stopped only when restarting, running, starting"),
        ("suspend", "job etl is online: it can be suspended only when running"),
        ("resume", "job etl is online: it can be resumed only when suspended"),
    ):
        body = expect(action(api, h, "etl", verb), 409, "JobStateConflict")
        assert body["message"] == says
    expect(api.delete(job_url("etl"), headers=h), 409, "JobIsOnline")
    # start: the desired state is written, the reconciler does the rest
    started = ok(action(api, h, "etl", "start"))
    assert (started["state"], started["desired"], started["start_mode"]) == (
        "starting",
        "running",
        "stateless",
    )
    body = expect(action(api, h, "etl", "start"), 409, "JobStateConflict")
    assert body["message"] == (
        "job etl is starting: it can be started only when failed, finished, online, stopped"
    )
    expect(action(api, h, "etl", "offline"), 409, "JobStateConflict")
    expect(action(api, h, "etl", "suspend"), 409, "JobStateConflict")
    body = expect(api.post(job_url("etl", ":publish"), headers=h), 409, "JobIsRunning")
    assert body["message"] == "job etl is starting: stop it before it goes online with revision 2"
    observed(platform, "etl", "running")
    assert deployment(api, owner, "etl")["state"] == "running"
    # stop (cancel), then start again
    stopping = ok(action(api, h, "etl", "stop", mode="cancel"))
    assert (stopping["state"], stopping["desired"], stopping["stop_mode"]) == (
        "stopping",
        "stopped",
        "cancel",
    )
    expect(action(api, h, "etl", "stop"), 409, "JobStateConflict")
    observed(platform, "etl", "stopped")
    # a stopped job may go online with a newer revision
    republished = ok(api.post(job_url("etl", ":publish"), headers=h))
    assert (republished["revision"], republished["state"]) == (2, "stopped")
    ok(action(api, h, "etl", "start"))
    observed(platform, "etl", "running")
    # suspend keeps a savepoint to resume from
    suspending = ok(action(api, h, "etl", "suspend"))
    assert (suspending["desired"], suspending["stop_mode"]) == ("suspended", "savepoint")
    observed(platform, "etl", "suspended")
    expect(action(api, h, "etl", "start"), 409, "JobStateConflict")
    body = expect(action(api, h, "etl", "resume"), 409, "NoSavepoint")
    assert "has no savepoint to start from" in body["message"]
    job_records.record_savepoint(
        platform, job_id(platform, "etl"), 0, kind="savepoint", reason="suspend", location="sp"
    )
    resumed = ok(action(api, h, "etl", "resume"))
    assert (resumed["state"], resumed["start_mode"]) == ("starting", "latest_savepoint")
    observed(platform, "etl", "running", "failed")
    # a failed job can go offline; it then no longer has a deployment
    failed = deployment(api, owner, "etl")
    assert (failed["state"], failed["desired"]) == ("failed", "stopped")
    ok(action(api, h, "etl", "offline"), 204)
    expect(api.get(job_url("etl", "/deployment"), headers=h), 404, "JobNotOnline")
    assert ok(api.get(job_url("etl"), headers=h))["state"] == "offline"
    body = expect(action(api, h, "etl", "start"), 409, "JobNotOnline")
    assert body["message"] == "job etl is not online: take it online first"
    expect(action(api, h, "etl", "offline"), 409, "JobNotOnline")
    # savepoints stay; events tell the story, newest first
    saved = ok(api.get(job_url("etl", "/savepoints"), headers=h))
    assert [(s["kind"], s["reason"], s["location"]) for s in saved] == [
        ("savepoint", "suspend", "sp")
    ]
    events = ok(api.get(job_url("etl", "/events"), headers=h))
    assert events[0]["message"].startswith("offline by ")
    assert {e["kind"] for e in events} == {"state"}
    assert any(e["message"].startswith("revision 1 went online on flink-2.2.1") for e in events)
    # an offline job is a draft again when edited, and can be deleted
    ok(api.patch(job_url("etl"), headers=h, json={"sql": "SELECT 1"}))
    assert ok(api.get(job_url("etl"), headers=h))["state"] == "draft"
    ok(api.delete(job_url("etl"), headers=h), 204)


def test_start_modes_and_their_refusals(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    h = owner.headers
    online(api, owner, "etl")
    for body, status, code in (
        ({"mode": "yesterday"}, 400, "InvalidParameter.StartMode"),
        ({"mode": "latest_checkpoint"}, 409, "NoCheckpoint"),
        ({"mode": "latest_savepoint"}, 409, "NoSavepoint"),
        ({"mode": "savepoint"}, 400, "InvalidParameter.SavepointId"),
        ({"mode": "savepoint", "savepoint_id": 999}, 404, "SavepointNotFound"),
    ):
        expect(action(api, h, "etl", "start", **body), status, code)
    assert deployment(api, owner, "etl")["state"] == "online"
    ident = job_id(platform, "etl")
    job_records.record_savepoint(platform, ident, 1, kind="checkpoint", reason="c", location="cp")
    job_records.record_savepoint(platform, ident, 1, kind="savepoint", reason="stop", location="sp")
    listed = ok(api.get(job_url("etl", "/savepoints"), headers=h))
    assert [s["kind"] for s in listed] == ["savepoint", "checkpoint"]
    chosen = {"mode": "savepoint", "savepoint_id": listed[1]["id"]}
    started = ok(action(api, h, "etl", "start", allow_non_restored_state=True, **chosen))
    assert started["start_mode"] == "savepoint"
    with db.transaction(platform.sessions) as session:
        row = job_store.read_deployment(session=session, job_id=ident)
        assert row is not None
        assert (row.savepoint_id, row.allow_non_restored) == (listed[1]["id"], True)
    expect(action(api, h, "etl", "stop", mode="now"), 400, "InvalidParameter.StopMode")


def test_publish_refused_when_the_check_fails(
    api: TestClient, owner: Owner, engine: StubSqlEngine
) -> None:
    h = owner.headers
    new_job(api, owner, "empty", sql="")
    response = api.post(job_url("empty", ":publish"), headers=h)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "JobCheckFailed"
    assert body["problems"] == [{"line": 1, "column": 1, "message": "the job has no SQL yet"}]
    assert body["message"] == (
        "job empty revision 1 does not pass its check: line 1, column 1: the job has no SQL yet"
    )
    # a location outside the account's buckets: refused before Flink is asked
    sneaky = (
        "CREATE TABLE t (a INT) WITH (\n  'connector' = 'filesystem',\n  'path' = '/etc');\n"
        "INSERT INTO t SELECT 1"
    )
    new_job(api, owner, "sneaky", sql=sneaky)
    checked = ok(api.post(job_url("sneaky", ":validate"), headers=h))
    assert checked["ok"] is False and engine.calls == []
    assert checked["problems"] == [
        {
            "line": 3,
            "column": 12,
            "message": "path '/etc': the path lies outside the account's buckets; a job "
            "reaches storage only through oss://<bucket>/<key>",
        }
    ]
    assert ok(api.get(job_url("sneaky"), headers=h))["state"] == "draft"
    body = api.post(job_url("sneaky", ":publish"), headers=h).json()
    assert (body["code"], body["problems"]) == ("JobCheckFailed", checked["problems"])
    # Flink's own refusal
    engine.problems = (sqlscript.Problem(2, 5, "Object 'nope' not found"),)
    new_job(api, owner, "typo")
    body = api.post(job_url("typo", ":publish"), headers=h).json()
    assert body["code"] == "JobCheckFailed"
    assert body["message"].endswith("line 2, column 5: Object 'nope' not found")
    expect(api.get(job_url("typo", "/deployment"), headers=h), 404, "JobNotOnline")


def test_a_job_that_writes_nowhere_is_refused_at_check_publish_and_start(
    api: TestClient, platform: platform_module.Platform, owner: Owner, engine: StubSqlEngine
) -> None:
    """A streaming job must write somewhere: a bare SELECT (or DDL alone) is refused by the
    job's check, so by going online too, before Flink is asked; the project's syntax check,
    which checks any SQL for the editor, still takes a SELECT."""
    h = owner.headers
    zh = {**h, "Accept-Language": "zh-CN"}
    select_only = (
        "CREATE TABLE src (a INT) WITH ('connector' = 'datagen');\n"
        "-- what comes out?\n"
        "SELECT a FROM src;\n"
    )
    says = (
        "a job needs an INSERT INTO a sink table: a SELECT alone has nowhere to write its rows "
        "(write INSERT INTO <sink> SELECT ...)"
    )
    new_job(api, owner, "peek", sql=select_only)
    checked = ok(api.post(job_url("peek", ":validate"), headers=h))
    assert checked["ok"] is False and engine.calls == []
    assert checked["problems"] == [{"line": 3, "column": 1, "message": says}]
    assert ok(api.get(job_url("peek"), headers=h))["state"] == "draft"
    response = api.post(job_url("peek", ":publish"), headers=h)
    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["code"], body["problems"]) == ("JobCheckFailed", checked["problems"])
    assert body["message"] == (
        f"job peek revision 1 does not pass its check: line 3, column 1: {says}"
    )
    body = api.post(job_url("peek", ":publish"), headers=zh).json()
    assert body["message"] == (
        "作业 peek 的修订 1 未通过检查，第 3 行第 1 列：作业需要用 INSERT INTO 写入结果表："
        "单独的 SELECT 查询结果无处写出（请写成 INSERT INTO <结果表> SELECT ...）"
    )
    expect(api.get(job_url("peek", "/deployment"), headers=h), 404, "JobNotOnline")
    # DDL alone writes nothing either
    new_job(api, owner, "tables_only", sql=SQL.rsplit(";", 1)[0])
    checked = ok(api.post(job_url("tables_only", ":validate"), headers=h))
    assert checked["ok"] is False and engine.calls == []
    assert [(p["line"], p["column"]) for p in checked["problems"]] == [(1, 1)]
    assert "the script has no INSERT" in checked["problems"][0]["message"]
    body = api.post(job_url("tables_only", ":publish"), headers=zh).json()
    assert body["code"] == "JobCheckFailed" and "脚本中没有 INSERT 语句" in body["message"]
    # the editor's syntax check of the project's SQL takes a lone SELECT
    adhoc = ok(
        api.post(f"{API}/projects/{PROJECT}/sql:validate", headers=h, json={"sql": "SELECT 1"})
    )
    assert adhoc["ok"] is True and engine.calls == [("validate", "flink-2.2.1", "SELECT 1")]
    # a deployment that went online with a SELECT alone (before the rule) stops at start,
    # before any process starts
    online(api, owner, "legacy")
    with db.transaction(platform.sessions) as session:
        row = job_store.read_deployment(session=session, job_id=job_id(platform, "legacy"))
        assert row is not None
        row.sql = select_only
    response = api.post(job_url("legacy", ":start"), headers=h)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "JobCheckFailed"
    assert response.json()["message"] == f"job legacy cannot start: line 3, column 1: {says}"
    assert deployment(api, owner, "legacy")["state"] == "online"


def pool_project(
    api: TestClient,
    operator_headers: dict[str, str],
    owner: Owner,
    reconciler: engine_reconciler.EngineReconciler,
    name: str,
) -> None:
    """A shared-mode project with flink-2.2.1 installed on the shared pool."""
    if not ok(api.get(POOL, headers=owner.headers)):
        ok(api.post(POOL, headers=operator_headers, json={"version": "flink-2.2.1"}), 201)
        settle(reconciler)
    shared_project(api, owner, name)


def test_a_shared_project_names_its_state_bucket(
    api: TestClient,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    engine: StubSqlEngine,
) -> None:
    owner = setup.owner
    pool_project(api, setup.operator, owner, reconciler, "pooled")
    jobs = f"{API}/projects/pooled/jobs"
    ok(api.post(jobs, headers=owner.headers, json={"name": "p", "sql": SQL}), 201)
    body = expect(
        api.post(f"{jobs}/p:publish", headers=owner.headers), 400, "JobStateBucketRequired"
    )
    assert "settings.state_bucket" in body["message"]
    missing = {"settings": {"state_bucket": "nope-bucket"}}
    ok(api.patch(f"{jobs}/p", headers=owner.headers, json=missing))
    expect(api.post(f"{jobs}/p:publish", headers=owner.headers), 404, "NoSuchBucket")
    ok(
        api.patch(
            f"{jobs}/p", headers=owner.headers, json={"settings": {"state_bucket": "acme-udfs"}}
        )
    )
    published = ok(api.post(f"{jobs}/p:publish", headers=owner.headers))
    assert (published["target"], published["cu"]) == ("the shared pool", 1.25)


# ---------------------------------------------------------------- quota


def test_a_start_must_fit_the_projects_free_cu(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    h = owner.headers
    online(api, owner, "first")
    online(api, owner, "second")
    online(api, owner, "big", settings={"parallelism": 2})
    body = expect(action(api, h, "big", "start"), 409, "JobQuotaExceeded")
    assert body["message"] == (
        "job big needs 2.25 CU (parallelism 2 + 0.25 for its JobManager); project alpha has "
        "2 CU free of 2 (0 held by other jobs): lower the parallelism, stop another job, or "
        "add CU to the project"
    )
    ok(action(api, h, "first", "start"))
    body = expect(action(api, h, "second", "start"), 409, "JobQuotaExceeded")
    assert body["message"] == (
        "job second needs 1.25 CU (parallelism 1 + 0.25 for its JobManager); project alpha "
        "has 0.75 CU free of 2 (1.25 held by other jobs): lower the parallelism, stop another "
        "job, or add CU to the project"
    )
    assert deployment(api, owner, "second")["state"] == "online"
    # a suspended job keeps its CU (so that its resume is never refused for quota)
    observed(platform, "first", "running")
    ok(action(api, h, "first", "suspend"))
    observed(platform, "first", "suspended")
    expect(action(api, h, "second", "start"), 409, "JobQuotaExceeded")
    job_records.record_savepoint(
        platform, job_id(platform, "first"), 1, kind="savepoint", reason="suspend", location="x"
    )
    ok(action(api, h, "first", "resume"))
    observed(platform, "first", "running")
    # a stopped job gives it back
    ok(action(api, h, "first", "stop"))
    expect(action(api, h, "second", "start"), 409, "JobQuotaExceeded")  # stopping holds it
    observed(platform, "first", "stopped")
    ok(action(api, h, "second", "start"))
    # a failed job gives it back too, and restarting it is checked again
    observed(platform, "second", "failed")
    ok(action(api, h, "first", "start"))
    expect(action(api, h, "second", "start"), 409, "JobQuotaExceeded")


# ---------------------------------------------------------------- RAM


def started_pool_job(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
) -> job_runs.Work:
    """Job `clicks` of shared project `pooled`, started, its first run written."""
    pool_project(api, setup.operator, setup.owner, reconciler, "pooled")
    jobs = f"{API}/projects/pooled/jobs"
    body = {"name": "clicks", "sql": SQL, "settings": {"state_bucket": "acme-udfs"}}
    ok(api.post(jobs, headers=setup.owner.headers, json=body), 201)
    ok(api.post(f"{jobs}/clicks:publish", headers=setup.owner.headers))
    ok(api.post(f"{jobs}/clicks:start", headers=setup.owner.headers))
    return job_runs.begin_run(platform, job_id(platform, "clicks", "pooled"))


def test_a_read_only_user_watches_but_cannot_act(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    engine: StubSqlEngine,
) -> None:
    owner = setup.owner
    jobs = f"{API}/projects/pooled/jobs"
    # the reconciler's first step writes the run; its processes write logs there
    work = started_pool_job(api, platform, setup, reconciler)
    log_dir = Path(work.directory) / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "jobmanager-0.out").write_text("+I[1]\n")
    (log_dir / "flink-jobmanager-0-host.log").write_text("INFO started\n")
    job_records.record_metrics(
        platform,
        work.job_id,
        work.run,
        job_records.Sample(10.0, 9.5, 0.1, 20, 30, 4096),
    )
    watcher = ram_user(api, owner, "watcher", system=["StreamReadOnlyAccess"])
    job = ok(api.get(f"{jobs}/clicks", headers=watcher))
    assert job["state"] == "starting"
    assert [j["name"] for j in ok(api.get(jobs, headers=watcher))] == ["clicks"]
    assert ok(api.get(f"{jobs}/clicks/deployment", headers=watcher))["run"] == 1
    assert ok(api.get(f"{jobs}/clicks/events", headers=watcher))[0]["message"].startswith("run 1")
    samples = ok(api.get(f"{jobs}/clicks/metrics", headers=watcher))
    assert [(s["records_in_per_second"], s["watermark_lag_ms"]) for s in samples] == [(10.0, 20)]
    logs = ok(api.get(f"{jobs}/clicks/logs", headers=watcher))
    assert [(f["name"], f["process"], f["kind"]) for f in logs] == [
        ("flink-jobmanager-0-host.log", "jobmanager-0", "log"),
        ("jobmanager-0.out", "jobmanager-0", "out"),
    ]
    printed = api.get(f"{jobs}/clicks/logs/jobmanager-0.out", headers=watcher)
    assert (printed.status_code, printed.text) == (200, "+I[1]\n")
    expect(api.get(f"{jobs}/clicks/logs/..%2Fserver.log", headers=watcher), 404)
    expect(api.get(f"{jobs}/clicks/logs/other.log", headers=watcher), 404, "NoSuchLog")
    assert ok(api.get(f"{jobs}/clicks/revisions", headers=watcher))[0]["number"] == 1
    assert ok(api.get(f"{API}/projects/pooled/folders", headers=watcher)) == {"folders": ["/"]}
    resource = f"acs:stream:{platform.settings.region}:{owner.account_id}:pooled/job/clicks"
    for response, denied in (
        (api.post(f"{jobs}/clicks:stop", headers=watcher), "stream:StopJob"),
        (api.post(f"{jobs}/clicks:suspend", headers=watcher), "stream:StopJob"),
        (api.post(f"{jobs}/clicks:start", headers=watcher), "stream:StartJob"),
        (api.post(f"{jobs}/clicks:offline", headers=watcher), "stream:OfflineJob"),
        (api.post(f"{jobs}/clicks:publish", headers=watcher), "stream:PublishJob"),
        (api.patch(f"{jobs}/clicks", headers=watcher, json={"sql": "x"}), "stream:UpdateJob"),
        (api.delete(f"{jobs}/clicks", headers=watcher), "stream:DeleteJob"),
        (api.put(f"{jobs}/clicks/alerts", headers=watcher, json={"rules": []}), "stream:UpdateJob"),
    ):
        message = expect(response, 403, "Forbidden.RAM")["message"]
        assert denied in message and resource in message, message
    assert deployment_state(api, owner, "pooled", "clicks") == ("starting", "running")
    # a user who may start jobs also needs ram:PassRole on the service role
    create_policy(api, owner, "Jobs", allow("stream:*", "acs:stream:*:*:pooled/*"))
    operator_user = ram_user(api, owner, "operator1", custom=["Jobs"])
    ok(api.post(f"{jobs}/clicks:stop", headers=operator_user, json={"mode": "cancel"}))
    job_records.move(platform, work.job_id, job_rules.STOPPED)
    denied = api.post(f"{jobs}/clicks:start", headers=operator_user)
    assert denied.status_code == 403 and "PassRole" in denied.text, denied.text
    assert deployment_state(api, owner, "pooled", "clicks") == ("stopped", "stopped")


def test_a_run_keeps_its_config_and_a_deleted_job_takes_its_directories(
    api: TestClient,
    platform: platform_module.Platform,
    setup: Setup,  # noqa: F811
    reconciler: engine_reconciler.EngineReconciler,
    engine: StubSqlEngine,
) -> None:
    owner = setup.owner
    jobs = f"{API}/projects/pooled/jobs"
    work = started_pool_job(api, platform, setup, reconciler)
    directory = Path(work.directory)
    # the run's key has a random part: a reused id never meets a deleted job's leftovers
    assert re.fullmatch(rf"job-{work.job_id}-run-1-[0-9a-f]{{8}}", directory.name)
    assert work.run_key == directory.name
    assert work.config["pipeline.name"] == "pooled.clicks"
    assert work.savepoint_dir.endswith("/savepoints")
    # the operator's JVM options per process kind, and fresh job details for the watch
    jobs_settings = platform.settings.jobs
    assert work.config["env.java.opts.jobmanager"] == jobs_settings.jobmanager_java_opts
    assert work.config["env.java.opts.taskmanager"] == jobs_settings.taskmanager_java_opts
    assert "-XX:+UseParallelGC" in work.config["env.java.opts.taskmanager"]
    assert work.config["web.refresh-interval"] == "500"
    # written once with the run, read back as written on every pass
    with db.transaction(platform.sessions) as session:
        run = job_store.read_run(session=session, job_id=work.job_id, number=1)
        assert run is not None
        assert run.config == work.config
        run.config = {**work.config, "pipeline.name": "as stored"}
    (again,) = [w for w in job_runs.pending(platform) if w.job_id == work.job_id]
    assert again.config["pipeline.name"] == "as stored"
    assert again.savepoint_dir == work.savepoint_dir
    (directory / "log").mkdir(parents=True)
    (directory / "log" / "jobmanager-0.out").write_text("+I[1]\n")
    # stopped, offline, deleted: the run's directory goes with the job
    job_records.move(platform, work.job_id, "running")
    ok(api.post(f"{jobs}/clicks:stop", headers=owner.headers, json={"mode": "cancel"}))
    job_records.move(platform, work.job_id, "stopped")
    ok(api.post(f"{jobs}/clicks:offline", headers=owner.headers), 204)
    assert directory.is_dir()
    ok(api.delete(f"{jobs}/clicks", headers=owner.headers), 204)
    assert not directory.exists()
    assert directory.parent.is_dir()


def deployment_state(api: TestClient, owner: Owner, project: str, job: str) -> tuple[str, str]:
    found = ok(api.get(f"{API}/projects/{project}/jobs/{job}/deployment", headers=owner.headers))
    return found["state"], found["desired"]


# ---------------------------------------------------------------- engine versions


def test_an_online_job_pins_its_engine_version(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    reconciler: engine_reconciler.EngineReconciler,
) -> None:
    h = owner.headers
    installed(api, owner, reconciler, "flink-1.20.5")
    new_job(api, owner, "draft_job", engine_version="flink-1.20.5")  # a draft does not pin
    online(api, owner, "orders_etl", engine_version="flink-1.20.5")
    body = expect(api.delete(f"{versions_of()}/flink-1.20.5", headers=h), 409, "VersionInUse")
    assert body["message"] == "Node:orders_etl in project:alpha still ref the version:flink-1.20.5"
    ok(action(api, h, "orders_etl", "start"))
    observed(platform, "orders_etl", "running")
    ok(action(api, h, "orders_etl", "stop"))
    observed(platform, "orders_etl", "stopped")
    expect(api.delete(f"{versions_of()}/flink-1.20.5", headers=h), 409, "VersionInUse")
    ok(action(api, h, "orders_etl", "offline"), 204)
    ok(api.delete(f"{versions_of()}/flink-1.20.5", headers=h))
    assert listing(api, owner) == [("flink-2.2.1", "installed", True)]


# ---------------------------------------------------------------- alerts


def test_alert_rules(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    new_job(api, owner, "etl")
    url = job_url("etl", "/alerts")
    assert ok(api.get(url, headers=h)) == {"rules": []}
    wanted = {
        "rules": [
            {"kind": "failed"},
            {"kind": "restarts", "threshold": 3, "window_seconds": 600},
        ]
    }
    saved = ok(api.put(url, headers=h, json=wanted))
    assert saved["rules"][1] == {"kind": "restarts", "threshold": 3, "window_seconds": 600}
    assert ok(api.get(url, headers=h))["rules"] == saved["rules"]
    for rules_body, code in (
        ([{"kind": "sometimes"}], "InvalidParameter.AlertKind"),
        ([{"kind": "failed"}, {"kind": "failed"}], "InvalidParameter.AlertKind"),
        ([{"kind": "restarts", "threshold": -1}], "InvalidParameter.Threshold"),
        ([{"kind": "restarts", "window_seconds": 59}], "InvalidParameter.Window"),
        ([{"kind": "restarts", "window_seconds": 604801}], "InvalidParameter.Window"),
    ):
        expect(api.put(url, headers=h, json={"rules": rules_body}), 400, code)
    expect(api.put(url, headers=h, json={"rules": [{"kind": "failed"}] * 4}), 422)
    assert ok(api.put(url, headers=h, json={"rules": []})) == {"rules": []}


# ---------------------------------------------------------------- junk never gives a 500

JUNK = [
    "%00",
    "a%0Ab",
    quote("\u4e2d\u6587", safe=""),
    quote("\U0001f600", safe=""),
    "x" * 5000,
    quote("'; DROP TABLE jobs; --", safe=""),
    "%ff%fe",
    quote("a:b", safe=""),
    str(2**70),
    "-1",
]


def test_junk_never_gives_a_500(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    h = owner.headers
    online(api, owner, "etl")
    allowed = (400, 404, 405, 409, 422)
    for junk in JUNK:
        for method, url in (
            ("GET", job_url(junk)),
            ("PATCH", job_url(junk)),
            ("DELETE", job_url(junk)),
            ("POST", job_url(junk, ":start")),
            ("POST", job_url(junk, ":publish")),
            ("POST", job_url(junk, ":validate")),
            ("GET", job_url(junk, "/revisions")),
            ("GET", job_url("etl", f"/revisions/{junk}")),
            ("POST", job_url("etl", f"/revisions/{junk}:restore")),
            ("GET", job_url("etl", f"/logs/{junk}")),
            ("GET", f"{API}/projects/{junk}/jobs"),
            ("GET", f"{API}/projects/{junk}/folders"),
            ("GET", f"{JOBS}?folder={junk}"),
            ("GET", job_url("etl", f"/diff?from={junk}&to=1")),
            ("GET", job_url("etl", f"/diff?from=1&to={junk}")),
            ("GET", job_url("etl", f"/metrics?limit={junk}")),
        ):
            response = api.request(method, url, headers=h, json={})
            assert response.status_code in allowed, (method, url[:120], response.text[:300])
    bodies: list[tuple[str, str, Any]] = []
    for value in (None, 5, [], {}, "x" * 700, "\x00", "\u4e2d", True, -1, 2**70, 1.5):
        bodies += [
            ("POST", JOBS, {"name": value}),
            ("POST", JOBS, {"name": "ok", "folder": value}),
            ("POST", JOBS, {"name": "ok", "sql": value}),
            ("POST", JOBS, {"name": "ok", "settings": value}),
            ("POST", JOBS, {"name": "ok", "settings": {"parallelism": value}}),
            ("POST", JOBS, {"name": "ok", "settings": {"restart": value}}),
            ("POST", JOBS, {"name": "ok", "settings": {"flink_config": value}}),
            ("POST", JOBS, {"name": "ok", "settings": {"flink_config": {"table.exec.x": value}}}),
            ("POST", JOBS, {"name": "ok", "engine_version": value}),
            ("PATCH", job_url("etl"), {"base_revision": value}),
            ("PATCH", job_url("etl"), {"message": value}),
            ("PATCH", job_url("etl"), {"settings": {"state_bucket": value}}),
            ("POST", job_url("etl", ":move"), {"folder": value}),
            ("POST", job_url("etl", ":move"), {"name": value}),
            ("POST", job_url("etl", ":start"), {"mode": value}),
            ("POST", job_url("etl", ":start"), {"mode": "savepoint", "savepoint_id": value}),
            ("POST", job_url("etl", ":stop"), {"mode": value}),
            ("POST", FOLDERS, {"path": value}),
            ("POST", f"{FOLDERS}:move", {"path": "/a", "to": value}),
            (
                "PUT",
                job_url("etl", "/alerts"),
                {"rules": [{"kind": "restarts", "threshold": value}]},
            ),
            ("PUT", job_url("etl", "/alerts"), {"rules": value}),
        ]
    for method, url, body in bodies:
        response = api.request(method, url, headers=h, json=body)
        assert response.status_code < 500, (method, url, body, response.text[:300])
        if method == "POST" and url == JOBS and response.status_code == 201:
            ok(api.delete(job_url("ok"), headers=h), 204)
    as_json = h | {"Content-Type": "application/json"}
    for raw in (b"{not json", b'{"name": "\\ud800"}', b"[]", b'"x"', b"\xff\xfe"):
        response = api.post(JOBS, headers=as_json, content=raw)
        assert response.status_code in (400, 422), (raw, response.text[:300])
    # nothing changed
    assert [j["name"] for j in ok(api.get(JOBS, headers=h))] == ["etl"]
    assert deployment(api, owner, "etl")["state"] == "online"


def test_the_job_list_reads_the_same_few_rows_however_many_jobs(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    """One query for the jobs and one for their deployments, not one per job; the list
    shows each job's online state as its own page does."""

    def statements_of_a_list() -> tuple[int, list[dict[str, Any]]]:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(str(args[2]))

        event.listen(platform.engine, "before_cursor_execute", count)
        try:
            listed = ok(api.get(JOBS, headers=owner.headers))
        finally:
            event.remove(platform.engine, "before_cursor_execute", count)
        return len(seen), listed

    online(api, owner, "first")
    few, _ = statements_of_a_list()
    for number in range(8):
        online(api, owner, f"job-{number}") if number % 2 else new_job(api, owner, f"job-{number}")
    many, listed = statements_of_a_list()
    assert many == few, (few, many)
    assert len(listed) == 9
    for shown in listed:
        own = ok(api.get(job_url(shown["name"]), headers=owner.headers))
        assert (shown["state"], shown["online_revision"]) == (own["state"], own["online_revision"])
    assert {j["name"]: j["state"] for j in listed}["job-1"] == "online"


def test_state_locations_are_shown_as_their_oss_addresses(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    """A savepoint, an event or a state message names oss://bucket/key, never the directory
    the platform keeps the bucket in; a location outside the account's buckets is left."""
    h = owner.headers
    online(api, owner, "etl")
    ident = job_id(platform, "etl")
    with db.transaction(platform.sessions) as session:
        bucket = session.scalars(
            select(capacity_tables.Bucket).where(capacity_tables.Bucket.name == "acme-udfs")
        ).one()
        root = platform.settings.data_dir / "buckets" / str(bucket.id)
    key = f"rtcompute/jobs/{PROJECT}/{ident}/savepoints/savepoint-1a2b"
    job_records.record_savepoint(
        platform, ident, 1, kind="savepoint", reason="stop", location=f"file:{root}/{key}"
    )
    job_records.add_event(platform, ident, "state", f"savepoint file://{root}/{key} taken")
    job_records.add_event(platform, ident, "state", "restored from file:/elsewhere/x")
    listed = ok(api.get(job_url("etl", "/savepoints"), headers=h))
    assert listed[0]["location"] == f"oss://acme-udfs/{key}"
    messages = [e["message"] for e in ok(api.get(job_url("etl", "/events"), headers=h))]
    assert f"savepoint oss://acme-udfs/{key} taken" in messages
    assert "restored from file:/elsewhere/x" in messages
    assert not any(str(platform.settings.data_dir) in m for m in messages)


def test_the_job_list_shows_what_the_deployment_runs_and_holds(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    h = owner.headers
    online(api, owner, "etl")
    (summary,) = ok(api.get(f"{API}/projects/{PROJECT}/jobs", headers=h))
    assert (summary["deployed_version"], summary["held_cu"]) == ("flink-2.2.1", None)
    with db.transaction(platform.sessions) as session:
        row = job_store.read_deployment(session=session, job_id=job_id(platform, "etl"))
        assert row is not None
        row.state, row.cu_milli = job_rules.RUNNING, 1250
    (summary,) = ok(api.get(f"{API}/projects/{PROJECT}/jobs", headers=h))
    assert (summary["deployed_version"], summary["held_cu"]) == ("flink-2.2.1", 1.25)
