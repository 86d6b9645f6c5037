"""The jobs CLI without a server: reading SQL and settings from the command line, what a user
reads (job rows, metrics, deployment lines, `NAME.sql:LINE:COLUMN` problems), start modes and
alert rules, and `--wait` following a deployment through a fake client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rtcompute.cli import commands, job_runs, job_watch, jobs
from rtcompute.client import jobs as client_jobs
from rtcompute.client import schemas
from rtcompute.client.base import ApiError
from rtcompute.main import build_app
from tests.unit.cli_fakes import AT, answer

JOB = {
    "name": "etl",
    "folder": "/",
    "description": "",
    "engine_version": "flink-2.2.1",
    "sql": "",
    "settings": {},
    "revision": 1,
    "checked_revision": 0,
    "state": "draft",
    "online_revision": None,
    "cu": 1.0,
    "created_by": "alice",
    "created_at": AT,
    "updated_by": "alice",
    "updated_at": AT,
}


def job(**change: Any) -> schemas.jobs.Job:
    """A job as the API answers it."""
    return answer(schemas.jobs.Job, JOB, change)


def test_sql_comes_from_a_file_or_the_option_not_both(tmp_path: Path) -> None:
    script = tmp_path / "etl.sql"
    script.write_text("SELECT 1;\n")
    assert jobs.read_sql(str(script), None) == "SELECT 1;\n"
    assert jobs.read_sql(None, "SELECT 2") == "SELECT 2"
    assert jobs.read_sql(None, None) is None
    with pytest.raises(typer.BadParameter, match="not both"):
        jobs.read_sql(str(script), "SELECT 2")
    with pytest.raises(typer.BadParameter, match="cannot read"):
        jobs.read_sql(str(tmp_path / "absent.sql"), None)


def test_set_pairs_and_settings_files(tmp_path: Path) -> None:
    assert jobs.parse_sets(["pipeline.name=a=b", " table.exec.x = 1"]) == {
        "pipeline.name": "a=b",
        "table.exec.x": " 1",
    }
    for wrong in ("novalue", "=1"):
        with pytest.raises(typer.BadParameter, match="key=value"):
            jobs.parse_sets([wrong])
    good = tmp_path / "s.json"
    good.write_text(json.dumps({"parallelism": 4}))
    assert jobs.load_settings(good) == {"parallelism": 4}
    assert jobs.load_settings(None) == {}
    listed = tmp_path / "l.json"
    listed.write_text("[1]")
    with pytest.raises(typer.BadParameter, match="JSON object"):
        jobs.load_settings(listed)
    broken = tmp_path / "b.json"
    broken.write_text("{")
    with pytest.raises(typer.BadParameter, match="not JSON"):
        jobs.load_settings(broken)


def test_settings_change_puts_options_over_the_file_and_joins_flink_config() -> None:
    assert (
        jobs.settings_change(base={}, parallelism=None, checkpoint_interval=None, sets={}) is None
    )
    change = jobs.settings_change(
        base={"parallelism": 1, "checkpoint_mode": "at_least_once"},
        parallelism=4,
        checkpoint_interval=30,
        sets={"pipeline.name": "b"},
        current_config={"pipeline.name": "a", "table.exec.x": "1"},
    )
    assert change == {
        "parallelism": 4,
        "checkpoint_mode": "at_least_once",
        "checkpoint_interval_seconds": 30,
        "flink_config": {"pipeline.name": "b", "table.exec.x": "1"},
    }
    # a flink_config in the file replaces the job's current one; --set joins the file's
    from_file = jobs.settings_change(
        base={"flink_config": {"table.exec.y": "2"}},
        parallelism=None,
        checkpoint_interval=None,
        sets={"pipeline.name": "b"},
        current_config={"table.exec.x": "1"},
    )
    assert from_file == {"flink_config": {"table.exec.y": "2", "pipeline.name": "b"}}


def test_a_job_row_leaves_the_sql_out_and_spreads_the_settings() -> None:
    settings = {"parallelism": 2, "flink_config": {"pipeline.name": "x", "table.exec.y": "1"}}
    found = job(sql="a\nb\n", revision=2, settings=settings)
    as_answered = {k: v for k, v in JOB.items() if k not in ("sql", "settings")}
    assert jobs.job_row(found) == as_answered | {
        "revision": 2,
        "sql_lines": 2,
        "settings.parallelism": 2,
        "settings.flink_config": "pipeline.name=x, table.exec.y=1",
    }


def test_problems_print_like_a_compiler_and_exit_4() -> None:
    problems = [
        schemas.engines.Problem(line=7, column=35, message='Encountered "AND"'),
        schemas.engines.Problem(line=9, column=1, message="path file:///etc/passwd is outside"),
    ]
    assert jobs.problem_lines(jobs.label_of("etl"), problems) == [
        'etl.sql:7:35: Encountered "AND"',
        "etl.sql:9:1: path file:///etc/passwd is outside",
    ]
    assert jobs.report_problems("etl.sql", problems, "flink-2.2.1").exit_code == 4


def test_start_modes_in_the_apis_spelling() -> None:
    assert job_runs.start_mode(None, None) == "stateless"
    assert job_runs.start_mode(None, 7) == "savepoint"
    assert job_runs.start_mode(job_runs.StartMode.latest_checkpoint, None) == "latest_checkpoint"
    assert job_runs.start_mode(job_runs.StartMode.latest_savepoint, None) == "latest_savepoint"
    assert job_runs.start_mode(job_runs.StartMode.savepoint, 3) == "savepoint"
    with pytest.raises(typer.BadParameter, match="needs --savepoint"):
        job_runs.start_mode(job_runs.StartMode.savepoint, None)
    with pytest.raises(typer.BadParameter, match="not stateless"):
        job_runs.start_mode(job_runs.StartMode.stateless, 3)


def test_alert_options_become_rules_with_one_window() -> None:
    assert (
        job_watch.alert_rules(failed=False, restarts=None, window=600, checkpoint_failures=None)
        == []
    )
    assert job_watch.alert_rules(failed=True, restarts=3, window=300, checkpoint_failures=0) == [
        {"kind": "failed", "threshold": 0, "window_seconds": 300},
        {"kind": "restarts", "threshold": 3, "window_seconds": 300},
        {"kind": "checkpoint_failures", "threshold": 0, "window_seconds": 300},
    ]


METRIC_SAMPLE = {
    "at": "2025-01-01T00:00:05Z",
    "run": 2,
    "records_in_per_second": 12345.67,
    "records_out_per_second": 0.0,
    "backpressure": 0.25,
    "watermark_lag_ms": 12_500,
    "checkpoint_duration_ms": 340,
    "checkpoint_size_bytes": 3 * 1024 * 1024,
}


NO_READINGS = {  # the first sample of a run: Flink had reported nothing yet
    "records_in_per_second": None,
    "records_out_per_second": None,
    "backpressure": None,
    "watermark_lag_ms": None,
    "checkpoint_duration_ms": None,
    "checkpoint_size_bytes": None,
}


def sample(**change: Any) -> schemas.jobs.MetricSample:
    return answer(schemas.jobs.MetricSample, METRIC_SAMPLE, change)


def test_metric_readings_as_a_person_reads_them() -> None:
    assert job_watch.metric_row(sample()) == {
        "at": "2025-01-01T00:00:05Z",
        "run": "2",
        "in/s": "12,345.7",
        "out/s": "0.0",
        "backpressure": "25%",
        "watermark lag": "12.5 s",
        "checkpoint": "340 ms",
        "checkpoint size": "3.0 MB",
    }
    empty = job_watch.metric_row(sample(**NO_READINGS))
    assert empty == {
        "at": "2025-01-01T00:00:05Z",
        "run": "2",
        "in/s": "-",
        "out/s": "-",
        "backpressure": "-",
        "watermark lag": "-",
        "checkpoint": "-",
        "checkpoint size": "-",
    }
    assert job_watch.size_text(900) == "900 B"
    assert job_watch.size_text(5 * 1024**4) == "5120.0 GB"


DEPLOYMENT = {
    "job": "etl",
    "revision": 1,
    "engine_version": "flink-2.2.1",
    "target": "pool",
    "cu": 1.0,
    "parallelism": 1,
    "desired": "running",
    "flink_state": "",
    "flink_job_id": "",
    "flink_duration_ms": 0,
    "run": 0,
    "restarts": 0,
    "start_mode": "stateless",
    "stop_mode": "",
    "message": "",
    "published_by": "alice",
    "published_at": AT,
    "state_since": AT,
}


def deployment(state: str, **change: Any) -> schemas.jobs.Deployment:
    """The online job as the API answers it."""
    return answer(schemas.jobs.Deployment, DEPLOYMENT, {"state": state, **change})


def test_state_lines() -> None:
    assert job_runs.state_line(deployment("online")) == "etl: online"
    assert (
        job_runs.state_line(deployment("starting", flink_state="CREATED", run=3, message="m"))
        == "etl: starting (Flink CREATED), run 3: m"
    )


class FakeApi:
    """Deployments in the order the reconciler would show them."""

    def __init__(self, states: list[schemas.jobs.Deployment]) -> None:
        self.states = states

    def get_deployment(self, project: str, job: str) -> schemas.jobs.Deployment:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]


def test_wait_follows_the_deployment_until_it_settles(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(job_runs.time, "sleep", lambda _: None)
    states = [deployment("starting"), deployment("starting", flink_state="CREATED", run=1)]
    api: Any = FakeApi([*states, deployment("running", flink_state="RUNNING", run=1)])
    found = job_runs.follow(api, "p", "etl", job_runs.RUNNING, 60)
    assert found.state == "running"
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "etl: starting",
        "etl: starting (Flink CREATED), run 1",
        "etl: running (Flink RUNNING), run 1",
    ]


class Restart(FakeApi):
    """A job that ran (run 1, cancelled) started again: the new run comes after some polls."""

    def __enter__(self) -> Restart:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def start_job(self, project: str, job: str, **options: Any) -> schemas.jobs.Deployment:
        return deployment("starting", flink_state="CANCELED", run=1)

    resume_job = start_job


@pytest.mark.parametrize("command", ["start", "resume"])
def test_wait_after_a_start_shows_only_the_new_run(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_runs.time, "sleep", lambda _: None)
    api = Restart(
        [
            deployment("starting", flink_state="CANCELED", run=1),
            deployment("starting", flink_state="CANCELED", run=1, message="placing"),
            deployment("starting", flink_state="CREATED", run=2),
            deployment("running", flink_state="RUNNING", run=2),
        ]
    )
    monkeypatch.setattr(commands, "connect", lambda profile, timeout=30.0: api)
    result = CliRunner().invoke(build_app(), ["jobs", command, "etl", "-P", "p1", "--wait"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "etl: starting",
        "etl: starting: placing",
        "etl: starting (Flink CREATED), run 2",
        "etl: running (Flink RUNNING), run 2",
    ]


def test_wait_after_a_stop_shows_the_run_it_stops(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(job_runs.time, "sleep", lambda _: None)
    stopping = deployment("stopping", flink_state="RUNNING", run=3)
    api: Any = FakeApi([stopping, deployment("stopped", flink_state="FINISHED", run=3)])
    job_runs.follow(api, "p", "etl", ("stopped",), 60)
    assert capsys.readouterr().err.splitlines() == [
        "etl: stopping (Flink RUNNING), run 3",
        "etl: stopped (Flink FINISHED), run 3",
    ]


def test_wait_exits_1_with_the_reason_when_the_job_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(job_runs.time, "sleep", lambda _: None)
    failed = deployment("failed", message="java.lang.OutOfMemoryError")
    api: Any = FakeApi([deployment("starting"), failed])
    with pytest.raises(typer.Exit) as stopped:
        job_runs.follow(api, "p", "etl", job_runs.RUNNING, 60)
    assert stopped.value.exit_code == 1
    err = capsys.readouterr().err
    assert "job etl is failed, not running or finished: java.lang.OutOfMemoryError" in err


def test_wait_gives_up_at_the_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(job_runs.time, "sleep", lambda _: None)
    api: Any = FakeApi([deployment("stopping")])
    with pytest.raises(typer.Exit) as stopped:
        job_runs.follow(api, "p", "etl", ("stopped",), 0)
    assert stopped.value.exit_code == 1
    assert "gave up after 0 s waiting for etl: etl: stopping" in capsys.readouterr().err


class Recorder:
    """A stand-in for `client.Client`: records calls, answers from `answers`."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            answer = self.answers[method]
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def invoke(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], *args: str
) -> tuple[Any, Recorder]:
    api = Recorder(answers)
    monkeypatch.setattr(commands, "connect", lambda profile, timeout=30.0: api)
    result = CliRunner().invoke(build_app(), list(args))
    return result, api


