"""The jobs console over the real app and database (both): folders, drafts and revisions,
the check's problems with their line, going online, the lifecycle buttons each state allows,
the services' refusals on the page, a read-only RAM user, and bad form input.

No reconciler runs here: the test plays the job reconciler's part by writing what it would
(the deployment's observed state, Flink's state, a run with its log files, savepoints,
events, metric readings). The SQL check runs on `platform.sql_engine`, here a stub that
answers with Flink's shape of result (a failing CheckResult with a line and column while the
script has the typo); the real engine workers are tested by test_engine_workers.py and the
browser walkthrough (tests/e2e/test_console_jobs_browser.py).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.domain import jobs as job_rules
from rtcompute.domain import sqlscript
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import jobs as job_store
from tests.conftest import PASSWORD
from tests.integration import test_console_engines as engine_pages
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import ZH, post
from tests.integration.test_ram_support import (
    API,
    Owner,
    allow,
    create_policy,
    ok,
)

# the engine pages' fixtures: acme signed in (its CSRF token), a running cluster stream1
settings_overrides = engine_pages.settings_overrides
owner = engine_pages.owner
token = engine_pages.token
cluster = engine_pages.cluster
V2, install, installed = engine_pages.V2, engine_pages.install, engine_pages.installed
PROJECT = "inside"
JOBS = f"/console/projects/{PROJECT}/jobs"
BROKEN = (
    "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\n"
    "CREATE TABLE out_rows (id BIGINT) WITH ('connector' = 'print');\n"
    "INSERT INTO out_rows\n"
    "SELECT id FORM src;\n"
)
FIXED = BROKEN.replace("FORM", "FROM")
SETTINGS = {
    "parallelism": "1",
    "checkpoint_interval_seconds": "30",
    "checkpoint_mode": "exactly_once",
    "state_ttl_seconds": "0",
    "state_bucket": "",
    "restart_type": "fixed-delay",
    "restart_attempts": "3",
    "restart_delay_seconds": "5",
    "restart_max_failures": "3",
    "restart_interval_seconds": "300",
    "restart_initial_seconds": "1",
    "restart_max_seconds": "60",
    "flink_config": "",
}


class TypoEngine:
    """Stands in for the warm engine workers: Flink's answer to a script with `FORM`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _result(self, version: str, sql: str, plan: str) -> sqlscript.CheckResult:
        release = version.removeprefix("flink-")
        if "FORM" in sql:
            problem = sqlscript.Problem(4, 11, 'Encountered "FORM" at line 2, column 11.')
            return sqlscript.CheckResult(False, (problem,), "", 9.0, release)
        return sqlscript.CheckResult(True, (), plan, 9.0, release)

    def validate(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("validate", sql))
        return self._result(version, sql, "")

    def explain(
        self, version: str, sql: str, jars: Sequence[str] = (), account: str = ""
    ) -> sqlscript.CheckResult:
        self.calls.append(("explain", sql))
        return self._result(version, sql, "== Optimized Physical Plan ==\nCalc(select=[id])")


def text(response: Any) -> str:
    return html.unescape(response.text)


def refused(response: Any, status: int, code: str, message: str = "") -> str:
    assert response.status_code == status, response.text[:800]
    page = text(response)
    assert f'data-refused="{code}"' in page, page[:3000]
    assert message in page, page[:3000]
    return page


@pytest.fixture
def engine(
    api: TestClient, owner: Owner, token: str, cluster: str, platform: platform_module.Platform
) -> TypoEngine:
    """Project `inside` (2 CU) on the running cluster, flink-2.2.1 installed there."""
    body = {"name": PROJECT, "cluster": cluster, "cu": 2}
    ok(api.post(f"{API}/projects", headers=owner.headers, json=body), 201)
    assert install(api, token, V2).status_code == 303
    installed(platform, V2)
    stub = TypoEngine()
    platform.sql_engine = stub
    return stub


def editor_form(token: str, sql: str, base: int | None = None, **changes: str) -> dict[str, Any]:
    form: dict[str, Any] = {"csrf_token": token, "sql": sql, "engine_version": "", **SETTINGS}
    if base is not None:
        form["base_revision"] = str(base)
    form.update(changes)
    return form


