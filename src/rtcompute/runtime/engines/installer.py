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

Each child (venv, pip, the verification) runs in a process group of its own, so one kill
also stops a JVM its Python started. A killed `rtc up` kills none: they run on under PID 1,
writing into the partial directory. So each group is recorded as it starts, in
`<home>/.flink-2.2.1.pids` (a processes.GroupRecord), and dropped as it ends; the next
install or removal of the version stops what the record names before touching anything.
The record sits beside the partial directory, not in it: the first child creates that
directory, a discard would delete the record before its groups are stopped, and the rename
would carry it into the finished copy. A kill in the millisecond between a child's start
and its record leaves that child unnamed.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.metadata
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
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
from rtcompute.runtime.engines import venvs, verify

log = logging.getLogger(__name__)

MARKER = ".rtcompute-engine.json"
PYTHON_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"
# an engine environment takes ~700-850 MB; refuse to start below this
MIN_FREE_BYTES = 1 << 30
# the output lines an error message quotes
TAIL_LINES = 12
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
                return self._install(version, release, partial, report)
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
        deadline = started + self.timeout
        report("environment", 0, "checking Java and disk space")
        self.home.mkdir(parents=True, exist_ok=True)
        self._discard(partial)
        self._sweep(version)
        try:
            java_home = verify.java_home(self.java, release)
        except verify.Failed as exc:
            raise InstallFailed(exc.message) from exc
        self._check_disk()
        report("environment", 2, "creating the virtual environment")
        use_outer_pip = _outer_pip_usable()
        self._run_step(
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
        self, venv: Path, version: str, use_outer_pip: bool, deadline: float, report: _Reporter
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
        code, tail = self._run(
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
        self, venv: Path, version: str, java_home: Path, deadline: float, report: _Reporter
    ) -> tuple[str, int]:
        """Import, jars and a tiny job in the version's interpreter; returns (flink, size)."""
        release = engines.release_of(version)
        report("verifying", venvs.INSTALLING_DONE + 1, "importing pyflink")
        sizing = venvs.Sizing(venv)
        answers = verify.Answers(report)
        with tempfile.TemporaryDirectory(prefix="rtc-verify-") as scratch:
            env = verify.environment(_clean_env(), java_home, scratch)
            command = verify.command(venv / "bin" / "python", release)
            code, tail = self._run(
                command,
                deadline,
                what="the verification",
                pids=self.pids_of(version),
                on_line=answers.feed,
                env=env,
                cwd=scratch,
            )
        size = sizing.result()
        try:
            return answers.flink_version(release, code, tail), size
        except verify.Failed as exc:
            raise InstallFailed(exc.message) from exc

    # ------------------------------------------------------------------ processes

    def _run_step(self, command: list[str], deadline: float, *, what: str, pids: Path) -> None:
        code, tail = self._run(command, deadline, what=what, pids=pids)
        if code != 0:
            said = " ".join(tail[-3:]) or f"exit status {code}"
            raise InstallFailed(f"{what} failed: {said}")

    def _run(
        self,
        command: list[str],
        deadline: float,
        *,
        what: str,
        pids: Path,
        on_line: Callable[[str], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> tuple[int, list[str]]:
        """Run a command in its own process group, feeding its output lines to `on_line`;
        past the install's deadline the whole group is killed and the install fails."""
        log.debug("running %s", command[:6])
        tail: collections.deque[str] = collections.deque(maxlen=200)
        process, group = start(command, pids=pids, what=what, env=env, cwd=cwd)

        def read() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.rstrip()
                tail.append(line)
                if on_line is not None:
                    try:
                        on_line(line)
                    except Exception:
                        log.exception("reading %s output failed", command[0])

        reader = threading.Thread(target=read, name="installer-output", daemon=True)
        reader.start()
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise InstallFailed(
                        f"the install took longer than {self.timeout:.0f} s and was stopped "
                        "(RTC_ENGINES__INSTALL_TIMEOUT_SECONDS); check the network or the "
                        "machine's load and install again"
                    )
                try:
                    process.wait(timeout=min(0.5, remaining))
                    break
                except subprocess.TimeoutExpired:
                    if on_tick is not None:
                        on_tick()
        finally:
            _kill_group(process)  # also when it exited: a child (a JVM) may outlive it
            processes.GroupRecord(pids).drop(group)
            reader.join(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
        return process.returncode, list(tail)[-TAIL_LINES * 4 :]

    def _stop_left_over(self, version: str) -> None:
        """Stop the process groups a killed install of `version` left running, before its
        directories are discarded or reused; the record goes once none of them is left."""
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


def start(
    command: Sequence[str],
    *,
    pids: Path,
    what: str,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> tuple[subprocess.Popen[str], processes.Group]:
    """Start `command` in a process group of its own, added to the record `pids` at once."""
    token = secrets.token_hex(8)
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**(env if env is not None else _clean_env()), processes.GROUP_TOKEN: token},
        cwd=cwd,
        start_new_session=True,
        text=True,
        errors="replace",
    )
    try:
        group = processes.group_of(process.pid, token)
        processes.GroupRecord(pids).add(what, group)
    except BaseException:
        _kill_group(process)
        raise
    return process, group


def _outer_pip_usable() -> bool:
    """The control plane's pip can install into another interpreter (`pip --python`)."""
    try:
        version = importlib.metadata.version("pip")
    except importlib.metadata.PackageNotFoundError:
        return False
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    return numbers >= PIP_PYTHON_OPTION


def _clean_env() -> dict[str, str]:
    """The environment of a child: ours without what would point Python elsewhere."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(name, None)
    env["PIP_NO_INPUT"] = "1"
    return env


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
