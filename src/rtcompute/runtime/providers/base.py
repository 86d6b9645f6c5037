"""What the cluster reconciler needs from a node provider, and nothing more.

The reconciler decides (which component should run, whether it answered in time, what the
cluster's state is); a provider only acts and observes: start a component, find the one
already running (adoption after a restart), probe it, stop it, remove a node. Specs are
plain values built from the database rows, so the `local` provider of today and the SSH or
Kubernetes providers of later issues plug in behind the same five calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rtcompute.domain import cluster_events
from rtcompute.domain.cluster_events import Said


@dataclass(frozen=True)
class ZooKeeperPeer:
    myid: int
    host: str
    client_port: int
    peer_port: int
    election_port: int


@dataclass(frozen=True)
class AgentLink:
    """The node agent of the joined host a node runs on (runtime/hostagent.py)."""

    name: str
    address: str
    port: int
    public_key: str


@dataclass(frozen=True)
class NodeSpec:
    cluster_id: int
    name: str
    directory: Path
    port_base: int
    host: str = "127.0.0.1"
    # on a joined host: its agent runs the node's processes (None: this machine)
    agent: AgentLink | None = None


@dataclass(frozen=True)
class ComponentSpec:
    """One process of one node: its kind, its main port, and for ZooKeeper the ensemble."""

    kind: str
    node: NodeSpec
    port: int
    myid: int = 0
    peers: tuple[ZooKeeperPeer, ...] = field(default=())


@dataclass(frozen=True)
class Health:
    """What a probe saw: `answers` is the verdict; `detail` says it in both languages (a
    tenant reads it); `mode` is ZooKeeper's leader/follower/... (a value)."""

    answers: bool
    detail: Said = cluster_events.NOTHING
    mode: str = ""


def component_to_dict(component: ComponentSpec) -> dict[str, Any]:
    """What a call to a host's agent carries of a component (the agent's link stays here)."""
    node = component.node
    return {
        "kind": component.kind,
        "port": component.port,
        "myid": component.myid,
        "peers": [asdict(peer) for peer in component.peers],
        "node": {
            "cluster_id": node.cluster_id,
            "name": node.name,
            "port_base": node.port_base,
            "host": node.host,
        },
    }


def component_from_dict(
    raw: dict[str, Any], directory_of: Callable[[int, str], Path]
) -> ComponentSpec:
    """The component a call names, its node's directory chosen by the receiving side."""
    node = raw["node"]
    cluster_id, name = int(node["cluster_id"]), str(node["name"])
    return ComponentSpec(
        kind=str(raw["kind"]),
        node=NodeSpec(
            cluster_id,
            name,
            directory_of(cluster_id, name),
            int(node["port_base"]),
            str(node["host"]),
        ),
        port=int(raw["port"]),
        myid=int(raw.get("myid", 0)),
        peers=tuple(ZooKeeperPeer(**peer) for peer in raw.get("peers", ())),
    )


class ProviderError(Exception):
    """A component cannot be started at all (missing package, unusable directory).

    `said` is what the tenant reads, in both languages; `detail` is what the operator needs
    (paths, the system's error), for the server log only."""

    def __init__(self, said: Said, detail: str = "") -> None:
        super().__init__(said.en)
        self.said = said
        self.detail = detail


class Provider(Protocol):
    name: str

    def node_directory(self, cluster_id: int, node_name: str) -> Path:
        """Where a node's files live (configuration, data, logs, pid files)."""

    def ports_available(self, port_base: int) -> bool:
        """Whether the node's whole port block can be bound on its host right now."""

    def find(self, component: ComponentSpec) -> int | None:
        """The pid of this component's live process, if one runs (adoption)."""

    def start(self, component: ComponentSpec) -> int:
        """Start the component's process without waiting for it; return its pid."""

    def probe(self, component: ComponentSpec) -> Health:
        """Ask the component whether it serves, within a short timeout."""

    def stop(self, components: Sequence[ComponentSpec]) -> None:
        """Stop these components' processes (bounded wait, then kill)."""

    def remove_node(self, node: NodeSpec) -> None:
        """Delete a node's files; its processes are stopped first."""

    def remove_cluster(self, cluster_id: int) -> None:
        """Delete what is left of a released cluster's files."""

    def log_of(self, component: ComponentSpec) -> str:
        """Where an operator reads why a component did not start (logged, never shown)."""
