"""What a job's run looks like from outside: its Flink JVMs on a test host, and which of its
JobManagers leads (shared by the multi-host tests and bench/hosts.py)."""

from __future__ import annotations

from pathlib import Path

from tests import netlab


def flink_pids(lab: netlab.Lab, i: int, marker: str, kind: str) -> list[int]:
    """The pids of the run's Flink JVMs of `kind` (jobmanager, taskmanager) in host i."""
    found = []
    for pid in netlab.namespace_pids(lab.names[i]):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = b" ".join(argv).decode(errors="replace")
        if marker in line and f"/conf/{kind}-" in line and argv[0].endswith(b"java"):
            found.append(pid)
    return found


def leading_jobmanager(run_dir: Path) -> str:
    """The JobManager (`jobmanager-N`) whose Dispatcher ZooKeeper made the leader last, from
    the JobManagers' logs under the run's directory."""
    grants = []
    for log in (run_dir / "log").glob("*jobmanager-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "Dispatcher" in line and "granted leadership" in line:
                grants.append((line[:23], log.name))
    if not grants:
        raise AssertionError(f"no JobManager of {run_dir} says it leads")
    latest = max(grants)[1]
    return "jobmanager-" + latest.split("jobmanager-", 1)[1].split(".", 1)[0].split("-")[0]


def uid_of(pid: int) -> int:
    """The real user id a process runs as."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"process {pid} has no Uid line")