def test_start_sends_the_mode_in_the_apis_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = deployment("starting", revision=1)
    result, api = invoke(
        monkeypatch,
        {"start_job": answer},
        *("jobs", "start", "etl", "-P", "p1", "--mode", "latest-savepoint"),
        "--allow-non-restored-state",
    )
    assert result.exit_code == 0, result.output
    assert api.calls == [
        (
            "start_job",
            ("p1", "etl"),
            {
                "mode": "latest_savepoint",
                "savepoint_id": None,
                "allow_non_restored_state": True,
            },
        )
    ]
    stopped, api = invoke(
        monkeypatch, {"stop_job": deployment("stopping")}, "jobs", "stop", "etl", "-P", "p1"
    )
    assert stopped.exit_code == 0 and api.calls[0][2] == {"mode": "savepoint"}
    cancelled, api = invoke(
        monkeypatch,
        {"stop_job": deployment("stopping")},
        *("jobs", "stop", "etl", "--cancel", "--project", "p1"),
    )
    assert cancelled.exit_code == 0 and api.calls[0][2] == {"mode": "cancel"}


def test_the_project_comes_from_rtc_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTC_PROJECT", "from_env")
    result, api = invoke(monkeypatch, {"list_jobs": []}, "jobs", "list")
    assert result.exit_code == 0, result.output
    assert api.calls == [("list_jobs", ("from_env",), {"folder": None})]