def send(api: TestClient, path: str, form: dict[str, Any], **kw: Any) -> Any:
    return api.post(path, data=form, follow_redirects=False, **kw)


def folder_post(api: TestClient, url: str, token: str, **data: str) -> Any:
    return api.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def new_job(api: TestClient, token: str, name: str, folder: str = "/") -> str:
    made = post(api, JOBS, token, name=name, folder=folder)
    assert made.status_code == 303, made.text[:800]
    assert made.headers["location"] == f"{JOBS}/{name}?done=created"
    return f"{JOBS}/{name}"


def deployment_of(platform: platform_module.Platform, job: str) -> job_store.Deployment:
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(job_store.Job).where(job_store.Job.name == job)).one()
        found = job_store.read_deployment(session=session, job_id=row.id)
        assert found is not None
        session.expunge(found)
        return found


def reconciled(platform: platform_module.Platform, job: str, state: str, **more: Any) -> None:
    """The job reconciler's part: the deployment reached `state` (and what else it saw)."""
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(job_store.Job).where(job_store.Job.name == job)).one()
        found = job_store.read_deployment(session=session, job_id=row.id)
        assert found is not None
        found.state, found.state_since = state, platform.now()
        for key, value in more.items():
            setattr(found, key, value)


def ran(platform: platform_module.Platform, job: str, directory: Path) -> None:
    """Run 1 with its log directory, a failover, a checkpoint and metric readings."""
    (directory / "log").mkdir(parents=True)
    (directory / "log" / "flink-jobmanager-0-host.log").write_text("INFO started\n")
    (directory / "log" / "taskmanager-0.out").write_text("+I[1, 42]\n")
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(job_store.Job).where(job_store.Job.name == job)).one()
        session.add(
            job_store.Run(
                job_id=row.id,
                number=1,
                engine_version=V2,
                port_base=41000,
                placement=(),
                directory=str(directory),
                step="running",
                flink_job_id="a" * 32,
                started_at=now,
            )
        )
        deployment = job_store.read_deployment(session=session, job_id=row.id)
        assert deployment is not None
        deployment.run = 1
        job_store.add_event(
            session=session,
            job_id=row.id,
            at=now,
            kind="failover",
            message="java.lang.RuntimeException: boom (root exception)",
        )
        session.add(
            job_store.Savepoint(
                job_id=row.id,
                run=1,
                kind="checkpoint",
                reason="checkpoint",
                location="file:///buckets/udf-bucket/chk-7",
                created_at=now,
            )
        )
        for second in range(5):
            session.add(
                job_store.MetricSample(
                    job_id=row.id,
                    run=1,
                    at=now + timedelta(seconds=second),
                    records_in_per_second=100.0 + second,
                    records_out_per_second=10.0,
                    backpressure=0.0,
                    watermark_lag_ms=200,
                    checkpoint_duration_ms=35,
                    checkpoint_size_bytes=4096,
                )
            )


