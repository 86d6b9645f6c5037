"""The sandbox of every process that runs tenant input (docs/security.md, "Tenant isolation").

A tenant's job runs in JobManagers and TaskManagers on machines the operator owns, with the
tenant's JARs on their class path: whatever they run must not reach the host, the platform
or another tenant. Each such process starts like this, from the inside out:

- `env -i` and an environment made here (`clean_environment`): nothing of `rtc up`'s;
- `setpriv`: the account's own unprivileged Unix user (made on first use, `rtc<account>`),
  no capabilities, no new privileges;
- `bwrap` (bubblewrap): a filesystem of its own where only the system's programs and
  libraries (read-only), the engine (read-only), its run directory and the state and bucket
  directories it is given (`Mount`) exist; its own /tmp, /proc (a pid namespace: no other
  process is visible) and IPC namespace;
- a shell that first moves itself into its cgroups (runtime/cgroups.py: v1 or v2) sized
  from the CU (`Limits`), then execs the rest, so the pid stays the same throughout.

The host's network namespace is kept (a JobManager binds the node's address); who may talk
to a run's ports is the business of the network rules (runtime/netrules.py).

The process that matters (the JVM) is the innermost one: `bwrap` runs it as a child, so the
launcher records the JVM's pid, found below bwrap by its marker argument (`inner_pid`).
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rtcompute.runtime import cgroups
from rtcompute.runtime.cgroups import Limits

# where the binaries of a clean environment come from (Java's own bin dir goes first)
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
LOCALE = "C.UTF-8"
USER_PREFIX = "rtc"
CU_MEMORY_MB = 4096  # guide: 1 CU = 1 core and 4 GB
# read-only system paths a JVM needs; those missing on a host are left out
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
ETC_PATHS = (
    "/etc/alternatives", "/etc/java-17-openjdk", "/etc/ssl", "/etc/ca-certificates",
    "/etc/localtime", "/etc/timezone", "/etc/hosts", "/etc/nsswitch.conf", "/etc/resolv.conf",
    "/etc/host.conf", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
)  # fmt: skip
# moves the shell into each cgroup named before `--`, then execs what follows
_ENTER_CGROUPS = (
    'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"'
)
_user_lock = threading.Lock()
# tenants' users get ids of their own range: never a system account's or a person's
UID_RANGE = {"UID_MIN": 200000, "UID_MAX": 299999, "GID_MIN": 200000, "GID_MAX": 299999}


@dataclass(frozen=True)
class Mount:
    path: str
    writable: bool
    owned: bool = False  # the tenant's own (its state): chowned to its user at each start


@dataclass(frozen=True)
class Tenant:
    """Whose processes these are: the account's user, and what they may see."""

    user: str
    mounts: tuple[Mount, ...]
    # port ranges (first, last) whose ports the tenant may reach on no address but its own
    # runs' blocks and its cluster's ZooKeeper (runtime/netrules.py): the platform's jobs'
    # and nodes' ranges, so that on joined hosts no tenant reaches another's run
    closed_ports: tuple[tuple[int, int], ...] = ()


def taskmanager_limits(slots: int, process_mb: int) -> Limits:
    """A TaskManager's CU: a core and 4 GB per slot (never below its own process size)."""
    return Limits(cpu_cores=float(slots), memory_mb=max(slots * CU_MEMORY_MB, process_mb))


def jobmanager_limits(process_mb: int) -> Limits:
    """A JobManager's share: a core, and twice its process size (it stays near a quarter
    of it: FLINK-NOTES)."""
    return Limits(cpu_cores=1.0, memory_mb=2 * process_mb)


def clean_environment(
    extra: Mapping[str, str], *, java_home: str | None = None, home: Path | None = None
) -> dict[str, str]:
    """An environment made from nothing: PATH, locale, HOME, JAVA_HOME, then `extra`."""
    path = SAFE_PATH if java_home is None else f"{Path(java_home) / 'bin'}:{SAFE_PATH}"
    env = {"PATH": path, "LANG": LOCALE, "LC_ALL": LOCALE}
    if home is not None:
        env["HOME"] = str(home)
    if java_home is not None:
        env["JAVA_HOME"] = java_home
    env.update(extra)
    return env


def java_home_of(java: str) -> str | None:
    """JAVA_HOME of a `java` binary (its real path's grandparent), or None if not found."""
    if not os.path.exists(java):
        return None
    return str(Path(os.path.realpath(java)).parent.parent)


def user_of(account_id: str) -> str:
    """The Unix user of an account's processes: `rtc` and the account id (digits)."""
    return f"{USER_PREFIX}{account_id}"


