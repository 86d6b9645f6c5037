"""Port ranges of the servers and clusters a test run starts.

pytest-xdist workers run side by side on one machine, each with its own databases and
servers, which know nothing of each other's ports. So each worker gets its own slice of the
`local` provider's range (nodes: 21000-29999) and of the per-job clusters' range (jobs:
30000 up to the kernel's ephemeral ports, 32767 here): `slice_env()` makes the slice every
server and platform of the worker defaults to, and the windows a test asks for are handed
out in turn within the slice, so two of one worker's servers alive at once do not meet
either.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path


def _first_ephemeral_port() -> int:
    """Where the kernel's ports for outgoing connections begin (32768 by default): a port
    above it can be taken by any client socket of the machine at any moment."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


NODES = (21000, 29999)
# the per-job clusters' range (30000-39999) below the ephemeral ports: a JobManager of a
# test once found its REST port taken by a client socket at 33336
JOBS = (30000, min(39999, _first_ephemeral_port() - 1))
NODE_WINDOW = 400  # 40 nodes of 10 ports
JOB_WINDOW = 256  # 8 runs of 32 ports

_turns = {NODES: itertools.count(), JOBS: itertools.count()}


def worker() -> tuple[int, int]:
    """(index, count) of this pytest-xdist worker; (0, 1) without xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    return (int(name[2:]) if name.startswith("gw") else 0), count


def worker_slice(span: tuple[int, int]) -> tuple[int, int]:
    index, count = worker()
    size = (span[1] - span[0] + 1) // count
    return span[0] + index * size, span[0] + (index + 1) * size - 1


def window(span: tuple[int, int], size: int) -> tuple[int, int]:
    """The next window of `size` ports of this worker's slice of `span` (in turn, wrapping)."""
    low, high = worker_slice(span)
    fits = (high - low + 1) // size
    start = low + next(_turns[span]) % fits * size
    return start, start + size - 1


def port_window() -> dict[str, int]:
    """Local provider settings for a platform or server: its own nodes' window."""
    low, high = window(NODES, NODE_WINDOW)
    return {"port_min": low, "port_max": high}


def node_env() -> dict[str, str]:
    return {f"RTC_LOCAL_PROVIDER__{k.upper()}": str(v) for k, v in port_window().items()}


def job_env() -> dict[str, str]:
    """A server's own window of per-job cluster ports (8 runs)."""
    low, high = window(JOBS, JOB_WINDOW)
    return {"RTC_JOBS__PORT_MIN": str(low), "RTC_JOBS__PORT_MAX": str(high)}


def slice_env() -> dict[str, str]:
    """This worker's slices as the defaults of every server and platform it makes."""
    nodes, jobs = worker_slice(NODES), worker_slice(JOBS)
    return {
        "RTC_LOCAL_PROVIDER__PORT_MIN": str(nodes[0]),
        "RTC_LOCAL_PROVIDER__PORT_MAX": str(nodes[1]),
        "RTC_JOBS__PORT_MIN": str(jobs[0]),
        "RTC_JOBS__PORT_MAX": str(jobs[1]),
    }
