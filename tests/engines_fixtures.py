"""Engine fixtures: the offline wheelhouse, versions installed once per session, per-test homes.

A real install costs tens of seconds and ~700 MB, so the two CI versions are installed once
per session, by the real installer from the wheelhouse, and only when a test asks for them
(`installed_engines`). A test that changes a home (uninstalls, reinstalls) gets its own
from `engine_home_with`: hardlinked copies (`cp -al`), which cost a fraction of a second
and no space; a venv still works under another path because `bin/python` is a symlink to
the base interpreter and `pyvenv.cfg` names only that interpreter. Files a copy's Flink
appends to (its client logs) are unlinked in the copy, so no two homes share a log file; a
test that changes a file in a copy must replace it (unlink, write), never write into it.

The wheelhouse is `RTC_TEST_WHEELHOUSE` (`make pytest` builds it) or `.cache/wheelhouse`; a
developer's bare `pytest` builds whatever version is missing there (`pip wheel`, ~2 min).
"""

from __future__ import annotations

import fcntl
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rtcompute.domain import engines
from rtcompute.runtime.engines import installer as installer_module

ROOT = Path(__file__).resolve().parents[1]
CI_VERSIONS = ("flink-2.2.1", "flink-1.20.5")
INSTALL_TIMEOUT_SECONDS = 1200.0


def wheelhouse_has(wheelhouse: Path, release: str) -> bool:
    """The wheelhouse holds apache-flink and its jars package for `release`."""
    return any(wheelhouse.glob(f"apache_flink-{release}-*.whl")) and any(
        wheelhouse.glob(f"apache_flink_libraries-{release}-*.whl")
    )


def build_wheelhouse(wheelhouse: Path, releases: list[str]) -> None:
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for release in releases:
        command = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check"]
        command += ["--quiet", "-w", str(wheelhouse), f"apache-flink=={release}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wheelhouse_has(wheelhouse, release):
            pytest.fail(f"building the wheelhouse for apache-flink=={release} failed:\n{done}")


@pytest.fixture(scope="session")
def engine_wheelhouse() -> Path:
    """The offline wheelhouse of the CI versions, built first if a version is missing."""
    wheelhouse = Path(os.environ.get("RTC_TEST_WHEELHOUSE") or ROOT / ".cache" / "wheelhouse")
    releases = [engines.release_of(v) for v in CI_VERSIONS]
    missing = [r for r in releases if not wheelhouse_has(wheelhouse, r)]
    if missing:
        build_wheelhouse(wheelhouse, missing)
    return wheelhouse.resolve()


@dataclass
class InstalledEngines:
    """The session's home with the CI versions installed (and what each install reported)."""

    home: Path
    installer: installer_module.Installer
    results: dict[str, installer_module.Installed] = field(default_factory=dict)
    events: dict[str, list[installer_module.Progress]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # what the installs left, read before any test used the versions (tests that run Flink
    # from this home add their own logs): the home's entries, each version's Flink log files
    entries: list[str] = field(default_factory=list)
    logs: dict[str, list[str]] = field(default_factory=dict)

    def path(self, version: str) -> Path:
        return self.home / version


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every pytest-xdist worker of this run sees (the base temp directory
    without xdist): what is built once per run lives there."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def install_ci_versions(installed: InstalledEngines) -> None:
    failures: dict[str, Exception] = {}

    def install(version: str) -> None:
        events = installed.events.setdefault(version, [])
        started = time.monotonic()
        try:
            installed.results[version] = installed.installer.install(version, events.append)
        except Exception as exc:  # reported below, in the test that asked
            failures[version] = exc
        installed.seconds[version] = time.monotonic() - started

    threads = [threading.Thread(target=install, args=(v,)) for v in CI_VERSIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        pytest.fail(f"installing the session's engine versions failed: {failures}")


@pytest.fixture(scope="session")
def installed_engines(
    engine_wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> InstalledEngines:
    """flink-2.2.1 and flink-1.20.5 installed by the real installer, once per run (both at
    once: a pip run and a verification JVM each leave a core idle part of the time). With
    pytest-xdist the first worker to ask installs, under a file lock, and leaves what the
    installs reported beside them; the others wait for it and read that."""
    root = shared_root(tmp_path_factory)
    home = root / "engines"
    report = root / "engines.pickle"
    installer = installer_module.Installer(
        home, wheelhouse=engine_wheelhouse, timeout=INSTALL_TIMEOUT_SECONDS
    )
    with (root / "engines.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if report.exists():
            return InstalledEngines(home, installer, **pickle.loads(report.read_bytes()))
        home.mkdir(exist_ok=True)
        installed = InstalledEngines(home, installer)
        install_ci_versions(installed)
        installed.entries = sorted(p.name for p in home.iterdir())
        for version in CI_VERSIONS:
            logs = installer.flink_home_of(version) / "log"
            installed.logs[version] = sorted(p.name for p in logs.iterdir())
        reported = ("results", "events", "seconds", "entries", "logs")
        report.write_bytes(pickle.dumps({name: getattr(installed, name) for name in reported}))
        return installed


def copy_engine(source: Path, target: Path) -> None:
    """A hardlinked copy of an installed version; the copy's own log files are unlinked."""
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
    for flink_log in target.glob("lib/python*/site-packages/pyflink/log/*"):
        if flink_log.name != "empty.txt" and flink_log.is_file():
            flink_log.unlink()


def engine_home(installed: InstalledEngines, home: Path, versions: list[str]) -> Path:
    """A new engines home at `home` holding copies of the given installed versions."""
    home.mkdir(parents=True)
    for version in versions:
        copy_engine(installed.path(version), home / version)
    return home


@pytest.fixture
def engine_home_with(
    installed_engines: InstalledEngines, tmp_path: Path
) -> Callable[[list[str]], Path]:
    """Make a fresh engines home under tmp_path holding copies of the given versions."""
    made = [0]

    def make(versions: list[str]) -> Path:
        made[0] += 1
        return engine_home(installed_engines, tmp_path / f"engines-{made[0]}", versions)

    return make