def unavailable() -> str | None:
    """Why this host cannot sandbox tenants' processes, or None when it can."""
    if os.geteuid() != 0:
        return "rtc up does not run as root (it makes users, cgroups and mount namespaces)"
    for tool in ("bwrap", "setpriv", "useradd", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (Debian: bubblewrap, util-linux, passwd, nftables)"
    return cgroups.host().problem()


def ensure_user(name: str) -> tuple[int, int]:
    """(uid, gid) of the user, made now (own group, no home, no shell, ids from UID_RANGE)."""
    with _user_lock:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            subprocess.run(
                ["useradd", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", "--user-group",
                 *(f"-K{k}={v}" for k, v in UID_RANGE.items()), name],
                check=False, capture_output=True, timeout=60,
            )  # fmt: skip
            entry = pwd.getpwnam(name)  # a concurrent useradd made it: fine
        return entry.pw_uid, entry.pw_gid


def group_name(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


def own(paths: Iterable[Path], uid: int, gid: int) -> None:
    """chown -R: the process's user owns its run directory and the state it writes."""
    for root in paths:
        if not root.exists():
            continue
        os.chown(root, uid, gid)
        for directory, dirs, files in os.walk(root):
            for name in (*dirs, *files):
                with contextlib.suppress(FileNotFoundError):
                    os.chown(os.path.join(directory, name), uid, gid, follow_symlinks=False)


def wrap(
    argv: Sequence[str],
    *,
    key: str,
    tenant: Tenant,
    limits: Limits,
    readable: Sequence[str],
    workdir: Path,
    network: bool = True,
) -> list[str]:
    """The command line that runs `argv` (an `env -i ...` line) inside the sandbox; without
    `network`, in a network namespace of its own (a loopback of its own and nothing else)."""
    uid, gid = ensure_user(tenant.user)
    procs = cgroups.make(key, limits)
    view: list[str] = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            view += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            view += ["--ro-bind", path, path]
    view += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC_PATHS:
        if os.path.exists(path):
            view += ["--ro-bind", path, path]
    view += ["--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--tmpfs", "/tmp"]
    made: set[str] = {"/", "/etc", "/tmp", "/proc", "/dev", *SYSTEM_PATHS}
    binds = [(p, False) for p in readable] + [(m.path, m.writable) for m in tenant.mounts]
    binds.append((str(workdir), True))
    for path, writable in sorted(binds, key=lambda b: b[0].count("/")):
        if not os.path.exists(path):
            continue
        for parent in reversed(Path(path).parents):
            if str(parent) not in made:
                view += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        view += ["--bind" if writable else "--ro-bind", path, path]
        made.add(path)
    return [
        "sh", "-c", _ENTER_CGROUPS, "rtc-sandbox", *map(str, procs), "--",
        "bwrap", *view, "--unshare-pid", "--unshare-ipc",
        *(() if network else ("--unshare-net",)), "--chdir", str(workdir), "--",
        "setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
        "--inh-caps=-all", "--bounding-set=-all", "--",
        *argv,
    ]  # fmt: skip


def inner_pid(outer: int, is_ours: Callable[[int], bool], *, timeout: float = 10.0) -> int | None:
    """The pid of the sandboxed command below `outer` (bwrap runs it as a child), once it
    has exec'd (`is_ours(pid)` is true for it), or None if it never appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in _descendants(outer):
            if is_ours(pid):
                return pid
        if not Path(f"/proc/{outer}").exists():
            return None
        time.sleep(0.02)
    return None


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                for child in children:
                    found.append(int(child))
                    pending.append(int(child))
    return found


# the shared engine workers' own user: they plan every tenant's SQL but run no tenant code
WORKER_USER = "rtcworker"


def python_home(venv: Path) -> str | None:
    """The base interpreter's prefix a virtual environment runs on (pyvenv.cfg `home`)."""
    with contextlib.suppress(OSError):
        for line in (venv / "pyvenv.cfg").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home":
                return str(Path(os.path.realpath(value.strip())).parent)
    return None


def process_tree(pid: int) -> list[int]:
    return [pid, *_descendants(pid)]


def listening_ports(pids: Iterable[int]) -> set[int]:
    """The TCP ports the processes listen on, in their own network namespaces (from /proc:
    their sockets' inodes; tests and diagnostics)."""
    pids = list(pids)
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[len("socket:[") : -1])
    ports: set[int] = set()
    for pid in pids:
        for table in (f"/proc/{pid}/net/tcp", f"/proc/{pid}/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
