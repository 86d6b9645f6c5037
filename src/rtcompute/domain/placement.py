"""Where a node's processes listen: one block of ports per node, and fixed offsets inside it.

Every node of every cluster owns `ports_per_node` consecutive ports. The block is chosen
here, purely: the lowest one that overlaps no other node's block and that the host says it
can bind (the caller passes that check in, so this module stays free of sockets). Fixed
offsets mean a node's ports can be derived from its `port_base` alone, by the reconciler
that starts a process and by the one that adopts it after a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# offsets inside a node's block
AGENT_OFFSET = 0  # the node agent's HTTP port (GET /health)
ZOOKEEPER_CLIENT_OFFSET = 1
ZOOKEEPER_PEER_OFFSET = 2  # followers talk to the leader here
ZOOKEEPER_ELECTION_OFFSET = 3
# offsets 4.. are kept for the JobManagers and TaskManagers of later issues
MIN_PORTS_PER_NODE = 4


def lowest_free_block(
    used: Iterable[int],
    *,
    port_min: int,
    port_max: int,
    size: int,
    bindable: Callable[[int], bool],
) -> int | None:
    """The first base (port_min + k*size) whose block overlaps no used block and binds."""
    # invariant: `size` is the operator's RTC_LOCAL_PROVIDER__PORTS_PER_NODE, never user input
    if size < MIN_PORTS_PER_NODE:
        raise ValueError(f"a node needs at least {MIN_PORTS_PER_NODE} ports, got {size}")
    taken = sorted(used)
    base = port_min
    while base + size - 1 <= port_max:
        overlaps = any(other < base + size and base < other + size for other in taken)
        if not overlaps and bindable(base):
            return base
        base += size
    return None
