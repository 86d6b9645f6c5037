"""The CLI's rendering of engine versions and SQL problems: what a user reads and what
editors parse (`FILE:LINE:COLUMN: message`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rtcompute.cli import commands, engine_versions, engines, sql
from rtcompute.client import engines as client_engines
from rtcompute.client import schemas
from rtcompute.client.base import ApiError
from rtcompute.main import build_app
from tests.unit.cli_fakes import AT, answer

VERSION = {
    "version": "flink-1.20.5",
    "release": "1.20.5",
    "tag": "stable",
    "state": "installing",
    "current": False,
    "phase": "download",
    "progress": 40,
    "message": "",
    "requested_by": "alice",
    "created_at": AT,
    "state_since": AT,
    "end_of_service": "2026-01-01",
    "retired": False,
}


def version(**change: Any) -> schemas.engines.Version:
    """A version as the API answers it."""
    return answer(schemas.engines.Version, VERSION, change)


def cluster(name: str, state: str) -> schemas.clusters.Cluster:
    """A cluster as the API answers it."""
    return schemas.clusters.Cluster.model_validate(
        {
            "name": name,
            "region": "local",
            "description": "",
            "order_id": "o1",
            "billing": "subscription",
            "master_type": "4c16g",
            "master_count": 1,
            "slave_type": "8c32g",
            "slave_count": 2,
            "state": state,
            "message": "",
            "expires_at": None,
            "created_by": "alice",
            "created_at": AT,
            "state_since": AT,
            "arn": f"acs:stream:local:1:cluster/{name}",
        }
    )


def test_status_line_shows_percent_phase_and_the_cluster_state() -> None:
    assert (
        engine_versions.status_line(version(), cluster("c1", "deploying"))
        == "flink-1.20.5 installing 40% download; cluster c1: deploying"
    )
    assert engine_versions.status_line(version(phase=""), None) == "flink-1.20.5 installing 40%"
    done = version(state="installed", progress=100, phase="done")
    assert (
        engine_versions.status_line(done, cluster("c1", "running"))
        == "flink-1.20.5 installed; cluster c1: running"
    )


def test_version_rows_flag_current_and_retired() -> None:
    assert engine_versions.row(version())["progress"] == "40% download"
    settled = engine_versions.row(version(state="installed", current=True, retired=True))
    assert (settled["flags"], settled["progress"]) == ("current, RETIRED", "")
    assert engine_versions.row(version(state="failed"))["flags"] == ""


CATALOG_ENTRY = {
    "name": "flink-2.2.1",
    "release": "2.2.1",
    "tag": "stable",
    "released_on": "2025-01-01",
    "end_of_service": "2026-01-01",
    "retired": False,
    "notes": "",
    "listed": True,
    "default": True,
}


def catalog_entry(**change: Any) -> schemas.engines.EngineVersion:
    """A catalog entry as the API answers it."""
    return answer(schemas.engines.EngineVersion, CATALOG_ENTRY, change)


def test_catalog_flags() -> None:
    assert engines.flags(catalog_entry()) == "default"
    assert engines.flags(catalog_entry(default=False, retired=True, listed=False)) == (
        "RETIRED, unlisted"
    )
    assert engines.flags(catalog_entry(default=False)) == ""


def test_problems_print_like_a_compiler() -> None:
    answer = {
        "ok": False,
        "engine_version": "flink-2.2.1",
        "flink_version": "2.2.1",
        "elapsed_ms": 123.4,
        "problems": [
            {"line": 7, "column": 17, "message": 'Encountered "FORM"'},
            {"line": 9, "column": 1, "message": "Object 'x' not found"},
        ],
    }
    result = schemas.engines.SqlCheck.model_validate(answer)
    assert sql.problem_lines("etl.sql", result) == [
        'etl.sql:7:17: Encountered "FORM"',
        "etl.sql:9:1: Object 'x' not found",
    ]
    assert sql.summary(result) == "OK (flink-2.2.1, 123 ms)"
    with pytest.raises(typer.Exit) as stopped:
        sql.report_problems("etl.sql", result)
    assert stopped.value.exit_code == sql.SQL_ERRORS == 4
    passed = schemas.engines.SqlCheck.model_validate(answer | {"ok": True, "problems": []})
    sql.report_problems("etl.sql", passed)  # no exit


def test_scripts_are_read_from_a_file_and_a_missing_one_is_a_usage_error(tmp_path: Path) -> None:
    script = tmp_path / "a.sql"
    script.write_text("SELECT 1;\n")
    assert sql.read_script(str(script)) == (str(script), "SELECT 1;\n")
    with pytest.raises(typer.BadParameter, match="cannot read"):
        sql.read_script(str(tmp_path / "absent.sql"))


def test_a_cluster_name_stays_one_path_segment() -> None:
    assert client_engines.versions_path(None) == "/pool/versions"
    assert client_engines.versions_path("c1") == "/clusters/c1/versions"
    assert client_engines.versions_path("../pool") == "/clusters/..%2Fpool/versions"


class Installs:
    """The versions API while an install is under way: `install_version` refused with
    `refusal`, `get_version` answering `states` in turn (the last one stays)."""

    def __init__(self, refusal: ApiError, states: list[schemas.engines.Version]) -> None:
        self.refusal = refusal
        self.states = states
        self.polls = 0

    def __enter__(self) -> Installs:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def install_version(
        self, cluster: str | None, version: str, *, confirm_beta: bool
    ) -> schemas.engines.Version:
        raise self.refusal

    def get_version(self, cluster: str | None, version: str) -> schemas.engines.Version:
        self.polls += 1
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def get_cluster(self, name: str) -> schemas.clusters.Cluster:
        return cluster(name, "deploying")


def install(monkeypatch: pytest.MonkeyPatch, api: Installs, *args: str) -> Any:
    monkeypatch.setattr(engine_versions.time, "sleep", lambda _: None)
    monkeypatch.setattr(commands, "connect", lambda profile, timeout=30.0: api)
    return CliRunner().invoke(build_app(), list(args))


DEPLOYING = ApiError(409, "VersionDeploying", "another version is being installed", "r1", {})
TWICE = ApiError(409, "VersionAlreadyInstalled", "flink-1.20.5 already installed", "r2", {})


@pytest.mark.parametrize("refusal", [DEPLOYING, TWICE])
@pytest.mark.parametrize(
    "command", [("pool", "versions", "install"), ("clusters", "versions", "install", "c1")]
)
def test_install_wait_follows_the_same_install_already_under_way(
    refusal: ApiError, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = Installs(refusal, [version(progress=60), version(state="installed", progress=100)])
    result = install(monkeypatch, api, *command, "flink-1.20.5", "--wait", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "installed"
    assert "flink-1.20.5 is already being installed: waiting for that install" in result.stderr
    assert refusal.code not in result.stderr
    assert api.polls >= 2


def test_install_refusals_stay_refusals_unless_this_version_is_installing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ("pool", "versions", "install", "flink-1.20.5")
    other = Installs(DEPLOYING, [version(state="failed")])  # another version is installing
    result = install(monkeypatch, other, *args, "--wait")
    assert result.exit_code == 1 and "VersionDeploying" in result.stderr
    done = Installs(TWICE, [version(state="installed", progress=100)])
    result = install(monkeypatch, done, *args, "--wait")
    assert result.exit_code == 1 and "VersionAlreadyInstalled" in result.stderr
    without_wait = Installs(DEPLOYING, [version()])
    result = install(monkeypatch, without_wait, *args)
    assert result.exit_code == 1 and "VersionDeploying" in result.stderr
    assert without_wait.polls == 0
