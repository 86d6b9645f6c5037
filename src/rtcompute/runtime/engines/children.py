"""The processes an install starts (venv, pip, the verification): how each is started,
recorded, read and stopped, apart so that installer.py stays the orchestration.

Each child runs in a process group of its own, so one kill also stops a JVM its Python
started: at the child's end (a JVM may outlive it) and past the install's deadline alike. Its
output is read line by line on a thread of its own, so the caller parses progress while the
wait below watches the deadline; the last lines are kept for the error message.

A killed `rtc up` kills none of them: they run on under PID 1, writing into the partial
directory. So each group is recorded as it starts, in `<home>/.flink-2.2.1.pids` (a
processes.GroupRecord), and dropped as it ends; the installer stops what a record names
before it touches that version again, and every record's groups when `rtc up` starts. The
record sits beside the partial directory, not in it: the first child creates that
directory, a discard would delete the record before its groups are stopped, and the rename
would carry it into the finished copy. A kill in the millisecond between a child's start and
its record leaves that child unnamed.

A failure here is `Failed`; the installer reports its message as the install's own failure.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rtcompute.runtime import processes

log = logging.getLogger(__name__)

# the output lines an error message quotes
TAIL_LINES = 12


class Failed(Exception):
    """A child failed or ran past the deadline; `message` says what and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Deadline:
    """When the install must be done, and the time limit it was set from (a failure names it)."""

    seconds: float
    at: float  # on the time.monotonic() clock

    def remaining(self) -> float:
        return self.at - time.monotonic()


def run_step(command: list[str], deadline: Deadline, *, what: str, pids: Path) -> None:
    """Run a command that must succeed; its last lines are the failure's message."""
    code, tail = run(command, deadline, what=what, pids=pids)
    if code != 0:
        said = " ".join(tail[-3:]) or f"exit status {code}"
        raise Failed(f"{what} failed: {said}")


def run(
    command: list[str],
    deadline: Deadline,
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
            remaining = deadline.remaining()
            if remaining <= 0:
                raise Failed(
                    f"the install took longer than {deadline.seconds:.0f} s and was stopped "
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
        env={**(env if env is not None else clean_env()), processes.GROUP_TOKEN: token},
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


def clean_env() -> dict[str, str]:
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