def test_folders_drafts_revisions_and_the_check(
    api: TestClient, token: str, engine: TypoEngine, platform: platform_module.Platform
) -> None:
    assert api.get(f"/console/projects/{PROJECT}").status_code == 200
    empty = text(api.get(JOBS))
    assert "No jobs here yet." in empty and 'data-folder="/"' in empty

    # folders: create, a duplicate and a bad path refused on the page
    made = folder_post(api, f"{JOBS}/folders", token, path="/etl")
    assert made.headers["location"] == f"{JOBS}?folder=/etl&done=created"
    assert 'data-folder="/etl"' in text(api.get(made.headers["location"]))
    refused(folder_post(api, f"{JOBS}/folders", token, path="/etl"), 409, "FolderAlreadyExists")
    refused(folder_post(api, f"{JOBS}/folders", token, path="etl"), 400, "InvalidParameter.Folder")
    refused(folder_post(api, f"{JOBS}/folders", token, path="/a/b"), 404, "FolderNotFound")

    job = new_job(api, token, "etl_job", "/etl")
    refused(post(api, JOBS, token, name="etl_job"), 409, "JobAlreadyExists")
    refused(post(api, JOBS, token, name="9bad"), 400, "InvalidParameter.JobName")
    listing = text(api.get(f"{JOBS}?folder=/etl"))
    assert '<tr data-job="etl_job">' in listing and 'data-job-state="draft"' in listing

    editor = text(api.get(job))
    assert 'id="sql-text"' in editor and 'data-gutter-line="1"' in editor
    assert 'data-gutter-line="2"' not in editor  # no line numbers past the (empty) text's one
    assert f'<option value="{V2}">{V2} (current)</option>' in editor
    assert 'data-revision="1"' in editor

    # save: a new revision; a stale base revision is the conflict message, the text kept
    saved = send(api, f"{job}/save", editor_form(token, BROKEN, 1, message="first draft"))
    assert saved.headers["location"] == f"{job}?done=saved"
    assert 'data-revision="2"' in text(api.get(job))
    stale = send(api, f"{job}/save", editor_form(token, "SELECT 2;", 1))
    page = refused(stale, 409, "RevisionConflict", "reload it, then save again")
    assert "SELECT 2;" in page
    zh = send(api, f"{job}/save", editor_form(token, "SELECT 2;", 1), headers=ZH)
    zh_page = refused(
        zh,
        409,
        "RevisionConflict",
        "作业 etl_job 在你的修订 1 之后已被保存为修订 2，请重新加载后再保存",
    )
    assert "save again" not in zh_page  # the Chinese sentence alone, no English beside it

    # bad settings are refused with the field named, never a 500
    for changes, words in (
        ({"parallelism": "abc"}, "parallelism: a whole number"),
        ({"parallelism": "0"}, "parallelism: a whole number from 1 to 256"),
        ({"checkpoint_mode": "sometimes"}, "checkpoint_mode: one of"),
        ({"flink_config": "no equals sign"}, "line 1 reads key=value"),
        ({"flink_config": "jobmanager.rpc.port=1"}, "jobmanager.rpc.port"),
        ({"state_bucket": "Bad_Bucket"}, "state_bucket"),
    ):
        bad = send(api, f"{job}/save", editor_form(token, BROKEN, 2, **changes))
        refused(bad, 400, "InvalidParameter.JobSettings", words)
    zero = editor_form(token, BROKEN, 2, parallelism="0")
    zh_bad = refused(
        send(api, f"{job}/save", zero, headers=ZH),
        400,
        "InvalidParameter.JobSettings",
        "作业设置 parallelism 有误：须为 1 到 256 之间的整数",
    )
    assert "a whole number" not in zh_bad
    good = editor_form(token, BROKEN, 2, flink_config="pipeline.name=etl\n# a comment\n")
    assert send(api, f"{job}/save", good).status_code == 303
    assert "pipeline.name=etl" in text(api.get(job))

    # check: Flink's problem with its line and column; the gutter marks the line
    checked = send(
        api, f"{job}/check", editor_form(token, BROKEN, 3, flink_config="pipeline.name=etl")
    )
    assert checked.status_code == 200, checked.text[:800]
    page = text(checked)
    assert 'data-ok="false"' in page and f'data-engine-version="{V2}"' in page
    assert '<li data-line="4" data-column="11">' in page and "<code>4:11</code>" in page
    assert 'Encountered "FORM" at line 2, column 11.' in page
    assert '<span data-gutter-line="4" class="bad">' in page
    assert 'data-revision="3"' in page  # nothing changed: no new revision
    # going online with the broken revision: the check's problems, on the editor
    failed = post(api, f"{job}/publish", token)
    page = refused(failed, 409, "JobCheckFailed", "line 4, column 11")
    assert '<li data-line="4" data-column="11">' in page

    # fix it: Check saves the form (a new revision) and passes
    fixed = send(
        api, f"{job}/check", editor_form(token, FIXED, 3, flink_config="pipeline.name=etl")
    )
    page = text(fixed)
    assert 'data-ok="true"' in page and 'data-revision="4"' in page
    assert 'data-checked-revision="4"' in page
    explained = send(
        api, f"{job}/explain", editor_form(token, FIXED, 4, flink_config="pipeline.name=etl")
    )
    assert "Calc(select=[id])" in text(explained)
    assert engine.calls[-1] == ("explain", FIXED)

    # revisions: the diff of two, restore one
    revisions = text(api.get(f"{job}/revisions"))
    for number in (1, 2, 3, 4):
        assert f'<tr data-revision="{number}">' in revisions
    diff = text(api.get(f"{job}/revisions?from=3&to=4"))
    assert '<section class="panel" id="diff" data-from="3" data-to="4">' in diff
    assert "-SELECT id FORM src;" in diff and "+SELECT id FROM src;" in diff
    refused(api.get(f"{job}/revisions?from=1&to=99"), 404, "RevisionNotFound")
    assert api.get(f"{job}/revisions?from=x&to=1").status_code == 422
    restored = post(api, f"{job}/revisions/3/restore", token)
    assert restored.headers["location"] == f"{job}?done=saved"
    back = text(api.get(job))
    assert 'data-revision="5"' in back and "SELECT id FORM src;" in back
    assert "restored revision 3" in text(api.get(f"{job}/revisions"))

    # folders move with their jobs; a folder with jobs is not deleted
    refused(folder_post(api, f"{JOBS}/folders/delete", token, path="/etl"), 409, "FolderNotEmpty")
    moved = folder_post(api, f"{JOBS}/folders/move", token, path="/etl", to="/pipelines")
    assert moved.headers["location"] == f"{JOBS}?folder=/pipelines&done=saved"
    assert '<tr data-job="etl_job">' in text(api.get(moved.headers["location"]))
    # rename the job, move it to /, delete the empty folder, delete the job
    renamed = post(api, f"{job}/move", token, name="etl2", folder="/")
    assert renamed.headers["location"] == f"{JOBS}/etl2?done=saved"
    gone = folder_post(api, f"{JOBS}/folders/delete", token, path="/pipelines")
    assert gone.headers["location"] == f"{JOBS}?done=deleted"
    assert post(api, f"{JOBS}/etl2/delete", token).headers["location"] == f"{JOBS}?done=deleted"
    assert api.get(f"{JOBS}/etl2").status_code == 404

    # every page in Chinese
    again = new_job(api, token, "zh_job")
    for path, chinese in (
        (JOBS, "新建作业"),
        (again, "语法检查"),
        (f"{again}/revisions", "比较"),
        (f"{again}/online", "作业未上线"),
    ):
        zh_page = api.get(path, headers=ZH)
        assert zh_page.status_code == 200, path
        assert chinese in text(zh_page), path


