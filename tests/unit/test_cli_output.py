"""What the CLI prints when its output is not a terminal (a pipe, a file, a CI log): whole
table rows and messages, and help whose option names and choices are never cut or broken."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer import rich_utils
from typer.testing import CliRunner

from rtcompute.cli import output
from rtcompute.main import build_app

LONG_COMMAND = (
    "rtc clusters versions install analytics-cluster-01 flink-2.2.1 --wait --timeout 900 "
    "--profile production-operator --output json"
)


@pytest.fixture(autouse=True)
def no_width_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither `COLUMNS` nor Typer's `TERMINAL_WIDTH` from the environment running the tests."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", None)


def test_a_table_row_stays_one_line_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"name": "install", "command": LONG_COMMAND}, {"name": "short", "command": "x"}]
    output.emit(rows, output.Format.table)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6  # top, header, rule, 2 rows, bottom
    assert LONG_COMMAND in lines[3]


def test_a_message_stays_one_line_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    output.console.print(f"run `{LONG_COMMAND}`")
    output.err_console.print(f"then `{LONG_COMMAND}`")
    captured = capsys.readouterr()
    assert captured.out == f"run `{LONG_COMMAND}`\n"
    assert captured.err == f"then `{LONG_COMMAND}`\n"


def test_columns_still_sets_the_width(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    output.emit([{"name": "install", "command": LONG_COMMAND}], output.Format.table)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 5 and max(len(line) for line in lines) == 60


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group of `rtc`, with the words that name it."""
    found = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += command_paths(sub, (*path, name))
    return found


def test_help_off_a_terminal_cuts_no_option_and_breaks_no_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rtc = typer.main.get_command(build_app())  # built once: 175 help pages in a second
    paths = command_paths(rtc)
    assert len(paths) > 100
    for path, command in paths:
        rtc.main([*path, "--help"], prog_name="rtc", standalone_mode=False)
        shown = capsys.readouterr().out
        assert "…" not in shown, (path, shown)
        for param in command.params:
            for name in param.opts:
                assert name in shown, (path, name, shown)
    rtc.main(["jobs", "start", "--help"], prog_name="rtc", standalone_mode=False)
    start = capsys.readouterr().out
    assert "<stateless|latest-checkpoint|latest-savepoint|savepoint>" in start
    assert max(len(line) for line in start.splitlines()) <= 160


def test_help_on_a_chosen_width_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = CliRunner().invoke(build_app(), ["jobs", "start", "--help"])
    assert max(len(line) for line in result.stdout.splitlines()) == 100
    assert rich_utils.MAX_WIDTH is None  # nothing of a run stays behind for the next one
