"""The cluster reconciler: brings every exclusive cluster's nodes to what its state asks.

Each pass takes a snapshot of the watched clusters, places pending nodes (port block,
directory), then, per cluster and outside any transaction, asks the provider what runs and
whether it answers, starts what is missing, and writes the outcome back in one short
transaction. Nothing waits for a process to come up: a component started in one pass is
probed in the next ones, until it answers or its start timeout passes. A process that is
already running (found from its pid file and /proc) is adopted, never started twice, so a
`rtc up` killed at any point picks up where it stopped.

`decide` is the whole policy and touches only the provider it is given, so the unit tests
drive it with a fake provider and a fake clock.

Failures follow reconcilers/base.py, per cluster: a cluster whose nodes cannot be placed (no
free port block) or whose component cannot start or never answers (the provider's
ProviderError: a missing package, an unusable directory; or the start timeout) is a
`Permanent` failure: what each component did is recorded first, then the cluster goes to
FAILED with a message that says what to do. Anything else (the provider or the database
failing a call) is retried with back-off, without holding up the other clusters.

Every message is written in English and in Chinese (domain/cluster_events.py) for the
tenant who reads it; where a component's log file is and what the host said are the
operator's, and go to the server log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from rtcompute.domain import cluster_events, placement
from rtcompute.domain import clusters as cluster_rules
from rtcompute.reconcilers import base as reconciler_base
from rtcompute.runtime.providers import base
from rtcompute.services.capacity import cluster_nodes
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.reconcilers.clusters")

Views = cluster_nodes.ClusterView
Said = cluster_events.Said
Outcome = cluster_nodes.Outcome
RUNNING = cluster_nodes.COMPONENT_RUNNING
STARTING = cluster_nodes.COMPONENT_STARTING
FAILED = cluster_nodes.COMPONENT_FAILED
STOPPED = cluster_nodes.COMPONENT_STOPPED
BECOMES_RUNNING = frozenset(
    {cluster_rules.STARTING, cluster_rules.SCALING_OUT, cluster_rules.SCALING_IN}
)


class ClusterReconciler:
    name = "clusters"

    def __init__(
        self,
        platform: platform_module.Platform,
        provider: base.Provider,
        interval_seconds: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.provider = provider
        self.interval_seconds = interval_seconds
        self.retries = reconciler_base.Backoff(monotonic)

    def reconcile_once(self) -> None:
        views = cluster_nodes.snapshot(self.platform)
        self.retries.retain(view.id for view in views)
        unplaced = [view for view in views if needs_placing(view)]
        for view in unplaced:  # every cluster, not the first only
            self._attempt(view, self._place)
        if unplaced:
            views = cluster_nodes.snapshot(self.platform)
        for view in views:
            self._attempt(view, self.step)

    def _attempt(self, view: Views, step: Callable[[Views], None]) -> None:
        reconciler_base.attempt(
            self.retries,
            view.id,
            lambda: step(view),
            what=f"cluster {view.name} ({view.id})",
            fail=lambda exc: self._fail(view, Said(exc.message, exc.zh)),
            logger=log,
        )

    def step(self, view: Views) -> None:
        """Decide for one cluster and record the outcome; a failed cluster is Permanent."""
        timeout = timedelta(seconds=self.platform.settings.local_provider.start_timeout_seconds)
        outcome = decide(view, self.provider, now=self.platform.now(), timeout=timeout)
        if outcome.state == cluster_rules.FAILED:
            # what each component did first (which one failed, and why); then the cluster
            cluster_nodes.record(self.platform, replace(outcome, state=None, message=None))
            said = outcome.message or cluster_events.a_component_failed()
            raise reconciler_base.Permanent(said.en, said.zh)
        if is_change(outcome):
            cluster_nodes.record(self.platform, outcome)

    def _place(self, view: Views) -> None:
        """Give pending nodes their port block and directory."""
        problem = cluster_nodes.place_pending_nodes(
            self.platform,
            view.id,
            directory_of=lambda name: str(self.provider.node_directory(view.id, name)),
            bindable=self.provider.ports_available,
        )
        if problem is not None:  # the host has no room left for it
            raise reconciler_base.Permanent(problem.en, problem.zh)

    def _fail(self, view: Views, message: Said) -> None:
        cluster_nodes.record(
            self.platform,
            Outcome(view.id, view.state, state=cluster_rules.FAILED, message=message),
        )


def needs_placing(view: Views) -> bool:
    return view.state in cluster_rules.ACTIVE and any(
        node.port_base is None and node.state == cluster_rules.NODE_PENDING for node in view.nodes
    )


def is_change(outcome: Outcome) -> bool:
    return bool(
        outcome.components
        or outcome.node_states
        or outcome.removed_nodes
        or outcome.state is not None
        or outcome.message is not None
    )


# ---------------------------------------------------------------------------- specs


def on_lost_host(node: cluster_nodes.NodeView) -> bool:
    return node.host is not None and node.host.lost


def node_spec(cluster_id: int, node: cluster_nodes.NodeView) -> base.NodeSpec | None:
    """The node as a provider sees it: on its joined host (its address, its agent) in a
    hosts zone, else on this machine."""
    if node.port_base is None or not node.directory:
        return None
    if node.host is None:
        return base.NodeSpec(cluster_id, node.name, Path(node.directory), node.port_base)
    link = node.host
    agent = base.AgentLink(link.name, link.address, link.agent_port, link.public_key)
    return base.NodeSpec(
        cluster_id, node.name, Path(node.directory), node.port_base, link.address, agent
    )


def member_id(node_name: str) -> int:
    """ZooKeeper's myid of a master: master-2 -> 2."""
    return int(node_name.rsplit("-", 1)[1])


