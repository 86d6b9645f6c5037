"""Processes of the local provider: start detached, find again by pid file, stop.

A process is started in its own session so it outlives `rtc up`; its pid goes into a pid
file in the node directory. After a restart, a pid file alone is not proof (pids are
reused), so a process counts as ours only if `/proc/<pid>/cmdline` still contains the
markers it was started with (the node directory and the component's main class or
module). A zombie has an empty cmdline, so a dead child not yet reaped counts as dead. A crash
between the start and the pid file's write leaves a process without one: the provider
then searches /proc for the same markers before it starts anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def cmdline(pid: int) -> list[str]:
    """The argv of a live process, or [] (gone, zombie, or not ours to read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


# programs that exec or run the real command and repeat its arguments in their own command
# line (a sandbox's shell, bwrap, setpriv, env): never the process a marker names
WRAPPERS = frozenset({"sh", "bwrap", "setpriv", "env"})


def matches(pid: int, markers: Iterable[str]) -> bool:
    """Alive, not a wrapper, and every marker is one whole argument of its command line."""
    argv = cmdline(pid)
    if not argv or os.path.basename(argv[0]) in WRAPPERS:
        return False
    return all(marker in argv for marker in markers)


def search(markers: Sequence[str]) -> list[int]:
    """Every live process started with `markers` (a pid file lost in a crash)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isascii() and entry.name.isdigit() and matches(int(entry.name), markers):
            found.append(int(entry.name))
    return sorted(found)


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def live_pid(pid_file: Path, markers: Sequence[str]) -> int | None:
    """The pid in `pid_file` if that process is alive and was started with `markers`."""
    pid = read_pid(pid_file)
    if pid is None or not matches(pid, markers):
        return None
    return pid


def spawn(
    argv: Sequence[str], *, log_file: Path, pid_file: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start detached (own session, stdin closed, output to `log_file`); write the pid file."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    temporary = pid_file.with_suffix(".pid.tmp")
    temporary.write_text(f"{process.pid}\n")
    temporary.replace(pid_file)
    return process


def terminate(pids: Iterable[int], *, markers: dict[int, Sequence[str]], grace: float) -> None:
    """SIGTERM each process group, wait up to `grace` seconds in all, then SIGKILL the rest."""
    targets = [pid for pid in pids if matches(pid, markers.get(pid, ()))]
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while targets and time.monotonic() < deadline:
        time.sleep(0.05)
        targets = [pid for pid in targets if matches(pid, markers.get(pid, ()))]
    for pid in targets:
        _signal(pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    # each component leads its own session and group (start_new_session)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
            return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)
