"""A 3-master cluster under a real `rtc up`: its ZooKeeper quorum answers on every member,
survives losing one, gets the member back; and a `rtc up` killed with SIGKILL while the
cluster starts is followed by one that finishes the job without duplicate processes.

Rows go straight into the server's SQLite database (as the cluster service would write
them); every test kills whatever it started, by pid, in a finalizer.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcompute.domain import clusters as cluster_rules
from rtcompute.runtime import processes, zookeeper
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import LiveServer, make_settings, start_server, stop_server
from tests.integration.test_cluster_reconciler import (
    components_of,
    insert_cluster,
    kill_all_under,
    nodes_of,
    port_window,
    processes_under,
    read,
    set_state,
)
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def server_env() -> dict[str, str]:
    window = port_window()
    return {
        "RTC_LOCAL_PROVIDER__PORT_MIN": str(window["port_min"]),
        "RTC_LOCAL_PROVIDER__PORT_MAX": str(window["port_max"]),
        # the next `rtc up` takes over quickly from one killed with SIGKILL
        "RTC_RECONCILERS__LEASE_SECONDS": "3",
    }


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "data"
    yield directory
    kill_all_under(directory)


@pytest.fixture
def servers(data_dir: Path) -> Iterator[list[LiveServer]]:
    started: list[LiveServer] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            stop_server(server)


def connect(data_dir: Path) -> platform_module.Platform:
    return platform_module.build_platform(
        make_settings(f"sqlite:///{data_dir / 'rtcompute.db'}", data_dir)
    )


def per_component(data_dir: Path) -> Counter[tuple[str, str]]:
    """Live processes under `data_dir`, counted per (node directory, component kind)."""
    counts: Counter[tuple[str, str]] = Counter()
    for pid in processes_under(data_dir):
        argv = processes.cmdline(pid)
        if zookeeper.MAIN_CLASS in argv:
            counts[(str(Path(argv[-1]).parent), cluster_rules.ZOOKEEPER)] += 1
        elif "--node-dir" in argv:
            counts[(argv[argv.index("--node-dir") + 1], cluster_rules.AGENT)] += 1
        else:
            counts[("?", " ".join(argv))] += 1
    return counts


def wait_running(platform: platform_module.Platform, cluster_id: int, seconds: float) -> None:
    def running() -> bool:
        cluster = read(platform, cluster_id)
        assert cluster.state != cluster_rules.FAILED, cluster.message
        return cluster.state == cluster_rules.RUNNING

    try:
        wait_for("running", running, seconds)
    except AssertionError:
        rows = [
            (c.node_id, c.kind, c.pid, c.state, c.message)
            for c in components_of(platform, cluster_id)
        ]
        raise AssertionError(f"{read(platform, cluster_id).message}; components: {rows}") from None


def member_ports(platform: platform_module.Platform, cluster_id: int) -> dict[str, int]:
    nodes = {n.id: n.name for n in nodes_of(platform, cluster_id)}
    return {
        nodes[c.node_id]: c.port
        for c in components_of(platform, cluster_id)
        if c.kind == cluster_rules.ZOOKEEPER
    }


def modes(ports: dict[str, int]) -> dict[str, str]:
    """Each member's `srvr` mode, only if it also answers `ruok` with `imok`."""
    seen = {}
    for name, port in ports.items():
        if zookeeper.four_letter("127.0.0.1", port, "ruok", timeout=1.0) == "imok":
            seen[name] = zookeeper.mode(
                zookeeper.four_letter("127.0.0.1", port, "srvr", timeout=1.0)
            )
    return seen


def release(platform: platform_module.Platform, data_dir: Path, cluster_id: int) -> None:
    set_state(platform, cluster_id, cluster_rules.RELEASING)
    wait_for("the release", lambda: read(platform, cluster_id).state == cluster_rules.RELEASED, 30)
    assert processes_under(data_dir) == []
    assert not (data_dir / "clusters" / str(cluster_id)).exists()


def test_the_quorum_answers_survives_a_killed_member_and_gets_it_back(
    data_dir: Path, servers: list[LiveServer]
) -> None:
    servers.append(start_server(data_dir, server_env()))
    platform = connect(data_dir)
    cluster_id = insert_cluster(platform, masters=3, slaves=2)
    wait_running(platform, cluster_id, 60)
    ports = member_ports(platform, cluster_id)
    seen = modes(ports)
    assert sorted(seen) == ["master-1", "master-2", "master-3"]
    assert sorted(seen.values()) == ["follower", "follower", "leader"]
    assert set(per_component(data_dir).values()) == {1} and len(per_component(data_dir)) == 8

    leader = next(name for name, mode in seen.items() if mode == "leader")
    victim = next(
        c
        for c in components_of(platform, cluster_id)
        if c.kind == cluster_rules.ZOOKEEPER and c.port == ports[leader]
    )
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    others = {name: port for name, port in ports.items() if name != leader}

    def survivors_serve() -> bool:
        now = modes(others)
        return len(now) == 2 and "leader" in now.values()

    wait_for("the two other members to serve with a leader", survivors_serve, 15)

    def restored() -> bool:
        row = next(c for c in components_of(platform, cluster_id) if c.id == victim.id)
        return row.restarts == 1 and row.state == "running" and row.pid != victim.pid

    wait_for("the reconciler to restore the killed member", restored, 60)
    again = modes(ports)
    assert sorted(again) == ["master-1", "master-2", "master-3"]
    assert sorted(again.values()) == ["follower", "follower", "leader"]
    assert read(platform, cluster_id).state == cluster_rules.RUNNING
    counts = per_component(data_dir)
    assert len(counts) == 8 and set(counts.values()) == {1}, counts
    release(platform, data_dir, cluster_id)
    platform.engine.dispose()


def test_rtc_up_killed_while_a_cluster_starts_is_finished_by_the_next_one(
    data_dir: Path, servers: list[LiveServer]
) -> None:
    env = server_env()
    first = start_server(data_dir, env)
    servers.append(first)
    platform = connect(data_dir)
    cluster_id = insert_cluster(platform, masters=3, slaves=2)

    def some_started() -> bool:
        return len(processes_under(data_dir)) >= 1

    wait_for("the first components to start", some_started, 30)
    assert read(platform, cluster_id).state == cluster_rules.STARTING
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(10)
    survivors = processes_under(data_dir)
    assert survivors, "components started by the killed `rtc up` outlive it"

    servers.append(start_server(data_dir, env))
    wait_running(platform, cluster_id, 90)
    counts = per_component(data_dir)
    assert len(counts) == 8 and set(counts.values()) == {1}, counts
    # the processes that outlived the kill were adopted, not replaced
    assert set(survivors) <= set(processes_under(data_dir))
    with db.transaction(platform.sessions) as session:
        rows = list(session.query(capacity_tables.ClusterComponent))
        assert {row.pid for row in rows} == set(processes_under(data_dir))
    release(platform, data_dir, cluster_id)
    platform.engine.dispose()
