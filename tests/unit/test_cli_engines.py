"""The CLI's rendering of engine versions and SQL problems: what a user reads and what
editors parse (`FILE:LINE:COLUMN: message`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from rtcompute.cli import engine_versions, engines, sql
from rtcompute.client import engines as client_engines


def version(**change: Any) -> dict[str, Any]:
    base = {
        "version": "flink-1.20.5",
        "state": "installing",
        "current": False,
        "retired": False,
        "phase": "download",
        "progress": 40,
    }
    return base | change


def test_status_line_shows_percent_phase_and_the_cluster_state() -> None:
    cluster = {"name": "c1", "state": "deploying"}
    assert (
        engine_versions.status_line(version(), cluster)
        == "flink-1.20.5 installing 40% download; cluster c1: deploying"
    )
    assert engine_versions.status_line(version(phase=""), None) == "flink-1.20.5 installing 40%"
    done = version(state="installed", progress=100, phase="done")
    assert (
        engine_versions.status_line(done, {"name": "c1", "state": "running"})
        == "flink-1.20.5 installed; cluster c1: running"
    )


def test_version_rows_flag_current_and_retired() -> None:
    assert engine_versions.row(version())["progress"] == "40% download"
    settled = engine_versions.row(version(state="installed", current=True, retired=True))
    assert (settled["flags"], settled["progress"]) == ("current, RETIRED", "")
    assert engine_versions.row(version(state="failed"))["flags"] == ""


def test_catalog_flags() -> None:
    entry = {"default": True, "retired": False, "listed": True}
    assert engines.flags(entry) == "default"
    assert engines.flags(entry | {"default": False, "retired": True, "listed": False}) == (
        "RETIRED, unlisted"
    )
    assert engines.flags(entry | {"default": False}) == ""


def test_problems_print_like_a_compiler() -> None:
    result = {
        "ok": False,
        "engine_version": "flink-2.2.1",
        "elapsed_ms": 123.4,
        "problems": [
            {"line": 7, "column": 17, "message": 'Encountered "FORM"'},
            {"line": 9, "column": 1, "message": "Object 'x' not found"},
        ],
    }
    assert sql.problem_lines("etl.sql", result) == [
        'etl.sql:7:17: Encountered "FORM"',
        "etl.sql:9:1: Object 'x' not found",
    ]
    assert sql.summary(result) == "OK (flink-2.2.1, 123 ms)"
    with pytest.raises(typer.Exit) as stopped:
        sql.report_problems("etl.sql", result)
    assert stopped.value.exit_code == sql.SQL_ERRORS == 4
    sql.report_problems("etl.sql", result | {"ok": True, "problems": []})  # no exit


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
