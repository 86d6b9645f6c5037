"""The engine installer: one `apache-flink` release per virtual environment, verified.

`flink-2.2.1` is installed into `<home>/flink-2.2.1`, built in `<home>/.flink-2.2.1.partial`
and renamed into place only once it is verified (Java found, pyflink importable, the Flink
jars present, a tiny local job run) and its marker written, so a version directory with a
valid marker is a finished install and anything else is debris: a killed run leaves a
partial directory that the next install of that version wipes first. A finished directory
whose record was lost (a crash after the rename) is adopted as it is.

Speed, measured on 2 cores against a bare `python -m venv X && X/bin/pip install
--no-index --find-links WH apache-flink==V` (about 30 s here): the environment is created
without pip (`venv --without-pip`, 0.2 s instead of ~4.5 s of ensurepip) and the control
plane's own pip installs into it (`pip --python`); `--no-compile` skips byte-compiling
~700 MB of packages (the interpreter compiles what it imports, on first import). The
verification (verify.py) is one interpreter that imports pyflink, checks the jars and runs
the job: a few seconds, not ten. The installer runs it like pip, under the same deadline.

Progress is pip's own output, parsed line by line (Collecting / Processing / Downloading,
then one `.dist-info` per package installed), then the verification's steps. The installer
runs in a reconciler's worker thread: it never prints, it logs; installs of different
versions may run in parallel, two installs of one version are serialized.

Each child (venv, pip, the verification) runs in a process group of its own, recorded in
`<home>/.flink-2.2.1.pids` while it runs (children.py): a killed `rtc up` leaves them running,
so the next install or removal of the version stops what the record names before touching
anything, and `rtc up` stops what every record names as it starts (`stop_left_overs`).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rtcompute.domain import engines
from rtcompute.runtime import processes
from rtcompute.runtime.engines import children, venvs, verify

log = logging.getLogger(__name__)

MARKER = ".rtcompute-engine.json"
PYTHON_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"
# an engine environment takes ~700-850 MB; refuse to start below this
MIN_FREE_BYTES = 1 << 30
# `pip --python` (install into another interpreter) exists since pip 22.3
PIP_PYTHON_OPTION = (22, 3)
# how long a killed install's pip or JVM gets to end on SIGTERM before SIGKILL
LEFT_OVER_GRACE_SECONDS = 3.0


class InstallFailed(Exception):
    """An install did not finish; `message` says what failed and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Progress:
    phase: str  # environment | collecting | downloading | installing | verifying | done
    percent: int  # 0..100, never decreasing during one install
    detail: str = ""


@dataclass
class Installed:
    path: Path
    size_bytes: int
    source: str
    flink_version: str


class _Reporter:
    """Hands progress to the caller: percent never goes down, a failing callback is logged."""

    def __init__(self, version: str, callback: Callable[[Progress], None]) -> None:
        self._version = version
        self._callback = callback
        self._percent = 0
        self._lock = threading.Lock()

    def __call__(self, phase: str, percent: int, detail: str = "") -> None:
        with self._lock:
            self._percent = max(self._percent, min(100, percent))
            event = Progress(phase, self._percent, detail)
            try:
                self._callback(event)
            except Exception:
                log.exception("engine %s: progress callback failed", self._version)


