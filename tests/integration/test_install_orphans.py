"""A killed `rtc up` leaves its install's processes running under PID 1; the next install or
removal of that version stops them before it touches the partial directory, and so does the
next `rtc up` as it starts, whatever the version.

`rtc up` is played by another interpreter that starts a child the installer's way
(`children.start`, recorded beside the partial directory) and is then killed with SIGKILL,
so the child really is reparented and nothing of ours cleans up after it. The child starts a
grandchild that ignores SIGTERM (a JVM busy in its shutdown hooks); both write into the
partial directory every 20 ms and note, in a file outside it, any write that found it gone:
a sweep that discarded the directory before stopping them would leave a note there while the
grandchild waits out its grace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rtcompute.runtime import processes
from rtcompute.runtime.engines import children, installer

pytestmark = pytest.mark.slow

VERSION = "flink-2.2.1"
OTHER = "flink-1.20.5"
NO_JAVA = "/nonexistent/java"  # the install stops at its Java check, after the sweep

# child: starts the grandchild, writes its pid, then runs on or exits (`exit`)
WORKER = """
import os, signal, subprocess, sys, time
partial, out, name, then = sys.argv[1:5]
if name == "child":
    subprocess.Popen([sys.executable, __file__, partial, out, "grandchild", "run"])
else:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(os.path.join(out, name + ".tmp"), "w") as pid_file:
    pid_file.write(str(os.getpid()))
os.replace(os.path.join(out, name + ".tmp"), os.path.join(out, name + ".pid"))
if then == "exit":
    sys.exit(0)
for _ in range(3000):  # a minute at most, should a failing test leave it
    try:
        with open(os.path.join(partial, name + ".beat"), "a") as beat:
            beat.write(".")
    except OSError:
        with open(os.path.join(out, "witness"), "a") as witness:
            witness.write(name + " ran on after the partial directory was gone\\n")
    time.sleep(0.02)