def component_specs(view: Views) -> dict[int, base.ComponentSpec]:
    """One spec per component of every placed node, keyed by component id."""
    peers = tuple(
        base.ZooKeeperPeer(
            myid=member_id(node.name),
            host=node.host.address if node.host is not None else "127.0.0.1",
            client_port=node.port_base + placement.ZOOKEEPER_CLIENT_OFFSET,
            peer_port=node.port_base + placement.ZOOKEEPER_PEER_OFFSET,
            election_port=node.port_base + placement.ZOOKEEPER_ELECTION_OFFSET,
        )
        for node in view.nodes
        if node.port_base is not None
        and any(c.kind == cluster_rules.ZOOKEEPER for c in node.components)
    )
    specs = {}
    for node in view.nodes:
        spec = node_spec(view.id, node)
        if spec is None:
            continue
        for c in node.components:
            if c.kind == cluster_rules.ZOOKEEPER:
                specs[c.id] = base.ComponentSpec(c.kind, spec, c.port, member_id(node.name), peers)
            else:
                specs[c.id] = base.ComponentSpec(c.kind, spec, c.port)
    return specs


# ---------------------------------------------------------------------------- policy


def decide(view: Views, provider: base.Provider, *, now: datetime, timeout: timedelta) -> Outcome:
    """One idempotent step for one cluster; acts through `provider`, returns what to record."""
    if view.state == cluster_rules.RELEASING:
        return release(view, provider)
    if view.state == cluster_rules.EXPIRED:
        return stop_all(view, provider, now)
    if view.state in cluster_rules.ACTIVE:
        return converge(view, provider, now=now, timeout=timeout)
    return Outcome(view.id, view.state)


def release(view: Views, provider: base.Provider) -> Outcome:
    """Stop every process, delete every node's files and row: the ports are free again."""
    reachable = [n for n in view.nodes if not on_lost_host(n)]
    specs = component_specs(view)
    provider.stop([specs[c.id] for n in reachable for c in n.components if c.id in specs])
    for node in reachable:  # a lost host's node is left to its host: it is freed all the same
        spec = node_spec(view.id, node)
        if spec is not None:
            provider.remove_node(spec)
    provider.remove_cluster(view.id)
    return Outcome(
        view.id,
        view.state,
        removed_nodes=[node.id for node in view.nodes],
        state=cluster_rules.RELEASED,
        message=cluster_events.NOTHING,
    )


def stop_all(view: Views, provider: base.Provider, now: datetime) -> Outcome:
    """Expired: stop the processes, keep nodes, ports and files for a renewal."""
    outcome = Outcome(view.id, view.state)
    components = [c for node in view.nodes for c in node.components]
    if all(c.state == STOPPED and c.pid is None for c in components):
        return outcome
    provider.stop(list(component_specs(view).values()))
    message = cluster_events.expired_stopped()
    for c in components:
        outcome.components.append(
            cluster_nodes.ComponentChange(c.id, None, STOPPED, now, c.restarts, message)
        )
    for node in view.nodes:
        if node.state != cluster_rules.NODE_PENDING:
            outcome.node_states[node.id] = cluster_rules.NODE_PENDING
    return outcome


