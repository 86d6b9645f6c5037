"""Options given before the command (`rtc -p work -o json jobs list`): every client command
reads them, its own option wins, and both win over `RTC_PROFILE`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from rtcompute.cli import commands
from rtcompute.main import build_app


class Api:
    """A stand-in for `client.Client` that knows no jobs."""

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def list_jobs(self, project: str, *, folder: str | None) -> list[Any]:
        return []


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, str]:
    """The profile the command signed in with, and what it printed."""
    profiles: list[str] = []

    def connect(profile: str, timeout: float = 30.0) -> Api:
        profiles.append(profile)
        return Api()

    monkeypatch.setattr(commands, "connect", connect)
    result = CliRunner().invoke(build_app(), list(args))
    assert result.exit_code == 0, result.output
    assert len(profiles) == 1
    return profiles[0], result.stdout


def test_options_before_the_command_apply_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTC_PROFILE", raising=False)
    profile, shown = run(monkeypatch, "-p", "work", "-o", "json", "jobs", "list", "-P", "p1")
    assert profile == "work"
    assert json.loads(shown) == []
    profile, shown = run(
        monkeypatch, "--profile", "work", "--output", "json", "jobs", "list", "-P", "p"
    )
    assert (profile, json.loads(shown)) == ("work", [])
    profile, shown = run(monkeypatch, "jobs", "list", "-P", "p1")
    assert profile == "default" and shown.startswith("┏")


def test_the_commands_own_option_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTC_PROFILE", raising=False)
    args = ("-p", "work", "-o", "json", "jobs", "list", "-P", "p1", "-p", "mine", "-o", "table")
    profile, shown = run(monkeypatch, *args)
    assert profile == "mine" and shown.startswith("┏")


def test_an_option_on_the_command_line_wins_over_rtc_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RTC_PROFILE", "from_env")
    assert run(monkeypatch, "-p", "work", "jobs", "list", "-P", "p1")[0] == "work"
    assert run(monkeypatch, "jobs", "list", "-P", "p1", "-p", "mine")[0] == "mine"
    assert run(monkeypatch, "jobs", "list", "-P", "p1")[0] == "from_env"