def test_a_select_alone_is_refused_by_the_check_and_going_online(
    api: TestClient, token: str, engine: TypoEngine
) -> None:
    """A job must write somewhere: the check names the SELECT's line before Flink is asked,
    and going online says so in the page's language."""
    job = new_job(api, token, "peek")
    select_only = (
        "CREATE TABLE src (id BIGINT) WITH ('connector' = 'datagen');\nSELECT id FROM src;\n"
    )
    page = text(send(api, f"{job}/check", editor_form(token, select_only, 1)))
    assert 'data-ok="false"' in page and engine.calls == []
    assert '<li data-line="2" data-column="1">' in page and "<code>2:1</code>" in page
    assert "a SELECT alone has nowhere to write its rows" in page
    assert '<span data-gutter-line="2" class="bad">' in page
    refused(post(api, f"{job}/publish", token), 409, "JobCheckFailed", "line 2, column 1")
    publish = send(api, f"{job}/publish", {"csrf_token": token}, headers=ZH)
    zh = refused(publish, 409, "JobCheckFailed")
    assert "第 2 行第 1 列：作业需要用 INSERT INTO 写入结果表" in zh


def test_going_online_and_the_lifecycle_buttons(
    api: TestClient,
    token: str,
    engine: TypoEngine,
    platform: platform_module.Platform,
    tmp_path: Path,
) -> None:
    del engine
    job = new_job(api, token, "live")
    assert send(api, f"{job}/save", editor_form(token, FIXED, 1)).status_code == 303
    assert '<button type="submit" id="publish">' in text(api.get(job))  # a draft may go online
    online = post(api, f"{job}/publish", token)
    assert online.headers["location"] == f"{job}/online?done=created"
    page = text(api.get(online.headers["location"]))
    assert 'data-state="online"' in page and 'id="start-form"' in page
    assert 'id="offline"' in page and 'id="stop"' not in page and 'id="suspend"' not in page
    assert 'id="charts"' in page  # the charts' panel, with the metrics endpoint
    assert f'data-metrics-url="{job}/metrics.json"' in page

    # start from a savepoint that does not exist yet: the service's refusal
    refused(
        post(api, f"{job}/start", token, mode="latest_savepoint"),
        409,
        "NoSavepoint",
        "has no savepoint to start from",
    )
    refused(post(api, f"{job}/start", token, mode="whenever"), 400, "InvalidParameter.StartMode")
    started = post(api, f"{job}/start", token, mode="stateless")
    assert started.headers["location"] == f"{job}/online?done=saved"
    page = text(api.get(f"{job}/online"))
    assert 'data-state="starting"' in page and 'id="stop"' in page
    assert 'id="start-form"' not in page and 'id="offline"' not in page
    assert f'hx-get="{job}/online/live"' in page  # the live part follows the start
    assert deployment_of(platform, "live").desired == job_rules.WANT_RUNNING

    # the reconciler: running, then Flink restarting after a failover
    ran(platform, "live", tmp_path / "run-1")
    reconciled(platform, "live", job_rules.RUNNING, flink_state="RESTARTING", restarts=1)
    page = text(api.get(f"{job}/online"))
    assert 'data-state="running"' in page and 'data-flink-state="RESTARTING"' in page
    assert "Flink: RESTARTING" in page and 'id="suspend"' in page and 'id="stop"' in page
    assert "java.lang.RuntimeException: boom (root exception)" in page
    assert 'data-savepoint="' in page and "chk-7" in page
    assert '<tr data-log="flink-jobmanager-0-host.log">' in page
    assert '<tr data-log="taskmanager-0.out">' in page
    metrics = api.get(f"{job}/metrics.json").json()
    assert metrics["state"] == "running" and metrics["flink_state"] == "RESTARTING"
    assert [s["records_in_per_second"] for s in metrics["samples"]] == [100, 101, 102, 103, 104]
    assert metrics["samples"][0]["checkpoint_size_bytes"] == 4096
    log = text(api.get(f"{job}/logs/taskmanager-0.out"))
    assert "+I[1, 42]" in log and f"{job}/logs/taskmanager-0.out?download=true" in log
    download = api.get(f"{job}/logs/taskmanager-0.out?download=true")
    assert download.status_code == 200 and download.text == "+I[1, 42]\n"
    assert "attachment" in download.headers["content-disposition"]
    assert api.get(f"{job}/logs/..%2Fsecret").status_code == 404
    assert api.get(f"{job}/logs/nothere.log").status_code == 404

    # the jobs list: the CU the running deployment holds and the version it runs
    row = text(api.get(JOBS)).split('<tr data-job="live">')[1].split("</tr>")[0]
    held = deployment_of(platform, "live").cu_milli / 1000
    assert f"<td data-cu>{held}</td>" in row
    version = deployment_of(platform, "live").engine_version
    assert f'<td class="nowrap" data-engine-version>{version}</td>' in row
    # refusals while running: another revision online, offline, delete; the editor's
    # Go online is disabled with the reason, as the service would refuse it
    editor = text(api.get(job))
    assert '<button type="submit" id="publish" disabled aria-describedby="publish-why">' in editor
    assert "Stop the job before it goes online with another revision." in editor
    assert "请先停止作业，再以其他修订上线。" in text(api.get(job, headers=ZH))
    refused(post(api, f"{job}/publish", token), 409, "JobIsRunning", "stop it before")
    refused(post(api, f"{job}/offline", token), 409, "JobStateConflict", "taken offline only when")
    refused(post(api, f"{job}/delete", token), 409, "JobIsOnline", "take it offline")
    # the CU quota: parallelism 2 + the JobManager's 0.25 does not fit the 2 CU left... at all
    big = new_job(api, token, "big")
    form = editor_form(token, FIXED, 1, parallelism="2")
    assert send(api, f"{big}/save", form).status_code == 303
    assert post(api, f"{big}/publish", token).status_code == 303
    refused(post(api, f"{big}/start", token), 409, "JobQuotaExceeded", "CU free")

    # alert rules
    alerts = post(
        api,
        f"{job}/alerts",
        token,
        failed_on="on",
        restarts_on="on",
        restarts_threshold="2",
        restarts_window_seconds="300",
    )
    assert alerts.status_code == 303
    page = text(api.get(f"{job}/online"))
    assert 'name="restarts_threshold" type="number" min="0" value="2"' in page
    bad = post(api, f"{job}/alerts", token, restarts_on="on", restarts_window_seconds="10")
    refused(bad, 400, "InvalidParameter.Window")
    bad = post(api, f"{job}/alerts", token, restarts_on="on", restarts_threshold="many")
    refused(bad, 400, "InvalidParameter.Threshold")

    # stop with a savepoint; the reconciler took it; start from that savepoint
    assert post(api, f"{job}/stop", token, mode="savepoint").status_code == 303
    assert deployment_of(platform, "live").desired == job_rules.WANT_STOPPED
    assert 'data-state="stopping"' in text(api.get(f"{job}/online"))
    refused(post(api, f"{job}/stop", token), 409, "JobStateConflict")
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(job_store.Job).where(job_store.Job.name == "live")).one()
        session.add(
            job_store.Savepoint(
                job_id=row.id,
                run=1,
                kind="savepoint",
                reason="stop",
                location="file:///buckets/udf-bucket/savepoint-1",
                created_at=platform.now(),
            )
        )
    reconciled(platform, "live", job_rules.STOPPED, flink_state="FINISHED")
    page = text(api.get(f"{job}/online"))
    assert 'data-state="stopped"' in page and 'id="start-form"' in page
    assert 'id="offline"' in page and 'id="stop"' not in page
    assert "savepoint-1" in page
    chosen = deployment_of(platform, "live")
    with db.transaction(platform.sessions) as session:
        row = session.scalars(select(job_store.Job).where(job_store.Job.name == "live")).one()
        savepoint = next(
            s
            for s in job_store.list_savepoints(session=session, job_id=row.id)
            if s.kind == "savepoint"
        )
        savepoint_id = savepoint.id
    assert chosen.state == job_rules.STOPPED
    refused(
        post(api, f"{job}/start", token, mode="savepoint", savepoint_id="abc"),
        400,
        "InvalidParameter.SavepointId",
    )
    restart = post(
        api,
        f"{job}/start",
        token,
        mode="savepoint",
        savepoint_id=str(savepoint_id),
        allow_non_restored_state="true",
    )
    assert restart.status_code == 303, restart.text[:800]
    after = deployment_of(platform, "live")
    assert (after.savepoint_id, after.allow_non_restored) == (savepoint_id, True)

    # suspend and resume, then offline
    reconciled(platform, "live", job_rules.RUNNING, flink_state="RUNNING")
    assert post(api, f"{job}/suspend", token).status_code == 303
    reconciled(platform, "live", job_rules.SUSPENDED, flink_state="FINISHED")
    page = text(api.get(f"{job}/online"))
    assert 'id="resume"' in page and 'id="start-form"' not in page
    assert post(api, f"{job}/resume", token).status_code == 303
    reconciled(platform, "live", job_rules.STOPPED)
    assert post(api, f"{job}/offline", token).status_code == 303
    page = text(api.get(f"{job}/online"))
    assert 'id="not-online"' in page
    assert 'data-job-state="offline"' in text(api.get(JOBS))


