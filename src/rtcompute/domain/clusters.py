"""Cluster and node states, the moves between them, and the shape rules of a cluster.

Services move a cluster only along `TRANSITIONS`; the reconciler does the same from the
other side. Each rule names the race it prevents, so a second writer that lost a race gets
a Conflict instead of undoing the first one's work.
"""

from __future__ import annotations

from dataclasses import dataclass

STARTING = "starting"
RUNNING = "running"
SCALING_OUT = "scaling_out"
SCALING_IN = "scaling_in"
FAILED = "failed"
EXPIRED = "expired"
RELEASING = "releasing"
RELEASED = "released"
# guide: 版本部署中, one engine version install at a time
DEPLOYING = "deploying"

STATES = (
    STARTING,
    RUNNING,
    SCALING_OUT,
    SCALING_IN,
    DEPLOYING,
    FAILED,
    EXPIRED,
    RELEASING,
    RELEASED,
)
# the Chinese of each state (the console's labels), for the sentences of errors
STATES_ZH = {
    STARTING: "启动中",
    RUNNING: "运行中",
    SCALING_OUT: "扩容中",
    SCALING_IN: "缩容中",
    DEPLOYING: "版本部署中",
    FAILED: "失败",
    EXPIRED: "已过期",
    RELEASING: "释放中",
    RELEASED: "已释放",
}
# states in which the cluster's processes should be up
ACTIVE = frozenset({STARTING, RUNNING, SCALING_OUT, SCALING_IN, DEPLOYING})


@dataclass(frozen=True)
class Transition:
    """FROM states -> TO state; `why` names the race the rule prevents."""

    sources: frozenset[str]
    target: str
    why: str


TRANSITIONS = (
    Transition(
        frozenset({STARTING, SCALING_OUT, SCALING_IN, FAILED}),
        RUNNING,
        "only the reconciler declares running, and only after every component answered",
    ),
    Transition(
        frozenset({RUNNING}),
        SCALING_OUT,
        "a scale of a cluster that is still starting or scaling would race its own nodes",
    ),
    Transition(frozenset({RUNNING}), SCALING_IN, "same as scaling out"),
    Transition(
        frozenset({RUNNING}),
        DEPLOYING,
        "one install at a time, and not while the cluster's own nodes are changing",
    ),
    Transition(
        frozenset({DEPLOYING}),
        RUNNING,
        "only the engine reconciler ends a deployment, after the install succeeded or failed",
    ),
    Transition(
        frozenset({STARTING, RUNNING, SCALING_OUT, SCALING_IN, DEPLOYING}),
        FAILED,
        "a released cluster never fails again; its processes are gone",
    ),
    Transition(
        frozenset({STARTING, RUNNING, SCALING_OUT, SCALING_IN, DEPLOYING, FAILED}),
        EXPIRED,
        "an expired subscription stops its processes; release wins over expiry",
    ),
    Transition(
        frozenset({EXPIRED}),
        STARTING,
        "a renewal restarts an expired cluster; a running one only gets a later end",
    ),
    Transition(
        frozenset({STARTING, RUNNING, SCALING_OUT, SCALING_IN, DEPLOYING, FAILED, EXPIRED}),
        RELEASING,
        "release is final: nothing moves a releasing cluster but the reconciler",
    ),
    Transition(frozenset({RELEASING}), RELEASED, "only the reconciler finishes a release"),
)


def can_move(source: str, target: str) -> bool:
    return any(source in rule.sources and rule.target == target for rule in TRANSITIONS)


# letters, digits and underscores, starting with a letter (also used in resource names)

# node states
NODE_PENDING = "pending"  # placed (address, zone), no processes yet
NODE_STARTING = "starting"
NODE_RUNNING = "running"
NODE_FAILED = "failed"
NODE_REMOVING = "removing"  # scale-in or release: stop its processes, then drop it

# components
AGENT = "agent"
ZOOKEEPER = "zookeeper"

# guide: masters 1 or 3 (3: high availability), at least 2 slaves
MASTER_COUNTS = (1, 3)
MIN_SLAVES = 2
MAX_SLAVES = 200


def node_name(role: str, index: int) -> str:
    return f"{role}-{index}"


def components_of(role: str, master_count: int) -> tuple[str, ...]:
    """Every node runs an agent; with 3 masters, each master also hosts a ZooKeeper member."""
    if role == "master" and master_count == 3:
        return (AGENT, ZOOKEEPER)
    return (AGENT,)


def usable_cu(slave_cu: int, slave_count: int) -> int:
    return slave_cu * slave_count
