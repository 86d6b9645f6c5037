"""The README's promises about running the platform hold: its quick start is `make run` and
`make test`, it says how to choose the port (a setting `rtc up` reads) and how to stop what
keeps running after `make run` stops (commands that exist)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from rtcompute import settings
from rtcompute.main import build_app

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_quick_start_is_make_run_and_make_test() -> None:
    blocks = re.findall(r"```\n(.*?)```", section("Quick start"), re.S)
    first = [line.split("#")[0].strip() for line in blocks[0].splitlines()]
    assert first == ["make run", "make test"]


def test_the_readme_says_how_to_choose_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(section("The port, and what keeps running").split())
    assert "RTC_PORT=9090 make run" in text and "rtc up --port 9090" in text
    monkeypatch.setenv("RTC_PORT", "9090")
    assert settings.Settings().port == 9090
    up = typer.main.get_command(build_app()).commands["up"]
    assert "--port" in [name for param in up.params for name in param.opts]


def test_the_readme_says_how_to_stop_what_keeps_running() -> None:
    text = " ".join(section("The port, and what keeps running").split())
    assert "keep running" in text
    rtc = typer.main.get_command(build_app())
    for words in (("jobs", "stop"), ("clusters", "release")):
        assert f"rtc {' '.join(words)} " in text
        command = rtc
        for word in words:
            command = command.commands[word]