class Installer:
    def __init__(
        self,
        home: Path,
        *,
        wheelhouse: Path | None,
        index_url: str = "",
        java: str = "java",
        timeout: float = 1800.0,
    ) -> None:
        self.home = Path(home)
        self.wheelhouse = Path(wheelhouse) if wheelhouse else None
        self.index_url = index_url
        self.java = java
        self.timeout = timeout
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    # ------------------------------------------------------------------ where things are

    def path_of(self, version: str) -> Path:
        engines.release_of(version)  # refuses anything that is not a version name
        return self.home / version

    def python_of(self, version: str) -> Path:
        return self.path_of(version) / "bin" / "python"

    def flink_home_of(self, version: str) -> Path:
        return self.path_of(version) / "lib" / PYTHON_DIR / "site-packages" / "pyflink"

    def _partial_of(self, version: str) -> Path:
        return self.home / f".{version}.partial"

    def pids_of(self, version: str) -> Path:
        """The record of the process groups an install of `version` has running."""
        return self.path_of(version).with_name(f".{version}.pids")

    def source(self) -> str:
        if self.wheelhouse is not None:
            return f"wheelhouse:{self.wheelhouse}"
        return f"index:{self.index_url}" if self.index_url else "index"

    # ------------------------------------------------------------------ state

    def marker_of(self, version: str) -> dict[str, Any] | None:
        """The marker of a finished install of `version`, or None."""
        try:
            data = json.loads((self.path_of(version) / MARKER).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != version:
            return None
        return data

    def is_ready(self, version: str) -> bool:
        return self.marker_of(version) is not None and self.python_of(version).exists()

    def remove(self, version: str) -> None:
        """Delete the version's copy (and whatever a killed install left)."""
        with self._lock_of(version):
            self._stop_left_over(version)
            self._discard(self.path_of(version))
            self._discard(self._partial_of(version))
            self._sweep(version)
        log.info("engine %s removed from %s", version, self.home)

    # ------------------------------------------------------------------ install

    def install(self, version: str, on_progress: Callable[[Progress], None]) -> Installed:
        """Install `version` (a catalog name) and verify it; a ready copy is adopted as is."""
        release = engines.release_of(version)
        report = _Reporter(version, on_progress)
        with self._lock_of(version):
            self._stop_left_over(version)
            adopted = self._adopt(version)
            if adopted is not None:
                report("done", 100, "already installed")
                return adopted
            partial = self._partial_of(version)
            try:
                try:
                    return self._install(version, release, partial, report)
                except (children.Failed, verify.Failed) as exc:  # the install's failure
                    raise InstallFailed(exc.message) from exc
            except BaseException:
                try:
                    self._discard(partial)
                except Exception:  # the install's own failure is the one to report
                    log.exception("engine %s: the partial install was not deleted", version)
                raise

    def _adopt(self, version: str) -> Installed | None:
        marker = self.marker_of(version)
        if marker is None or not self.python_of(version).exists():
            return None
        log.info("engine %s: adopting the finished copy in %s", version, self.path_of(version))
        return Installed(
            path=self.path_of(version),
            size_bytes=int(marker.get("size_bytes", 0)),
            source=str(marker.get("source", "")),
            flink_version=str(marker.get("flink_version", "")),
        )

    def _install(self, version: str, release: str, partial: Path, report: _Reporter) -> Installed:
        started = time.monotonic()
        deadline = children.Deadline(self.timeout, started + self.timeout)
        report("environment", 0, "checking Java and disk space")
        self.home.mkdir(parents=True, exist_ok=True)
        self._discard(partial)
        self._sweep(version)
        java_home = verify.java_home(self.java, release)
        self._check_disk()
        report("environment", 2, "creating the virtual environment")
        use_outer_pip = _outer_pip_usable()
        children.run_step(
            venvs.venv_command(partial, prompt=version, with_pip=not use_outer_pip),
            deadline,
            what="creating the virtual environment",
            pids=self.pids_of(version),
        )
        report("environment", venvs.ENVIRONMENT_DONE, "virtual environment created")
        self._pip_install(partial, version, use_outer_pip, deadline, report)
        flink_version, size = self._verify(partial, version, java_home, deadline, report)
        final = self.path_of(version)
        venvs.relocate(partial, final)
        installed_at = datetime.now(UTC).isoformat(timespec="seconds")
        marker = {
            "version": version,
            "release": release,
            "flink_version": flink_version,
            "source": self.source(),
            "installed_at": installed_at,
            "size_bytes": size,
        }
        (partial / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        self._discard(final)  # a directory without a valid marker is debris
        os.rename(partial, final)
        elapsed = time.monotonic() - started
        log.info("engine %s installed in %s (%.1f s, %d bytes)", version, final, elapsed, size)
        report("done", 100, f"installed in {elapsed:.0f} s")
        return Installed(final, size, self.source(), flink_version)

    def _pip_install(
        self,
        venv: Path,
        version: str,
        use_outer_pip: bool,
        deadline: children.Deadline,
        report: _Reporter,
    ) -> None:
        release = engines.release_of(version)
        python = venv / "bin" / "python"
        if use_outer_pip:
            pip = [sys.executable, "-m", "pip", "--python", str(python)]
        else:
            pip = [str(python), "-m", "pip"]
        command = [
            *pip,
            "install",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
            "--no-warn-script-location",
            *self._source_options(),
            f"apache-flink=={release}",
        ]
        phase = "collecting" if self.wheelhouse is not None else "downloading"
        site = venv / "lib" / PYTHON_DIR / "site-packages"
        state = venvs.PipProgress(phase, venvs.dist_infos(site))

        def on_line(line: str) -> None:
            event = state.feed(line)
            if event is not None:
                report(*event)

        def on_tick() -> None:
            event = state.tick(site)
            if event is not None:
                report(*event)

        report(phase, venvs.ENVIRONMENT_DONE, f"apache-flink=={release} from {self.source()}")
        what, pids = f"pip install apache-flink=={release}", self.pids_of(version)
        code, tail = children.run(
            command, deadline, what=what, pids=pids, on_line=on_line, on_tick=on_tick
        )
        if code != 0:
            raise InstallFailed(self._pip_failure(release, tail))
        report("installing", venvs.INSTALLING_DONE, "packages installed")

    def _source_options(self) -> list[str]:
        if self.wheelhouse is not None:
            return ["--no-index", "--find-links", str(self.wheelhouse)]
        return ["--index-url", self.index_url] if self.index_url else []

    def _pip_failure(self, release: str, tail: Sequence[str]) -> str:
        errors = [line for line in tail if line.startswith("ERROR")] or list(tail[-3:])
        said = " ".join(errors).strip() or "no output"
        if self.wheelhouse is not None:
            hint = (
                f"add it to the wheelhouse (`pip wheel -w {self.wheelhouse} "
                f"apache-flink=={release}`) or unset RTC_ENGINE_WHEELHOUSE to use the index"
            )
            where = f"the wheelhouse {self.wheelhouse}"
        else:
            hint = "check the network and RTC_ENGINES__INDEX_URL"
            where = f"the package index {self.index_url or '(pip default)'}"
        return f"pip could not install apache-flink=={release} from {where}: {said}; {hint}"

    def _check_disk(self) -> None:
        free = shutil.disk_usage(self.home).free
        if free < MIN_FREE_BYTES:
            raise InstallFailed(
                f"only {free // (1 << 20)} MB free in {self.home}: an engine version needs "
                "about 1 GB; free some space or set RTC_ENGINES__HOME elsewhere"
            )

    def _verify(
        self,
        venv: Path,
        version: str,
        java_home: Path,
        deadline: children.Deadline,
        report: _Reporter,
    ) -> tuple[str, int]:
        """Import, jars and a tiny job in the version's interpreter; returns (flink, size)."""
        release = engines.release_of(version)
        report("verifying", venvs.INSTALLING_DONE + 1, "importing pyflink")
        sizing = venvs.Sizing(venv)
        answers = verify.Answers(report)
        with tempfile.TemporaryDirectory(prefix="rtc-verify-") as scratch:
            env = verify.environment(children.clean_env(), java_home, scratch)
            command = verify.command(venv / "bin" / "python", release)
            code, tail = children.run(
                command,
                deadline,
                what="the verification",
                pids=self.pids_of(version),
                on_line=answers.feed,
                env=env,
                cwd=scratch,
            )
        size = sizing.result()
        return answers.flink_version(release, code, tail), size

    # ------------------------------------------------------------------ processes

    def stop_left_overs(self) -> list[str]:
        """Stop what killed installs of every version left running (as `rtc up` starts);
        returns the versions something was stopped for. One whose processes do not stop is
        logged and keeps its record, for its next install or removal to report."""
        stopped = []
        for record in sorted(self.home.glob(".*.pids")):
            version = record.name.removeprefix(".").removesuffix(".pids")
            if engines.NAME.fullmatch(version) is None:
                continue  # not a record of ours
            with self._lock_of(version):
                try:
                    if self._stop_left_over(version):
                        stopped.append(version)
                except InstallFailed as exc:
                    log.error("engine %s: %s", version, exc.message)
        return stopped

    def _stop_left_over(self, version: str) -> list[str]:
        """Stop the process groups a killed install of `version` left running, before its
        directories are discarded or reused; the record goes once none of them is left.
        Returns what was stopped, one line each."""
        record = processes.GroupRecord(self.pids_of(version))
        try:
            stopped = record.stop_all(grace=LEFT_OVER_GRACE_SECONDS)
        except processes.StillRunning as exc:
            raise InstallFailed(
                f"a killed install of {version} left processes that do not stop ({exc}): "
                f"kill them by hand and install again"
            ) from exc
        if stopped:
            log.warning(
                "engine %s: stopped what a killed install left running in %s: %s",
                version,
                self._partial_of(version),
                "; ".join(stopped),
            )
        return stopped

    # ------------------------------------------------------------------ helpers

    @contextlib.contextmanager
    def _lock_of(self, version: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(version, threading.Lock())
        with lock:
            yield

    def _sweep(self, version: str) -> None:
        """Finish deletions a crash interrupted (directories renamed aside by `_discard`)."""
        for trash in self.home.glob(f".{version}.*removing-*"):
            shutil.rmtree(trash, ignore_errors=True)

    def _discard(self, path: Path) -> None:
        """Delete a directory: renamed aside first, so it vanishes from its place at once."""
        if not path.exists() and not path.is_symlink():
            return
        if path.is_symlink() or not path.is_dir():
            path.unlink()
            return
        trash = path.with_name(f".{path.name.lstrip('.')}.removing-{secrets.token_hex(4)}")
        os.rename(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
        if trash.exists():
            raise InstallFailed(f"could not delete {trash}: remove it by hand")


def _outer_pip_usable() -> bool:
    """The control plane's pip can install into another interpreter (`pip --python`)."""
    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        return False
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return numbers >= PIP_PYTHON_OPTION