def converge(view: Views, provider: base.Provider, *, now: datetime, timeout: timedelta) -> Outcome:
    """Starting, running or scaling: remove, start, adopt, probe; then judge the cluster."""
    outcome = Outcome(view.id, view.state)
    specs = component_specs(view)
    failures: list[Said] = []
    waiting: list[Said] = []
    lost: list[Said] = []
    modes: list[str] = []
    total = 0
    for node in view.nodes:
        if node.state == cluster_rules.NODE_REMOVING:
            remove_node(view, node, specs, provider)
            outcome.removed_nodes.append(node.id)
            continue
        if node.port_base is None:
            waiting.append(cluster_events.not_placed(node.name))
            continue
        if on_lost_host(node):
            # nothing to ask a silent agent: the cluster says so and goes on with the rest
            assert node.host is not None
            lost.append(cluster_events.host_lost(node.name, node.host.name))
            continue
        states = []
        for c in node.components:
            total += 1
            change, health = observe(c, specs[c.id], provider, now=now, timeout=timeout)
            state = change.state if change else c.state
            states.append(state)
            if change is not None:
                outcome.components.append(change)
            if health is not None and health.mode:
                modes.append(health.mode)
            message = change.message if change else c.message
            if state == FAILED:
                failures.append(cluster_events.component_failed(node.name, c.kind, message))
            elif state != RUNNING:
                waiting.append(cluster_events.component_waiting(node.name, c.kind, message))
        node_state = (
            cluster_rules.NODE_FAILED
            if FAILED in states
            else cluster_rules.NODE_RUNNING
            if all(s == RUNNING for s in states)
            else cluster_rules.NODE_STARTING
        )
        if node_state != node.state:
            outcome.node_states[node.id] = node_state
    has_quorum = view.master_count != 3 or "leader" in modes
    if not waiting and not failures and not has_quorum:
        waiting.append(cluster_events.quorum_waiting())
    if failures:
        outcome.state = cluster_rules.FAILED
        outcome.message = failures[0]
    elif lost and not waiting:
        message = cluster_events.progress(total - len(lost), total, lost)
        outcome.message = message if message != view.message else None
    elif not waiting:
        if view.state in BECOMES_RUNNING:
            outcome.state = cluster_rules.RUNNING
        outcome.message = cluster_events.NOTHING if (view.message.en or view.message.zh) else None
    else:
        progress = cluster_events.progress(total - len(waiting), total, waiting)
        outcome.message = progress if progress != view.message else None
    return outcome


def remove_node(
    view: Views,
    node: cluster_nodes.NodeView,
    specs: dict[int, base.ComponentSpec],
    provider: base.Provider,
) -> None:
    """Scale-in: stop the node's processes and delete its files (the row goes in the write)."""
    provider.stop([specs[c.id] for c in node.components if c.id in specs])
    spec = node_spec(view.id, node)
    if spec is not None:
        provider.remove_node(spec)


def observe(
    c: cluster_nodes.ComponentView,
    spec: base.ComponentSpec,
    provider: base.Provider,
    *,
    now: datetime,
    timeout: timedelta,
) -> tuple[cluster_nodes.ComponentChange | None, base.Health | None]:
    """Adopt, start, or probe one component; the change to record (None: none) and the probe."""
    current = cluster_nodes.ComponentChange(c.id, c.pid, c.state, c.since, c.restarts, c.message)
    if c.state == FAILED:
        return None, None  # the cluster fails with it; a release cleans it up
    pid = provider.find(spec)
    if pid is None:
        # never started, or died: start it (a restart if it had been started before)
        restarted = c.pid is not None
        try:
            new_pid = provider.start(spec)
        except base.ProviderError as exc:
            if exc.detail:  # the operator's part (paths, the system's error)
                log.warning("%s %s cannot start: %s", spec.node.name, c.kind, exc.detail)
            return replace(current, pid=None, state=FAILED, since=now, message=exc.said), None
        message = cluster_events.restarted() if restarted else cluster_events.started()
        change = replace(
            current,
            pid=new_pid,
            state=STARTING,
            since=now,
            restarts=c.restarts + int(restarted),
            message=message,
        )
        return change, None
    health = provider.probe(spec)
    if health.answers:
        since = c.since if c.state == RUNNING and c.pid == pid else now
        change = replace(current, pid=pid, state=RUNNING, since=since, message=health.detail)
    elif c.state == RUNNING:
        # it answered before: give it a fresh start timeout from now
        change = replace(current, pid=pid, state=STARTING, since=now, message=health.detail)
    elif now - c.since > timeout:
        seconds = timeout.total_seconds()
        message = cluster_events.no_answer_within(c.port, seconds, health.detail)
        # where the component wrote why is the operator's to read, not the tenant's
        log.warning(
            "cluster %s: %s %s gave no answer on port %d within %.0f s (%s); its log: %s",
            spec.node.cluster_id,
            spec.node.name,
            c.kind,
            c.port,
            seconds,
            health.detail.en,
            provider.log_of(spec),
        )
        change = replace(current, pid=pid, state=FAILED, since=now, message=message)
    else:
        change = replace(current, pid=pid, state=STARTING, message=health.detail)
    return (None if change == current else change), health
