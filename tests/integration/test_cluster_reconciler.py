"""The cluster reconciler with real processes on both databases: rows go in through the
store, then `reconcile_once()` runs until the cluster settles. Every test kills whatever it
started (by pid, from /proc cmdlines under its own data directory) in a finalizer.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from rtcompute.domain import clusters as cluster_rules
from rtcompute.reconcilers import clusters as cluster_reconciler
from rtcompute.runtime import processes
from rtcompute.runtime.providers import base, local
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from rtcompute.store.tables import capacity as capacity_tables
from tests.ports import port_window
from tests.waiting import wait_for

PORTS_PER_NODE = 10


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"local_provider": {**port_window(), "start_timeout_seconds": 30.0}}


def processes_under(directory: Path) -> list[int]:
    """Live processes (not zombies) whose command line mentions `directory`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and str(directory) in "\0".join(processes.cmdline(int(entry.name))):
            found.append(int(entry.name))
    return found


def kill_all_under(directory: Path) -> None:
    for pid in processes_under(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def reaper(platform: platform_module.Platform) -> Iterator[Path]:
    data_dir = platform.settings.data_dir
    yield data_dir
    kill_all_under(data_dir)


def insert_cluster(
    platform: platform_module.Platform, *, masters: int, slaves: int, name: str = "c1"
) -> int:
    """An account, zone, order, and a starting cluster with pending nodes, as the service would."""
    now = platform.now()
    alias = f"acct-{name}"
    with db.transaction(platform.sessions) as session:
        session.add(tables.Account(id=f"a{name}"[:16], alias=alias, created_at=now))
        session.flush()
        zone = capacity_tables.Zone(region="local", name=f"zone-{name}", created_at=now)
        order = capacity_tables.Order(
            id=f"o-{name}"[:20],
            account_id=f"a{name}"[:16],
            region="local",
            mode="exclusive",
            billing="subscription",
            purpose="new",
            master_type="4c16g",
            master_count=masters,
            slave_type="4c16g",
            slave_count=slaves,
            months=1,
            state="consumed",
            created_at=now,
        )
        session.add_all([zone, order])
        session.flush()
        cluster = capacity_tables.Cluster(
            account_id=f"a{name}"[:16],
            region="local",
            name=name,
            order_id=order.id,
            billing="subscription",
            master_type="4c16g",
            master_count=masters,
            slave_type="4c16g",
            slave_count=slaves,
            zone_id=zone.id,
            state=cluster_rules.STARTING,
            created_at=now,
            state_since=now,
        )
        session.add(cluster)
        session.flush()
        roles = [("master", i) for i in range(1, masters + 1)]
        roles += [("slave", i) for i in range(1, slaves + 1)]
        for number, (role, index) in enumerate(roles, start=10):
            session.add(node_row(cluster, role, index, f"10.0.0.{number}", now))
        return cluster.id


def node_row(
    cluster: capacity_tables.Cluster, role: str, index: int, address: str, now: object
) -> capacity_tables.ClusterNode:
    return capacity_tables.ClusterNode(
        cluster_id=cluster.id,
        name=cluster_rules.node_name(role, index),
        role=role,
        machine_type="4c16g",
        zone_id=cluster.zone_id,
        address=address,
        state=cluster_rules.NODE_PENDING,
        since=now,
    )


def read(platform: platform_module.Platform, cluster_id: int) -> capacity_tables.Cluster:
    with db.transaction(platform.sessions) as session:
        cluster = session.get(capacity_tables.Cluster, cluster_id)
        assert cluster is not None
        return cluster


def nodes_of(
    platform: platform_module.Platform, cluster_id: int
) -> list[capacity_tables.ClusterNode]:
    with db.transaction(platform.sessions) as session:
        query = select(capacity_tables.ClusterNode).where(
            capacity_tables.ClusterNode.cluster_id == cluster_id
        )
        return list(session.scalars(query.order_by(capacity_tables.ClusterNode.name)))


def components_of(
    platform: platform_module.Platform, cluster_id: int
) -> list[capacity_tables.ClusterComponent]:
    with db.transaction(platform.sessions) as session:
        query = select(capacity_tables.ClusterComponent).where(
            capacity_tables.ClusterComponent.cluster_id == cluster_id
        )
        return list(session.scalars(query.order_by(capacity_tables.ClusterComponent.id)))


def set_state(platform: platform_module.Platform, cluster_id: int, state: str) -> None:
    with db.transaction(platform.sessions) as session:
        cluster = session.get(capacity_tables.Cluster, cluster_id)
        assert cluster is not None
        cluster.state = state


def reconcile_until(
    reconciler: cluster_reconciler.ClusterReconciler,
    done: Callable[[], bool],
    *,
    seconds: float = 30.0,
) -> None:
    def settled() -> bool:
        reconciler.reconcile_once()
        return done()

    wait_for("the cluster to settle", settled, seconds, every=0.2)


def make_reconciler(platform: platform_module.Platform) -> cluster_reconciler.ClusterReconciler:
    return cluster_reconciler.ClusterReconciler(platform, local.LocalProvider(platform.settings))


def run_to(
    platform: platform_module.Platform,
    reconciler: cluster_reconciler.ClusterReconciler,
    cluster_id: int,
    state: str = cluster_rules.RUNNING,
    seconds: float = 30.0,
) -> None:
    reconcile_until(reconciler, lambda: read(platform, cluster_id).state == state, seconds=seconds)


def health(port: int) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


def bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def alive(pid: int) -> bool:
    return bool(processes.cmdline(pid))


# ---------------------------------------------------------------------------- tests


def test_agents_start_answer_and_the_cluster_runs(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    reconciler = make_reconciler(platform)
    reconciler.reconcile_once()
    placed = nodes_of(platform, cluster_id)
    assert read(platform, cluster_id).state == cluster_rules.STARTING
    bases = sorted(node.port_base or 0 for node in placed)
    low = platform.settings.local_provider.port_min
    assert bases[0] >= low and len(set(bases)) == 3
    assert all(b - a >= PORTS_PER_NODE for a, b in itertools.pairwise(bases))
    run_to(platform, reconciler, cluster_id)
    cluster = read(platform, cluster_id)
    assert cluster.message == ""
    for node in nodes_of(platform, cluster_id):
        assert node.state == cluster_rules.NODE_RUNNING
        assert Path(node.directory) == reaper / "clusters" / str(cluster_id) / node.name
        assert Path(node.directory).is_dir()
    components = components_of(platform, cluster_id)
    assert [c.kind for c in components] == ["agent"] * 3
    by_node = {node.id: node for node in nodes_of(platform, cluster_id)}
    for component in components:
        node = by_node[component.node_id]
        assert component.state == "running" and component.restarts == 0
        assert component.port == node.port_base
        assert component.pid is not None and alive(component.pid)
        body = health(component.port)
        assert body["node"] == node.name and body["pid"] == component.pid
        pid_file = Path(node.directory) / "agent.pid"
        assert pid_file.read_text().strip() == str(component.pid)
    # a settled cluster: another pass changes nothing and starts nothing
    reconciler.reconcile_once()
    assert [c.pid for c in components_of(platform, cluster_id)] == [c.pid for c in components]
    assert len(processes_under(reaper)) == 3


def test_release_stops_processes_frees_ports_and_directories(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    reconciler = make_reconciler(platform)
    run_to(platform, reconciler, cluster_id)
    nodes = nodes_of(platform, cluster_id)
    pids = [c.pid for c in components_of(platform, cluster_id)]
    set_state(platform, cluster_id, cluster_rules.RELEASING)
    reconciler.reconcile_once()
    assert read(platform, cluster_id).state == cluster_rules.RELEASED
    assert nodes_of(platform, cluster_id) == []
    assert components_of(platform, cluster_id) == []
    assert not any(alive(pid) for pid in pids if pid is not None)
    assert processes_under(reaper) == []
    assert not (reaper / "clusters" / str(cluster_id)).exists()
    assert all(bindable(node.port_base or 0) for node in nodes)
    # the freed blocks are handed out again, lowest first
    second = insert_cluster(platform, masters=1, slaves=2, name="c2")
    reconciler.reconcile_once()
    again = sorted(node.port_base or 0 for node in nodes_of(platform, second))
    assert again == sorted(node.port_base or 0 for node in nodes)
    set_state(platform, second, cluster_rules.RELEASING)
    run_to(platform, reconciler, second, cluster_rules.RELEASED)


def test_scale_in_stops_and_deletes_the_removed_nodes(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=3)
    reconciler = make_reconciler(platform)
    run_to(platform, reconciler, cluster_id)
    removed = next(n for n in nodes_of(platform, cluster_id) if n.name == "slave-3")
    removed_pid = next(
        c.pid for c in components_of(platform, cluster_id) if c.node_id == removed.id
    )
    with db.transaction(platform.sessions) as session:
        cluster = session.get(capacity_tables.Cluster, cluster_id)
        node = session.get(capacity_tables.ClusterNode, removed.id)
        assert cluster is not None and node is not None
        cluster.state, cluster.slave_count, node.state = (
            cluster_rules.SCALING_IN,
            2,
            cluster_rules.NODE_REMOVING,
        )
    run_to(platform, reconciler, cluster_id)
    assert [n.name for n in nodes_of(platform, cluster_id)] == ["master-1", "slave-1", "slave-2"]
    assert removed_pid is not None and not alive(removed_pid)
    assert not Path(removed.directory).exists()
    assert len(processes_under(reaper)) == 3


def test_scale_out_places_and_starts_the_new_nodes(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    reconciler = make_reconciler(platform)
    run_to(platform, reconciler, cluster_id)
    with db.transaction(platform.sessions) as session:
        cluster = session.get(capacity_tables.Cluster, cluster_id)
        assert cluster is not None
        cluster.state, cluster.slave_count = cluster_rules.SCALING_OUT, 3
        session.add(node_row(cluster, "slave", 3, "10.0.0.20", platform.now()))
    reconciler.reconcile_once()
    assert read(platform, cluster_id).state == cluster_rules.SCALING_OUT
    run_to(platform, reconciler, cluster_id)
    assert len({n.port_base for n in nodes_of(platform, cluster_id)}) == 4
    assert len(processes_under(reaper)) == 4


def test_a_dead_agent_is_restarted(platform: platform_module.Platform, reaper: Path) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    reconciler = make_reconciler(platform)
    run_to(platform, reconciler, cluster_id)
    victim = components_of(platform, cluster_id)[1]
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    # the signal is delivered at once, but on a loaded host the process may still be
    # exiting when kill() returns: wait until /proc no longer shows it running
    wait_for("the killed process to exit", lambda: not alive(victim.pid), 10, every=0.02)
    reconciler.reconcile_once()
    restarted = next(c for c in components_of(platform, cluster_id) if c.id == victim.id)
    assert restarted.restarts == 1 and restarted.pid != victim.pid
    assert read(platform, cluster_id).state == cluster_rules.RUNNING
    reconcile_until(
        reconciler,
        lambda: all(c.state == "running" for c in components_of(platform, cluster_id)),
    )
    assert len(processes_under(reaper)) == 3


def test_a_new_reconciler_adopts_live_processes(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    first = make_reconciler(platform)
    first.reconcile_once()  # started, not yet answering: `rtc up` dies here
    started = {c.id: c.pid for c in components_of(platform, cluster_id)}
    assert all(started.values())
    with db.transaction(platform.sessions) as session:  # as if the pids were never recorded
        for component in session.scalars(select(capacity_tables.ClusterComponent)):
            component.pid = None
    second = make_reconciler(platform)  # a fresh provider: no children of its own
    run_to(platform, second, cluster_id)
    assert {c.id: c.pid for c in components_of(platform, cluster_id)} == started
    assert sorted(processes_under(reaper)) == sorted(p for p in started.values() if p)
    assert all(c.restarts == 0 for c in components_of(platform, cluster_id))


def test_processes_whose_pid_files_were_never_written_are_adopted(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    make_reconciler(platform).reconcile_once()
    started = sorted(c.pid or 0 for c in components_of(platform, cluster_id))
    for pid_file in (reaper / "clusters").glob("*/*/*.pid"):  # `rtc up` died before writing
        pid_file.unlink()
    with db.transaction(platform.sessions) as session:
        for component in session.scalars(select(capacity_tables.ClusterComponent)):
            component.pid = None
    run_to(platform, make_reconciler(platform), cluster_id)
    assert sorted(c.pid or 0 for c in components_of(platform, cluster_id)) == started
    assert sorted(processes_under(reaper)) == started
    assert len(list((reaper / "clusters").glob("*/*/agent.pid"))) == 3


def test_expiry_stops_processes_and_keeps_nodes_until_renewal(
    platform: platform_module.Platform, reaper: Path
) -> None:
    cluster_id = insert_cluster(platform, masters=1, slaves=2)
    reconciler = make_reconciler(platform)
    run_to(platform, reconciler, cluster_id)
    before = nodes_of(platform, cluster_id)
    set_state(platform, cluster_id, cluster_rules.EXPIRED)
    reconciler.reconcile_once()
    assert processes_under(reaper) == []
    assert all(c.state == "stopped" and c.pid is None for c in components_of(platform, cluster_id))
    after = nodes_of(platform, cluster_id)
    assert [(n.name, n.port_base, n.directory) for n in after] == [
        (n.name, n.port_base, n.directory) for n in before
    ]
    set_state(platform, cluster_id, cluster_rules.STARTING)  # renewed
    run_to(platform, reconciler, cluster_id)
    assert len(processes_under(reaper)) == 3


def test_one_pass_places_every_pending_cluster_on_disjoint_blocks(
    platform: platform_module.Platform, reaper: Path
) -> None:
    first = insert_cluster(platform, masters=1, slaves=2, name="c1")
    second = insert_cluster(platform, masters=1, slaves=2, name="c2")
    make_reconciler(platform).reconcile_once()
    bases = [n.port_base for c in (first, second) for n in nodes_of(platform, c)]
    assert None not in bases and len(set(bases)) == 6
    started = processes_under(reaper)
    # seen once in CI: 4 of 6 right after the pass; the agents' logs say why next time
    logs = {str(p.relative_to(reaper)): p.read_text()[-400:] for p in reaper.rglob("*.log")}
    assert len(started) == 6, logs


def test_a_port_block_in_use_on_the_host_is_skipped(
    platform: platform_module.Platform, reaper: Path
) -> None:
    low = platform.settings.local_provider.port_min
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", low + 3))
        squatter.listen()
        cluster_id = insert_cluster(platform, masters=1, slaves=2)
        make_reconciler(platform).reconcile_once()
        bases = sorted(n.port_base or 0 for n in nodes_of(platform, cluster_id))
    assert bases == [low + PORTS_PER_NODE * k for k in (1, 2, 3)]


def test_missing_zookeeper_fails_the_cluster_with_what_to_do(
    platform: platform_module.Platform, reaper: Path, tmp_path: Path
) -> None:
    settings = platform.settings.model_copy(
        update={
            "local_provider": platform.settings.local_provider.model_copy(
                update={"zookeeper_home": tmp_path / "nowhere" / "zookeeper"}
            )
        }
    )
    cluster_id = insert_cluster(platform, masters=3, slaves=2)
    reconciler = cluster_reconciler.ClusterReconciler(platform, local.LocalProvider(settings))
    reconciler.reconcile_once()
    cluster = read(platform, cluster_id)
    assert cluster.state == cluster_rules.FAILED
    assert "install the Debian package `zookeeper`" in cluster.message
    assert cluster.message.startswith("master-1 zookeeper:")
    # a Permanent failure: what each component did is recorded too, and nothing is retried
    failed = [c for c in components_of(platform, cluster_id) if c.state == "failed"]
    assert {c.kind for c in failed} == {"zookeeper"}
    assert all("install the Debian package" in c.message for c in failed)
    assert reconciler.retries.failures(cluster_id) == 0
    started = [c.pid for c in components_of(platform, cluster_id)]
    reconciler.reconcile_once()
    assert [c.pid for c in components_of(platform, cluster_id)] == started
    set_state(platform, cluster_id, cluster_rules.RELEASING)
    reconciler.reconcile_once()
    assert read(platform, cluster_id).state == cluster_rules.RELEASED
    assert processes_under(reaper) == []


class Hiccups(local.LocalProvider):
    """The local provider, whose `find` fails for one cluster while `left` > 0."""

    def __init__(self, platform: platform_module.Platform, cluster_id: int) -> None:
        super().__init__(platform.settings)
        self.cluster_id = cluster_id
        self.left = 0
        self.finds = 0

    def find(self, component: base.ComponentSpec) -> int | None:
        if component.node.cluster_id == self.cluster_id:
            self.finds += 1
            if self.left:
                self.left -= 1
                raise OSError(5, "Input/output error")
        return super().find(component)


def test_a_provider_hiccup_is_retried_with_back_off_and_holds_up_no_other_cluster(
    platform: platform_module.Platform, reaper: Path
) -> None:
    """A Temporary failure (here an unexpected OSError, retried as one)."""
    flaky = insert_cluster(platform, masters=1, slaves=2, name="c1")
    healthy = insert_cluster(platform, masters=1, slaves=2, name="c2")
    provider = Hiccups(platform, flaky)
    provider.left = 2
    clock = Ticks()
    reconciler = cluster_reconciler.ClusterReconciler(platform, provider, monotonic=clock)
    reconciler.reconcile_once()
    assert reconciler.retries.failures(flaky) == 1 and provider.finds == 1
    assert all(c.pid is None for c in components_of(platform, flaky))
    assert all(c.pid is not None for c in components_of(platform, healthy))
    reconciler.reconcile_once()  # not due: the provider is not asked
    assert provider.finds == 1
    clock.now += 5.0
    reconciler.reconcile_once()
    assert reconciler.retries.failures(flaky) == 2 and provider.finds == 2
    clock.now += 10.0
    run_to(platform, reconciler, flaky)
    assert reconciler.retries.failures(flaky) == 0
    assert read(platform, flaky).state == read(platform, healthy).state == cluster_rules.RUNNING


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
