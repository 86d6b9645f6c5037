"""The cgroups that hold a sandboxed process to its CU (docs/security.md, "Tenant isolation").

Every tenant process gets cgroups of its own, named by a key (`<run>-<process>`), with a CPU
guarantee and ceiling, a memory limit and a process count; they are made before it starts and
removed after it ends. A host has one of two layouts, found once (`host`):

- **v1** (one hierarchy per controller, as on these machines): a directory per controller,
  below `rtc up`'s own cgroup of that controller (`.../cpu/<own>/rtcompute/<key>`);
  `cpu.shares` and `cpu.cfs_quota_us`, `memory.limit_in_bytes`, `pids.max`.
- **v2** (the unified hierarchy): one directory, `/sys/fs/cgroup/rtcompute/<key>` (as
  Docker's cgroupfs driver does: the namespace's root hands the controllers down, since a
  cgroup that holds processes cannot); `cpu.weight` and `cpu.max`, `memory.max` with
  `memory.swap.max` 0, `pids.max`.

Either way the caller gets the `cgroup.procs` files to move the process into, and the number
of processes the memory limit killed (`oom_killed`).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CONTROLLERS = ("cpu", "memory", "pids")
ROOT = Path("/sys/fs/cgroup")
GROUP = "rtcompute"
CPU_PERIOD_US = 100_000
# cpu.shares (v1) of one core: under contention, processes get CPU in proportion to their CU
SHARES_PER_CORE = 1024
# the hard ceiling, in cores per CU core: a 1-slot TaskManager runs a source thread and an
# operator thread beside the JVM's own; capped at exactly one core, a window aggregate ran
# at 0.54 of bare PyFlink (bench/jobs.py, 2026-12-06). The CU is the guarantee (shares), the
# ceiling keeps a job from taking more than twice what it pays for
CPU_CEILING = 2.0


@dataclass(frozen=True)
class Limits:
    """What a process may use: its CU (the guide: 1 CU = 1 core and 4 GB)."""

    cpu_cores: float
    memory_mb: int
    max_pids: int = 4096

    @property
    def shares(self) -> int:
        return int(self.cpu_cores * SHARES_PER_CORE)

    @property
    def quota_us(self) -> int:
        return int(self.cpu_cores * CPU_CEILING * CPU_PERIOD_US)

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 1024 * 1024

    @property
    def weight(self) -> int:
        """cpu.weight (v2, 1..10000) of the same share: the kernel's own conversion."""
        return max(1, min(10000, 1 + (self.shares - 2) * 9999 // 262142))


class Layout(Protocol):
    def problem(self) -> str | None:
        """Why cgroups cannot be made here, or None."""

    def directories(self, key: str) -> list[Path]: ...

    def make(self, key: str, limits: Limits) -> list[Path]:
        """Fresh cgroups for `key` (an empty one left by its last life is removed first, so
        `oom_killed` counts the kills of this life only); their `cgroup.procs` files."""

    def oom_killed(self, key: str) -> int: ...

    def file(self, key: str, controller: str, name: str) -> Path:
        """One of the controller's files of `key` (tests and diagnostics)."""


@dataclass(frozen=True)
class V1:
    own: Callable[[str], Path]  # this process's cgroup of a controller
    root: Path = ROOT

    def problem(self) -> str | None:
        for controller in CONTROLLERS:
            if not self.own(controller).is_dir():
                return f"the cgroup v1 controller `{controller}` is not mounted at {self.root}"
        return None

    def directories(self, key: str) -> list[Path]:
        return [self.own(c) / GROUP / key for c in CONTROLLERS]

    def make(self, key: str, limits: Limits) -> list[Path]:
        cpu, memory, pids = (_fresh(d) for d in self.directories(key))
        _write(cpu / "cpu.cfs_period_us", CPU_PERIOD_US)
        _write(cpu / "cpu.shares", limits.shares)
        _write(cpu / "cpu.cfs_quota_us", limits.quota_us)
        _write(memory / "memory.limit_in_bytes", limits.memory_bytes)
        _write(pids / "pids.max", limits.max_pids)
        return [d / "cgroup.procs" for d in (cpu, memory, pids)]

    def oom_killed(self, key: str) -> int:
        return _counter(self.file(key, "memory", "memory.oom_control"), "oom_kill")

    def file(self, key: str, controller: str, name: str) -> Path:
        return self.own(controller) / GROUP / key / name


@dataclass(frozen=True)
class V2:
    root: Path = ROOT

    def problem(self) -> str | None:
        available = _words(self.root / "cgroup.controllers")
        for controller in CONTROLLERS:
            if controller not in available:
                return f"the cgroup v2 controller `{controller}` is not available at {self.root}"
        try:
            self._hand_down()
        except OSError as error:
            return (
                f"the cgroup v2 controllers cpu, memory and pids cannot be handed down from "
                f"{self.root} ({error.strerror}): a cgroup that holds processes cannot; run "
                "rtc up where the cgroup tree is its own (the host's, or a delegated one)"
            )
        return None

    def directories(self, key: str) -> list[Path]:
        return [self.root / GROUP / key]

    def make(self, key: str, limits: Limits) -> list[Path]:
        self._hand_down()
        directory = _fresh(self.root / GROUP / key)
        _write(directory / "cpu.weight", limits.weight)
        (directory / "cpu.max").write_text(f"{limits.quota_us} {CPU_PERIOD_US}\n")
        _write(directory / "memory.max", limits.memory_bytes)
        if (directory / "memory.swap.max").exists():  # no swap: over the limit is a kill
            _write(directory / "memory.swap.max", 0)
        _write(directory / "pids.max", limits.max_pids)
        return [directory / "cgroup.procs"]

    def oom_killed(self, key: str) -> int:
        return _counter(self.file(key, "memory", "memory.events"), "oom_kill")

    def file(self, key: str, controller: str, name: str) -> Path:
        return self.root / GROUP / key / name

    def _hand_down(self) -> None:
        """The controllers enabled for the root's children and for rtcompute's."""
        group = self.root / GROUP
        for directory in (self.root, group):
            directory.mkdir(exist_ok=True)
            control = directory / "cgroup.subtree_control"
            missing = [c for c in CONTROLLERS if c not in _words(control)]
            if missing:
                control.write_text(" ".join(f"+{c}" for c in missing) + "\n")


def layout(root: Path, own: Callable[[str], Path]) -> Layout:
    """The host's layout: v1 where its controllers are mounted (a hybrid host's empty
    unified hierarchy aside), else v2 where the root is the unified hierarchy."""
    if all(own(c).is_dir() for c in CONTROLLERS):
        return V1(own, root)
    if (root / "cgroup.controllers").exists():
        return V2(root)
    return V1(own, root)


def own_v1(controller: str, root: Path = ROOT) -> Path:
    """This process's cgroup directory of a v1 controller (children go below it)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return root / controller / path.lstrip("/")
    return root / controller


@functools.cache
def host() -> Layout:
    return layout(ROOT, own_v1)


def make(key: str, limits: Limits) -> list[Path]:
    return host().make(key, limits)


def remove(key: str, *, wait: float = 1.0) -> None:
    """Remove the process's cgroups once they are empty: bwrap's own processes leave a
    moment after the sandboxed one, so this retries for up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        for directory in host().directories(key):
            with contextlib.suppress(OSError):
                directory.rmdir()
        if not exists(key) or time.monotonic() >= deadline:
            return
        time.sleep(0.02)


def exists(key: str) -> bool:
    return any(d.exists() for d in host().directories(key))


def oom_killed(key: str) -> int:
    """How many times the memory limit of process `key` killed a process."""
    return host().oom_killed(key)


def of(pid: int, controller: str, root: Path = ROOT) -> Path | None:
    """The cgroup directory a process is in, for one controller (tests and diagnostics)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            number, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return root / controller / path.lstrip("/")
            if number == "0" and isinstance(host(), V2):
                return root / path.lstrip("/")
    return None


def _fresh(directory: Path, *, wait: float = 1.0) -> Path:
    """An empty cgroup: one left by the process's last life is removed first, once bwrap's
    own processes, which leave a moment after the sandboxed one, have left it too."""
    deadline = time.monotonic() + wait
    while directory.exists():
        try:
            directory.rmdir()
        except OSError:  # still holding a process
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n")


def _words(path: Path) -> set[str]:
    with contextlib.suppress(OSError):
        return set(path.read_text().split())
    return set()


def _counter(path: Path, name: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            if line.startswith(f"{name} "):
                return int(line.split()[1])
    return 0