"""

# `rtc up`: starts the child as the installer does, reaps it if it ends, waits to be killed
RTC_UP = """
import sys, time
from pathlib import Path
from rtcompute.runtime.engines import children, installer
home, version, command = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
pids = installer.Installer(home, wheelhouse=None).pids_of(version)
process, _ = children.start(command, pids=pids, what="a test child")
print(process.pid, flush=True)
process.wait()
time.sleep(300)
"""


@dataclasses.dataclass
class Left:
    home: Path
    witness: Path
    rtc_up: int
    child: int
    grandchild: int


def alive(pid: int) -> bool:
    """Runs (a zombie, dead and waiting for its parent to reap it, has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status and "\nState:\tX" not in status


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 on ([] for no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat[stat.rfind(")") + 2 :].split()


def parent_of(pid: int) -> int:
    return int(stat_fields(pid)[1])


def members_of(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (field 5 of their stat)."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    return [pid for pid in pids if stat_fields(pid)[2:3] == [str(pgid)] and alive(pid)]


def started_at(pid: int) -> str | None:
    fields = stat_fields(pid)
    return fields[19] if fields else None


class Leftovers:
    """The processes a test started, killed at its end whatever the code under test did."""

    def __init__(self) -> None:
        self.started: dict[int, str | None] = {}

    def add(self, *pids: int) -> None:
        self.started.update((pid, started_at(pid)) for pid in pids)

    def kill(self) -> None:
        for pid, start in self.started.items():
            if start is not None and started_at(pid) == start:  # not a later process
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def cleanup() -> Iterator[Leftovers]:
    left = Leftovers()
    yield left
    left.kill()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def read_pid(path: Path) -> int:
    wait_for(path.exists, str(path))
    return int(path.read_text())


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir())


@pytest.fixture
def killed_rtc_up(tmp_path: Path, cleanup: Leftovers) -> Callable[[str], Left]:
    """Leaves a child (running on, or exited: `then`) and its grandchild as a killed `rtc up`
    would: recorded, reparented, writing into the partial directory."""
    home = tmp_path / "engines"
    partial = home / f".{VERSION}.partial"
    partial.mkdir(parents=True)
    (partial / "bin").mkdir()  # what a venv step had made so far
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)

    def leave(then: str) -> Left:
        child = [sys.executable, str(worker), str(partial), str(tmp_path), "child", then]
        rtc_up = subprocess.Popen(
            [sys.executable, "-c", RTC_UP, str(home), VERSION, *child],
            stdout=subprocess.PIPE,
            text=True,
        )
        cleanup.add(rtc_up.pid)
        assert rtc_up.stdout is not None
        child_pid = int(rtc_up.stdout.readline())
        assert read_pid(tmp_path / "child.pid") == child_pid
        grandchild_pid = read_pid(tmp_path / "grandchild.pid")
        cleanup.add(child_pid, grandchild_pid)
        wait_for((partial / "grandchild.beat").exists, "the grandchild's first write")
        if then == "exit":  # reaped by `rtc up`: its pid names nothing any more
            wait_for(lambda: not Path(f"/proc/{child_pid}").exists(), "the child's end")
        rtc_up.kill()
        rtc_up.wait()
        rtc_up.stdout.close()
        return Left(home, tmp_path / "witness", rtc_up.pid, child_pid, grandchild_pid)

    return leave


def assert_orphaned(left: Left) -> None:
    """The child and grandchild run on: the killed `rtc up` did not take them along, they
    run under another parent."""
    assert alive(left.child) and alive(left.grandchild)
    assert parent_of(left.child) not in (left.rtc_up, os.getpid())


def test_a_killed_install_is_stopped_before_its_directory_is_reused(
    killed_rtc_up: Callable[[str], Left],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    left = killed_rtc_up("run")
    assert_orphaned(left)
    assert (left.home / f".{VERSION}.pids").exists()
    monkeypatch.setattr(installer, "LEFT_OVER_GRACE_SECONDS", 0.5)
    caplog.set_level(logging.WARNING, logger=installer.__name__)

    again = installer.Installer(left.home, wheelhouse=None, java=NO_JAVA)
    started = time.monotonic()
    with pytest.raises(installer.InstallFailed, match="Java not found"):
        again.install(VERSION, lambda event: None)

    # both stopped, the grandchild by SIGKILL after its grace
    assert not alive(left.child)
    assert not alive(left.grandchild)
    assert time.monotonic() - started >= 0.5
    # and only then was the partial directory discarded: no write of theirs found it gone
    assert not left.witness.exists(), left.witness.read_text()
    assert leftovers(left.home) == []  # no partial directory, no record
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "a test child" in warnings[0]
    assert str(left.child) in warnings[0] and str(left.grandchild) in warnings[0]


def test_a_grandchild_whose_leader_ended_is_stopped_by_a_removal(
    killed_rtc_up: Callable[[str], Left], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the leader (pip, the verifier's Python) ended and was reaped; its JVM runs on alone,
    # known only by the token in its environment
    left = killed_rtc_up("exit")
    assert not Path(f"/proc/{left.child}").exists()
    assert alive(left.grandchild)
    monkeypatch.setattr(installer, "LEFT_OVER_GRACE_SECONDS", 0.2)

    installer.Installer(left.home, wheelhouse=None).remove(VERSION)

    assert not alive(left.grandchild)
    assert not left.witness.exists(), left.witness.read_text()
    assert leftovers(left.home) == []


def test_rtc_up_stops_what_every_record_names_as_it_starts(
    killed_rtc_up: Callable[[str], Left],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a version neither installed nor removed again: only the next `rtc up` stops its children
    left = killed_rtc_up("run")
    assert_orphaned(left)
    # and a version whose install was killed after its last child had ended
    engines = installer.Installer(left.home, wheelhouse=None)
    ended, _ = children.start(
        [sys.executable, "-c", "pass"], pids=engines.pids_of(OTHER), what="an ended child"
    )
    ended.wait(timeout=10)
    assert ended.stdout is not None
    ended.stdout.close()
    assert (left.home / f".{OTHER}.pids").exists()
    (left.home / ".not-a-version.pids").write_text("[]\n")  # not ours: left alone
    monkeypatch.setattr(installer, "LEFT_OVER_GRACE_SECONDS", 0.2)
    caplog.set_level(logging.WARNING, logger=installer.__name__)

    assert engines.stop_left_overs() == [VERSION]

    assert not alive(left.child)
    assert not alive(left.grandchild)
    # the partial directory is the next install's to discard; it was there until they ended
    assert not left.witness.exists(), left.witness.read_text()
    assert leftovers(left.home) == [f".{VERSION}.partial", ".not-a-version.pids"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert VERSION in warnings[0] and "a test child" in warnings[0]
    assert engines.stop_left_overs() == []  # nothing left to stop


# a child that runs on, and one that ends at once leaving its grandchild in the group
SLEEPER = "import time; time.sleep(300)"
LEAVER = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', {sleeper!r}])"


@pytest.mark.parametrize(
    ("command", "changed"),
    [
        # the pid was reused: a live process under that number started at another time
        (SLEEPER, {"start_time": -1}),
        # the group number was reused: its leader is gone, its members are not ours
        (LEAVER.format(sleeper=SLEEPER), {"token": "another-groups-token"}),
    ],
    ids=["recycled-pid", "recycled-group"],
)
def test_a_record_never_stops_a_process_that_is_not_its_own(
    tmp_path: Path, cleanup: Leftovers, command: str, changed: dict[str, int | str]
) -> None:
    home = tmp_path / "engines"
    home.mkdir()
    engines = installer.Installer(home, wheelhouse=None, java=NO_JAVA)
    record = processes.GroupRecord(engines.pids_of(VERSION))
    process, group = children.start(
        [sys.executable, "-c", command], pids=record.path, what="someone else's"
    )
    cleanup.add(process.pid)
    try:
        if "token" in changed:
            process.wait(timeout=10)  # the leader ended and is reaped
        members = members_of(group.pgid)
        cleanup.add(*members)
        assert len(members) == 1, "the group runs: one sleeper"
        assert processes.running(group) == members  # as recorded, the group is ours
        # the record as it would read had the number gone to this unrelated group
        start_time = group.start_time + int(changed.get("start_time", 0))
        token = str(changed.get("token", group.token))
        record.drop(group)
        record.add("a test child", dataclasses.replace(group, start_time=start_time, token=token))

        with pytest.raises(installer.InstallFailed, match="Java not found"):
            engines.install(VERSION, lambda event: None)

        assert all(alive(pid) for pid in members), "an unrelated process was stopped"
        assert leftovers(home) == []  # the stale record is gone all the same
    finally:
        cleanup.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
