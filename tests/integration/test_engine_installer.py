"""The engine installer on real Flink releases from the offline wheelhouse.

The two real installs are the session's (`installed_engines`); these tests read what they
reported and left, work on hardlinked copies for adoption and removal, and use failures
that stop early (a release missing from the wheelhouse, no Java, a timeout, a Java that
cannot start Flink) so that no test pays for a third full install.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rtcompute.runtime.engines import installer
from tests import engines_fixtures

pytestmark = pytest.mark.slow

V2 = "flink-2.2.1"
V1 = "flink-1.20.5"
PHASES = ("environment", "collecting", "installing", "verifying", "done")


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir()) if home.exists() else []


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


@pytest.mark.parametrize("version", [V2, V1])
def test_session_install_is_complete_and_verified(
    installed_engines: engines_fixtures.InstalledEngines, version: str
) -> None:
    release = version.removeprefix("flink-")
    path = installed_engines.path(version)
    result = installed_engines.results[version]
    assert result.path == path
    assert result.flink_version == release
    assert result.source == f"wheelhouse:{installed_engines.installer.wheelhouse}"
    assert result.size_bytes > 300 * 1024 * 1024

    marker = json.loads((path / installer.MARKER).read_text())
    assert marker["version"] == version
    assert marker["release"] == release
    assert marker["flink_version"] == release
    assert marker["size_bytes"] == result.size_bytes
    assert marker["source"].startswith("wheelhouse:")
    assert marker["installed_at"]
    assert installed_engines.installer.is_ready(version)

    flink_home = installed_engines.installer.flink_home_of(version)
    jars = {p.name for p in (flink_home / "lib").iterdir()}
    for jar in ("flink-dist", "flink-table-runtime", "flink-table-planner-loader"):
        assert f"{jar}-{release}.jar" in jars
    assert (flink_home / "opt" / f"flink-python-{release}.jar").is_file()

    # nothing of the build is left: no partial directory, no verification log in the package
    # (as the installs left them: other tests run Flink from this home)
    assert installed_engines.entries == sorted(engines_fixtures.CI_VERSIONS)
    assert [name for name in installed_engines.logs[version] if name != "empty.txt"] == []
    # the scripts were pointed at the final place, not at the partial directory
    build_dir = f".{version}.partial"
    scripts = [p for p in (path / "bin").iterdir() if p.is_file() and not p.is_symlink()]
    assert any(str(path / "bin" / "python") in s.read_text(errors="replace") for s in scripts)
    for script in scripts:
        assert build_dir not in script.read_text(errors="replace"), script

    python = installed_engines.installer.python_of(version)
    answer = subprocess.run(
        [str(python), "-c", "import sys, pyflink.version as v; print(sys.prefix, v.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert answer.stdout.split() == [str(path), release]


@pytest.mark.parametrize("version", [V2, V1])
def test_session_install_reported_progress(
    installed_engines: engines_fixtures.InstalledEngines, version: str
) -> None:
    events = installed_engines.events[version]
    percents = [e.percent for e in events]
    assert percents == sorted(percents), percents
    assert percents[0] == 0
    assert (events[-1].phase, events[-1].percent) == ("done", 100)
    assert [e.percent for e in events if e.phase == "done"] == [100]
    phases = list(dict.fromkeys(e.phase for e in events))
    assert phases == list(PHASES), phases
    # pip's output was followed: packages collected one by one, then installed one by one
    assert sum(e.phase == "collecting" for e in events) >= 20
    assert any(e.phase == "installing" and "/" in e.detail for e in events)
    steps = [e.detail for e in events if e.phase == "verifying"]
    assert steps[-3:] == ["jars ok", "environment ok", "job ok"]


def test_copied_version_works_under_its_new_path(
    engine_home_with: Callable[[list[str]], Path],
) -> None:
    home = engine_home_with([V2])
    copy = installer.Installer(home, wheelhouse=None)
    assert copy.is_ready(V2)
    answer = subprocess.run(
        [str(copy.python_of(V2)), "-c", "import sys, pyflink; print(sys.prefix, pyflink.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    prefix, module = answer.stdout.split()
    assert prefix == str(home / V2)
    assert Path(module).is_relative_to(copy.flink_home_of(V2))


def test_a_ready_copy_is_adopted_at_once(
    engine_home_with: Callable[[list[str]], Path],
    installed_engines: engines_fixtures.InstalledEngines,
) -> None:
    home = engine_home_with([V1])
    # no wheelhouse and an unreachable index: only adoption can succeed
    adopting = installer.Installer(home, wheelhouse=None, index_url="http://127.0.0.1:9/simple")
    events: list[installer.Progress] = []
    started = time.monotonic()
    adopted = adopting.install(V1, events.append)
    assert time.monotonic() - started < 1.0
    assert adopted.path == home / V1
    assert adopted.flink_version == "1.20.5"
    assert adopted.size_bytes == installed_engines.results[V1].size_bytes
    assert [(e.phase, e.percent) for e in events] == [("done", 100)]


def test_a_directory_without_a_valid_marker_is_not_ready(
    engine_home_with: Callable[[list[str]], Path],
) -> None:
    home = engine_home_with([V2, V1])
    ready = installer.Installer(home, wheelhouse=None)
    (home / V2 / installer.MARKER).unlink()
    marker_path = home / V1 / installer.MARKER
    marker = json.loads(marker_path.read_text())
    marker_path.unlink()  # a hardlink of the session's marker: replace it, never write into it
    marker_path.write_text(json.dumps({**marker, "version": V2}))
    assert not ready.is_ready(V2)
    assert not ready.is_ready(V1)


def test_remove_deletes_the_copy_and_any_partial(
    engine_home_with: Callable[[list[str]], Path],
    installed_engines: engines_fixtures.InstalledEngines,
) -> None:
    home = engine_home_with([V1, V2])
    (home / f".{V1}.partial" / "bin").mkdir(parents=True)
    removing = installer.Installer(home, wheelhouse=None)
    removing.remove(V1)
    assert leftovers(home) == [V2]
    assert not removing.is_ready(V1)
    assert removing.is_ready(V2)
    # the session's original (hardlinked to the copy) is untouched
    assert installed_engines.installer.is_ready(V1)
    assert installed_engines.installer.python_of(V1).exists()
    removing.remove(V1)  # removing what is not there is not an error


def test_a_release_missing_from_the_wheelhouse_fails_cleanly(
    engine_wheelhouse: Path, tmp_path: Path
) -> None:
    home = tmp_path / "engines"
    # a killed run's leftovers: a partial directory and a half-deleted one
    partial = home / ".flink-1.19.3.partial"
    (partial / "junk").mkdir(parents=True)
    (home / ".flink-1.19.3.removing-0000").mkdir()
    seen_partial: list[bool] = []

    def on_progress(event: installer.Progress) -> None:
        if event.phase == "collecting" and not seen_partial:
            # pip has started: the environment was built afresh, the leftovers are gone
            seen_partial.append(partial.is_dir() and not (partial / "junk").exists())

    failing = installer.Installer(home, wheelhouse=engine_wheelhouse)
    with pytest.raises(installer.InstallFailed) as failed:
        failing.install("flink-1.19.3", on_progress)
    message = failed.value.message
    assert "apache-flink==1.19.3" in message
    assert str(engine_wheelhouse) in message
    assert "pip wheel" in message
    assert seen_partial == [True]
    assert leftovers(home) == []
    assert not failing.is_ready("flink-1.19.3")


def test_missing_java_fails_before_installing(engine_wheelhouse: Path, tmp_path: Path) -> None:
    home = tmp_path / "engines"
    no_java = installer.Installer(home, wheelhouse=engine_wheelhouse, java="/nonexistent/java")
    events: list[installer.Progress] = []
    started = time.monotonic()
    with pytest.raises(installer.InstallFailed) as failed:
        no_java.install(V2, events.append)
    assert time.monotonic() - started < 5
    assert "Java not found (`/nonexistent/java`)" in failed.value.message
    assert "install Java 17" in failed.value.message
    assert leftovers(home) == []
    assert all(e.phase == "environment" for e in events)


def test_an_install_past_its_timeout_is_stopped(engine_wheelhouse: Path, tmp_path: Path) -> None:
    home = tmp_path / "engines"
    hurried = installer.Installer(home, wheelhouse=engine_wheelhouse, timeout=3)
    started = time.monotonic()
    with pytest.raises(installer.InstallFailed) as failed:
        hurried.install(V2, lambda event: None)
    assert time.monotonic() - started < 15
    assert "longer than 3 s" in failed.value.message
    assert leftovers(home) == []
    assert processes_mentioning(str(home)) == []


def test_a_java_that_cannot_run_flink_fails_verification(
    engine_wheelhouse: Path, tmp_path: Path
) -> None:
    # answers `-version` like Java 17, and fails to start anything (a broken JRE)
    fake_java = tmp_path / "jre" / "bin" / "java"
    fake_java.parent.mkdir(parents=True)
    fake_java.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -version ]; then echo \'openjdk version "17.0.9"\' >&2; exit 0; fi\n'
        'echo "Error: could not create the Java Virtual Machine" >&2\n'
        "exit 1\n"
    )
    os.chmod(fake_java, 0o755)
    home = tmp_path / "engines"
    broken = installer.Installer(home, wheelhouse=engine_wheelhouse, java=str(fake_java))
    events: list[installer.Progress] = []
    with pytest.raises(installer.InstallFailed) as failed:
        broken.install(V2, events.append)
    assert "test job" in failed.value.message
    assert "Java 17" in failed.value.message
    assert any(e.phase == "verifying" for e in events)  # it failed after pip, not before
    assert leftovers(home) == []