def test_a_read_only_ram_user_sees_the_pages_but_cannot_act(
    api: TestClient, owner: Owner, token: str, engine: TypoEngine
) -> None:
    del engine
    job = new_job(api, token, "watched")
    assert send(api, f"{job}/save", editor_form(token, FIXED, 1)).status_code == 303
    assert post(api, f"{job}/publish", token).status_code == 303
    create_policy(
        api,
        owner,
        "JobsReadOnly",
        allow(["stream:List*", "stream:Describe*", "stream:QueryJob*"]),
    )
    user = {"name": "viewer", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    ok(api.put(f"{API}/ram/users/viewer/policies/Custom/JobsReadOnly", headers=owner.headers), 204)
    viewer = signin_via_form(api, "acme", user="viewer")
    for path in (JOBS, job, f"{job}/revisions", f"{job}/online", f"{job}/metrics.json"):
        assert api.get(path).status_code == 200, path
    for path, data, action in (
        (f"{job}/start", {"mode": "stateless"}, "stream:StartJob"),
        (f"{job}/stop", {}, "stream:StopJob"),
        (f"{job}/offline", {}, "stream:OfflineJob"),
        (f"{job}/save", {"sql": "SELECT 1;"}, "stream:UpdateJob"),
        (f"{job}/check", {}, "stream:CheckJob"),
        (f"{job}/publish", {}, "stream:PublishJob"),
        (f"{JOBS}/folders", {"path": "/x"}, "stream:CreateFolder"),
        (JOBS, {"name": "sneaky"}, "stream:CreateJob"),
    ):
        response = folder_post(api, path, viewer, **data)
        assert response.status_code == 403, (path, response.text[:300])
        assert "Forbidden.RAM" in response.text and action in response.text
    assert deployment_of_state(api, owner, "watched") == "online"


def deployment_of_state(api: TestClient, owner: Owner, job: str) -> str:
    found = ok(api.get(f"{API}/projects/{PROJECT}/jobs/{job}", headers=owner.headers))
    return str(found["state"])


def test_bad_form_input_is_refused_never_a_500(
    api: TestClient, token: str, engine: TypoEngine
) -> None:
    del engine
    job = new_job(api, token, "fuzzed")
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"{job}/save", editor_form(token, "SELECT 1;\x00", 1)),
        (f"{job}/save", editor_form(token, "x" * 300_000, 1)),
        (f"{job}/save", editor_form(token, "SELECT 1;", 1, restart_attempts="9" * 5000)),
        (f"{job}/save", editor_form(token, "SELECT 1;", 1, flink_config="a=\x01")),
        (f"{job}/save", editor_form(token, "SELECT 1;", 1, engine_version="flink-x")),
        (f"{job}/save", {"csrf_token": token}),
        (f"{job}/check", editor_form(token, "SELECT 1;", -5)),
        (f"{job}/start", {"csrf_token": token, "mode": "savepoint", "savepoint_id": "\x00"}),
        (
            f"{job}/alerts",
            {
                "csrf_token": token,
                "failed_on": "on",
                "restarts_on": "on",
                "restarts_threshold": "1" * 5000,
            },
        ),
        (f"{JOBS}/folders", {"csrf_token": token, "path": "/" + "a" * 700}),
        (f"{JOBS}/folders/move", {"csrf_token": token, "path": "/", "to": "/x"}),
        (JOBS, {"csrf_token": token, "name": "a\x00b"}),
        (f"{JOBS}/nothere/save", editor_form(token, "SELECT 1;", 1)),
        (f"{JOBS}/nothere/start", {"csrf_token": token}),
        (f"{job}/revisions/0/restore", {"csrf_token": token}),
    ]
    for path, form in cases:
        response = send(api, path, form)
        assert response.status_code < 500, (path, response.status_code, response.text[:400])
        assert response.status_code != 200 or "data-refused" in response.text, path
    for path in (
        f"{job}?x=%00",
        f"{JOBS}?folder=%00",
        f"{job}/logs/a%00b",
        f"{JOBS}/nothere/online",
    ):
        assert api.get(path).status_code < 500, path
    # nothing above changed the job
    assert 'data-revision="1"' in text(api.get(job))