def test_publish_prints_the_check_problems_and_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = [{"line": 3, "column": 9, "message": "path file:///etc is outside"}]
    refused = ApiError(409, "JobCheckFailed", "job etl ...", "r1", {"problems": problems})
    result, _ = invoke(monkeypatch, {"publish_job": refused}, "jobs", "publish", "etl", "-P", "p1")
    assert result.exit_code == 4, result.output
    assert result.stdout == "etl.sql:3:9: path file:///etc is outside\n"
    assert "JobCheckFailed" in result.stderr
    other = ApiError(409, "JobIsRunning", "job etl is running", "r2", {})
    result, _ = invoke(monkeypatch, {"publish_job": other}, "jobs", "publish", "etl", "-P", "p1")
    assert result.exit_code == 1 and "JobIsRunning" in result.stderr


def test_edit_builds_on_the_revision_it_read(monkeypatch: pytest.MonkeyPatch) -> None:
    current = job(revision=4, settings={"flink_config": {"table.exec.x": "1"}}, sql="")
    saved = current.model_copy(update={"revision": 5, "name": "etl"})
    result, api = invoke(
        monkeypatch,
        {"get_job": current, "update_job": saved},
        *("jobs", "edit", "etl", "-P", "p1", "--set", "pipeline.name=n", "-m", "why"),
    )
    assert result.exit_code == 0, result.output
    assert "saved as revision 5" in result.stderr
    method, args, kwargs = api.calls[1]
    assert (method, args) == ("update_job", ("p1", "etl"))
    assert kwargs["base_revision"] == 4 and kwargs["message"] == "why"
    assert kwargs["settings"] == {"flink_config": {"table.exec.x": "1", "pipeline.name": "n"}}
    assert kwargs["sql"] is None and kwargs["engine_version"] is None


