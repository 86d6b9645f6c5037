"""Observed state of clusters, as the cluster reconciler records it.

Services elsewhere write what a cluster should be (create, scale, release, expire); this
module is the other half: it hands the reconciler a snapshot of the clusters it must work
on, gives pending nodes their port block and directory, and writes back what the
reconciler saw and did in one short transaction per cluster. Nothing here waits on a
process: the reconciler acts between a snapshot and its write, outside any transaction,
so a slow probe never holds a database lock.

Messages are written in both languages (domain/cluster_events.py): a tenant reads them on
the cluster's page and in the API, so they never carry a server path or a setting's name;
what the operator needs is logged here or by the reconciler.

A write re-reads the rows: a cluster released or a node marked for removal between the
snapshot and the write keeps its new desired state (the cluster moves only if it is still
in the state the reconciler saw, and only along `domain.clusters.can_move`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rtcompute.domain import cluster_events, placement
from rtcompute.domain import clusters as cluster_rules
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import cluster_nodes, db
from rtcompute.store import clusters as cluster_store
from rtcompute.store import hosts as host_store
from rtcompute.store.tables import capacity as capacity_tables

log = logging.getLogger("rtcompute.services.capacity.cluster_nodes")
Said = cluster_events.Said
# component states
COMPONENT_STARTING = "starting"
COMPONENT_RUNNING = "running"
COMPONENT_FAILED = "failed"
COMPONENT_STOPPED = "stopped"

# clusters the reconciler looks at: everything that has processes to start, watch or stop
WATCHED = cluster_rules.ACTIVE | {cluster_rules.RELEASING, cluster_rules.EXPIRED}

PORT_OFFSETS = {
    cluster_rules.AGENT: placement.AGENT_OFFSET,
    cluster_rules.ZOOKEEPER: placement.ZOOKEEPER_CLIENT_OFFSET,
}


@dataclass(frozen=True)
class ComponentView:
    id: int
    node_id: int
    kind: str
    port: int
    pid: int | None
    state: str
    since: datetime
    restarts: int
    message: Said


@dataclass(frozen=True)
class HostLink:
    """How the platform reaches the agent of the host a node runs on (a hosts zone)."""

    name: str
    address: str
    agent_port: int
    public_key: str
    lost: bool = False


@dataclass(frozen=True)
class NodeView:
    id: int
    name: str
    role: str
    port_base: int | None
    directory: str
    state: str
    since: datetime
    components: tuple[ComponentView, ...] = ()
    host: HostLink | None = None


@dataclass(frozen=True)
class ClusterView:
    id: int
    name: str
    state: str
    master_count: int
    message: Said
    nodes: tuple[NodeView, ...] = ()


@dataclass(frozen=True)
class ComponentChange:
    id: int
    pid: int | None
    state: str
    since: datetime
    restarts: int
    message: Said


@dataclass
class Outcome:
    """What one pass over one cluster saw and did, to be written back."""

    cluster_id: int
    seen_state: str
    components: list[ComponentChange] = field(default_factory=list)
    node_states: dict[int, str] = field(default_factory=dict)
    removed_nodes: list[int] = field(default_factory=list)
    state: str | None = None  # move the cluster here (if it is still in seen_state)
    message: Said | None = None  # the cluster's message (progress or what to do)


def snapshot(platform: platform_module.Platform) -> list[ClusterView]:
    """Every cluster with processes to start, watch or stop, with nodes and components."""
    with db.transaction(platform.sessions) as session:
        clusters = cluster_store.list_clusters(session=session, states=WATCHED)
        ids = [cluster.id for cluster in clusters]
        nodes = cluster_nodes.list_nodes(session=session, cluster_ids=ids) if ids else []
        components = cluster_nodes.list_components(session=session, cluster_ids=ids) if ids else []
        links = {
            node_id: HostLink(
                h.name, h.address, h.agent_port, h.public_key, h.lost_since is not None
            )
            for node_id, h in host_store.hosts_of_nodes(
                session=session, node_ids=[n.id for n in nodes]
            ).items()
        }
    by_node: dict[int, list[ComponentView]] = {}
    for c in components:
        by_node.setdefault(c.node_id, []).append(
            ComponentView(
                c.id,
                c.node_id,
                c.kind,
                c.port,
                c.pid,
                c.state,
                c.since,
                c.restarts,
                Said(c.message, c.message_zh),
            )
        )
    by_cluster: dict[int, list[NodeView]] = {}
    for n in nodes:
        view = NodeView(
            n.id,
            n.name,
            n.role,
            n.port_base,
            n.directory,
            n.state,
            n.since,
            tuple(by_node.get(n.id, ())),
            links.get(n.id),
        )
        by_cluster.setdefault(n.cluster_id, []).append(view)
    return [
        ClusterView(
            c.id,
            c.name,
            c.state,
            c.master_count,
            Said(c.message, c.message_zh),
            tuple(by_cluster.get(c.id, ())),
        )
        for c in clusters
    ]


def place_pending_nodes(
    platform: platform_module.Platform,
    cluster_id: int,
    *,
    directory_of: Callable[[str], str],
    bindable: Callable[[int], bool],
) -> Said | None:
    """Give each unplaced node a port block, a directory and its component rows.

    Returns None, or a message when the host has no free port block left (the range, a
    setting of the operator's, is logged for the operator, not told to the tenant)."""
    config = platform.settings.local_provider
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        cluster = cluster_store.read_cluster(session=session, cluster_id=cluster_id)
        if cluster is None or cluster.state not in cluster_rules.ACTIVE:
            return None
        nodes = cluster_nodes.list_nodes(session=session, cluster_ids=[cluster_id])
        used = cluster_nodes.used_port_bases(session=session)
        for node in nodes:
            if node.port_base is not None or node.state != cluster_rules.NODE_PENDING:
                continue
            port_base = placement.lowest_free_block(
                used,
                port_min=config.port_min,
                port_max=config.port_max,
                size=config.ports_per_node,
                bindable=bindable,
            )
            if port_base is None:
                log.warning(
                    "cluster %s: no free block of %d ports between %d and %d for %s: widen "
                    "RTC_LOCAL_PROVIDER__PORT_MAX, or release unused clusters",
                    cluster.name,
                    config.ports_per_node,
                    config.port_min,
                    config.port_max,
                    node.name,
                )
                return cluster_events.no_port_block(node.name)
            used.append(port_base)
            node.port_base = port_base
            node.directory = directory_of(node.name)
            node.state = cluster_rules.NODE_STARTING
            node.since = now
            for kind in cluster_rules.components_of(node.role, cluster.master_count):
                component = capacity_tables.ClusterComponent(
                    node_id=node.id,
                    cluster_id=cluster_id,
                    kind=kind,
                    port=port_base + PORT_OFFSETS[kind],
                    pid=None,
                    state=COMPONENT_STARTING,
                    restarts=0,
                    message="",
                    message_zh="",
                    since=now,
                )
                cluster_nodes.create_component(session=session, component=component)
            session.flush()
    return None


def record(platform: platform_module.Platform, outcome: Outcome) -> None:
    """Write one pass's outcome for one cluster in one transaction."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        cluster = cluster_store.read_cluster(session=session, cluster_id=outcome.cluster_id)
        if cluster is None:
            return
        for change in outcome.components:
            row = cluster_nodes.read_component(session=session, component_id=change.id)
            if row is None:
                continue
            row.pid, row.state, row.since = change.pid, change.state, change.since
            row.restarts = change.restarts
            row.message, row.message_zh = change.message.en, change.message.zh
        for node_id, state in outcome.node_states.items():
            node = cluster_nodes.read_node(session=session, node_id=node_id)
            # a node marked for removal since the snapshot keeps that mark
            if node is None or node.state == state or node.state == cluster_rules.NODE_REMOVING:
                continue
            node.state, node.since = state, now
        cluster_nodes.delete_nodes(session=session, node_ids=outcome.removed_nodes)
        moved = (
            outcome.state is not None
            and cluster.state == outcome.seen_state
            and cluster_rules.can_move(cluster.state, outcome.state)
        )
        if moved and outcome.state is not None:
            cluster.state, cluster.state_since = outcome.state, now
        if outcome.message is not None and (moved or cluster.state == outcome.seen_state):
            cluster.message, cluster.message_zh = outcome.message.en, outcome.message.zh
