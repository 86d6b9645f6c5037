"""Processes of the local provider: start detached, find again by pid file, stop.

A process is started in its own session so it outlives `rtc up`; its pid goes into a pid
file in the node directory. After a restart, a pid file alone is not proof (pids are
reused), so a process counts as ours only if `/proc/<pid>/cmdline` still contains the
markers it was started with (the node directory and the component's main class or
module). A zombie has an empty cmdline, so a dead child not yet reaped counts as dead. A crash
between the start and the pid file's write leaves a process without one: the provider
then searches /proc for the same markers before it starts anything.

A process group that must be stopped after our own crash, with nothing else to name it (an
engine install's pip or verifier), is a `Group`: told apart from a later one that got its
number by the leader's start time (/proc/<pid>/stat field 22) and the boot, or, once the
leader has exited and only its children run (a JVM outliving its Python), by a token every
process of the group inherited in its environment. A group number is not reused while any
process of the group is left, so a live leader with another start time means ours is gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

# the environment variable that carries a `Group`'s token to every process of the group
GROUP_TOKEN = "RTC_PROCESS_GROUP"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


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
    return sorted(pid for pid in _all_pids() if matches(pid, markers))


def _all_pids() -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isascii() and entry.name.isdigit():
            yield int(entry.name)


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


# ---------------------------------------------------------------------- process groups


@dataclasses.dataclass(frozen=True)
class Stat:
    state: str  # R, S, D, ... Z for a zombie (dead, not yet reaped)
    pgid: int
    start_time: int  # clock ticks after boot: tells a process from a later one with its pid


def stat(pid: int) -> Stat | None:
    """The fields of /proc/<pid>/stat this module needs, or None (no such process)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # field 2, the command name, may hold spaces and parentheses: count from its last ")"
    fields = raw[raw.rfind(")") + 2 :].split()
    return Stat(fields[0], pgid=int(fields[2]), start_time=int(fields[19]))


def boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


@dataclasses.dataclass(frozen=True)
class Group:
    """A process group we started (its leader's pid is its number), recognizable later."""

    pgid: int
    start_time: int  # the leader's
    boot_id: str
    token: str  # the value of GROUP_TOKEN in the environment of its processes


class StillRunning(Exception):
    """A process group outlived SIGKILL (a process stuck in the kernel, or not ours to kill)."""


def group_of(pid: int, token: str) -> Group:
    """The `Group` led by our child `pid`, started with `token` and not yet waited for."""
    found = stat(pid)
    if found is None or found.pgid != pid:
        raise ProcessLookupError(f"process {pid} does not lead its own process group")
    return Group(pid, found.start_time, boot_id(), token)


def running(group: Group) -> list[int]:
    """The live processes of `group`, or [] once no process of that group is left."""
    if group.boot_id != boot_id():
        return []
    leader = stat(group.pgid)
    if leader is not None and leader.start_time != group.start_time:
        return []  # the number went to a later process: our group ended before it
    members = []
    for pid in _all_pids():
        found = stat(pid)
        if found is not None and found.pgid == group.pgid and found.state not in ("Z", "X"):
            members.append(pid)
    if leader is None and not any(_carries(pid, group.token) for pid in members):
        return []  # the leader is gone and nothing in this group is ours
    return members


def stop_group(group: Group, *, grace: float, patience: float = 10.0) -> list[int]:
    """SIGTERM `group`, SIGKILL what is left after `grace` seconds, and wait up to `patience`
    seconds until none of it runs; returns the pids that were running (check `running`)."""
    found = running(group)
    if found:
        _signal_group(group, signal.SIGTERM)
        if not _ended(group, grace):
            _signal_group(group, signal.SIGKILL)
            _ended(group, patience)
    return found


def _signal_group(group: Group, signum: int) -> None:
    if running(group):  # checked again each time: never signal a group that took the number
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group.pgid, signum)


def _ended(group: Group, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(group):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _carries(pid: int, token: str) -> bool:
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{GROUP_TOKEN}={token}".encode() in environment


class GroupRecord:
    """The process groups started for one piece of work, in a JSON file: each is added as it
    starts and dropped as it ends, so the next run of that work stops what a crash left."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def groups(self) -> list[tuple[str, Group]]:
        """What each recorded group was started for, and the group."""
        try:
            entries = json.loads(self.path.read_text())
            return [(str(entry.pop("what")), Group(**entry)) for entry in entries]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("%s is unreadable (%s): the processes it names are left", self.path, exc)
            return []

    def add(self, what: str, group: Group) -> None:
        self._write([*self.groups(), (what, group)])

    def drop(self, group: Group) -> None:
        """Forget an ended group (and the file once it names none)."""
        self._write([(what, kept) for what, kept in self.groups() if kept != group])

    def stop_all(self, *, grace: float) -> list[str]:
        """Stop every recorded group still running, then delete the record; returns what was
        stopped, one line each. Raises StillRunning (and keeps the record) if one lives on."""
        stopped = []
        for what, group in self.groups():
            found = stop_group(group, grace=grace)
            left = running(group)
            if left:
                raise StillRunning(f"{what}: process group {group.pgid}, pids {left}")
            if found:
                stopped.append(f"{what} (process group {group.pgid}: pids {found})")
        self.path.unlink(missing_ok=True)
        return stopped

    def _write(self, groups: Sequence[tuple[str, Group]]) -> None:
        if not groups:
            self.path.unlink(missing_ok=True)
            return
        entries = [{"what": what, **dataclasses.asdict(group)} for what, group in groups]
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        temporary.write_text(json.dumps(entries, indent=2) + "\n")
        temporary.replace(self.path)  # a reader sees the old record or the new, never half