def test_logs_download_needs_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result, api = invoke(
        monkeypatch,
        {},
        *("jobs", "logs", "etl", "-P", "p1", "--download", str(tmp_path / "x.log")),
    )
    assert result.exit_code == 2 and api.calls == []


def test_job_names_stay_one_path_segment() -> None:
    assert client_jobs.job_path("p", "etl") == "/projects/p/jobs/etl"
    assert client_jobs.job_path("p", "a/b:start") == "/projects/p/jobs/a%2Fb%3Astart"
    assert client_jobs.job_path("p", "..") == "/projects/p/jobs/%2E%2E"


def test_metrics_table_has_a_column_per_reading() -> None:
    table = job_watch.metrics_table([sample()])
    assert [c.header for c in table.columns] == list(job_watch.METRIC_COLUMNS)
    assert table.row_count == 1


def test_metrics_prints_a_table_when_a_sample_has_no_readings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = sample(at="2025-01-01T00:00:00Z", **NO_READINGS)
    answers = {"job_metrics": [first, sample()]}
    result, _ = invoke(monkeypatch, answers, "jobs", "metrics", "etl", "-P", "p1")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "2025-01-01T" in line]
    assert len(rows) == 2
    cells = [cell.strip() for cell in rows[0].strip("│ ").split("│")]
    assert cells == ["2025-01-01T00:00:00Z", "2", "-", "-", "-", "-", "-", "-"]
    assert "12,345.7" in rows[1]


def test_metrics_watch_leaves_missing_readings_out_of_its_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stop(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(job_watch.time, "sleep", stop)
    answers = {"job_metrics": [sample(**(NO_READINGS | {"backpressure": 0.5}))]}
    result, _ = invoke(monkeypatch, answers, "jobs", "metrics", "etl", "-P", "p1", "--watch")
    assert result.exit_code == 0, result.output
    assert result.stdout == "at=2025-01-01T00:00:05Z  run=2  backpressure=50%\n"


def test_metrics_watch_prints_each_new_reading_once_until_ctrl_c(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    naps = iter([None])

    def nap(_: float) -> None:
        if next(naps, "stop") == "stop":
            raise KeyboardInterrupt

    monkeypatch.setattr(job_watch.time, "sleep", nap)
    older, newer = sample(at="2025-01-01T00:00:00Z"), sample(at="2025-01-01T00:00:05Z")
    answers = {"job_metrics": [older, newer]}
    result, api = invoke(
        monkeypatch, answers, "jobs", "metrics", "etl", "-P", "p1", "--watch", "--limit", "2"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # the second poll brought nothing new
    assert lines[1].startswith("at=2025-01-01T00:00:05Z  run=2  in/s=12,345.7")
    assert [c[0] for c in api.calls] == ["job_metrics", "job_metrics"]
    assert api.calls[0][2] == {"limit": 2}
