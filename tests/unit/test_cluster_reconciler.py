"""The cluster reconciler's decisions, with a fake provider and a fake clock (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rtcompute.domain import cluster_events, placement
from rtcompute.domain import clusters as cluster_rules
from rtcompute.reconcilers import clusters as reconciler
from rtcompute.runtime.providers import base
from rtcompute.services.capacity import cluster_nodes
from tests.visible_text import english_words

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIMEOUT = timedelta(seconds=60)


@dataclass
class FakeProvider:
    """Processes are (node, kind) -> pid; `answering` and `modes` say what probes see."""

    name: str = "fake"
    running: dict[tuple[str, str], int] = field(default_factory=dict)
    answering: set[tuple[str, str]] = field(default_factory=set)
    modes: dict[tuple[str, str], str] = field(default_factory=dict)
    broken: cluster_events.Said | None = None  # start() raises ProviderError with this
    broken_detail: str = ""  # and this detail for the operator
    started: list[tuple[str, str]] = field(default_factory=list)
    stopped: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    next_pid: int = 1000

    def node_directory(self, cluster_id: int, node_name: str) -> Path:
        return Path(f"/data/clusters/{cluster_id}/{node_name}")

    def ports_available(self, port_base: int) -> bool:
        return True

    def find(self, component: base.ComponentSpec) -> int | None:
        return self.running.get((component.node.name, component.kind))

    def start(self, component: base.ComponentSpec) -> int:
        if self.broken is not None:
            raise base.ProviderError(self.broken, self.broken_detail)
        self.next_pid += 1
        key = (component.node.name, component.kind)
        self.running[key] = self.next_pid
        self.started.append(key)
        return self.next_pid

    def probe(self, component: base.ComponentSpec) -> base.Health:
        key = (component.node.name, component.kind)
        if key not in self.answering:
            return base.Health(False, cluster_events.agent_silent())
        mode = self.modes.get(key, "")
        return base.Health(True, cluster_events.healthy(mode or cluster_events.OK), mode)

    def stop(self, components: Sequence[base.ComponentSpec]) -> None:
        for component in components:
            key = (component.node.name, component.kind)
            if self.running.pop(key, None) is not None:
                self.stopped.append(key)

    def remove_node(self, node: base.NodeSpec) -> None:
        self.removed.append(node.name)

    def remove_cluster(self, cluster_id: int) -> None:
        self.removed.append(f"cluster {cluster_id}")

    def log_of(self, component: base.ComponentSpec) -> str:
        return f"{component.node.directory}/{component.kind}.log"

    def serve_all(self, leader: str = "master-1") -> None:
        for key in self.running:
            self.answering.add(key)
            if key[1] == cluster_rules.ZOOKEEPER:
                self.modes[key] = "leader" if key[0] == leader else "follower"


def view(
    masters: int,
    slaves: int,
    *,
    state: str = cluster_rules.STARTING,
    pids: dict[str, int] | None = None,
    component_state: str = "starting",
    since: datetime = T0,
    removing: Sequence[str] = (),
) -> cluster_nodes.ClusterView:
    """A placed cluster; `pids` maps "node/kind" to the pid recorded in its row."""
    names = [("master", i) for i in range(1, masters + 1)]
    names += [("slave", i) for i in range(1, slaves + 1)]
    nodes = []
    for number, (role, index) in enumerate(names):
        name = cluster_rules.node_name(role, index)
        port_base = 21000 + 10 * number
        components = tuple(
            cluster_nodes.ComponentView(
                id=number * 10 + k,
                node_id=number,
                kind=kind,
                port=port_base + cluster_nodes.PORT_OFFSETS[kind],
                pid=(pids or {}).get(f"{name}/{kind}"),
                state=component_state,
                since=since,
                restarts=0,
                message=cluster_events.NOTHING,
            )
            for k, kind in enumerate(cluster_rules.components_of(role, masters))
        )
        node_state = (
            cluster_rules.NODE_REMOVING if name in removing else cluster_rules.NODE_STARTING
        )
        nodes.append(
            cluster_nodes.NodeView(
                number,
                name,
                role,
                port_base,
                f"/data/clusters/7/{name}",
                node_state,
                T0,
                components,
            )
        )
    return cluster_nodes.ClusterView(7, "c", state, masters, cluster_events.NOTHING, tuple(nodes))


def apply(
    cluster: cluster_nodes.ClusterView, outcome: cluster_nodes.Outcome
) -> cluster_nodes.ClusterView:
    """The view the next pass would read after `outcome` was recorded."""
    changes = {c.id: c for c in outcome.components}
    nodes = []
    for node in cluster.nodes:
        if node.id in outcome.removed_nodes:
            continue
        components = tuple(
            replace(
                c,
                pid=ch.pid,
                state=ch.state,
                since=ch.since,
                restarts=ch.restarts,
                message=ch.message,
            )
            if (ch := changes.get(c.id))
            else c
            for c in node.components
        )
        state = outcome.node_states.get(node.id, node.state)
        nodes.append(replace(node, state=state, components=components))
    return replace(
        cluster,
        state=outcome.state or cluster.state,
        message=cluster.message if outcome.message is None else outcome.message,
        nodes=tuple(nodes),
    )


def decide(
    cluster: cluster_nodes.ClusterView, provider: FakeProvider, now: datetime = T0
) -> cluster_nodes.Outcome:
    return reconciler.decide(cluster, provider, now=now, timeout=TIMEOUT)


def test_a_fresh_cluster_starts_every_component_and_waits() -> None:
    provider = FakeProvider()
    outcome = decide(view(3, 2), provider)
    assert sorted(provider.started) == sorted(
        [(f"master-{i}", k) for i in (1, 2, 3) for k in ("agent", "zookeeper")]
        + [("slave-1", "agent"), ("slave-2", "agent")]
    )
    assert {c.state for c in outcome.components} == {"starting"}
    assert all(c.restarts == 0 and c.message == ("started", "已启动") for c in outcome.components)
    assert outcome.state is None
    assert outcome.message is not None
    assert outcome.message.en.startswith("0 of 8 components answer")
    assert outcome.message.zh.startswith("8 个组件中已有 0 个响应；正在等待：")


def test_running_only_when_every_component_answers() -> None:
    provider = FakeProvider()
    decide(view(1, 2), provider)
    provider.answering = {("master-1", "agent"), ("slave-1", "agent")}
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    half = decide(view(1, 2, pids=pids), provider)
    assert half.state is None
    assert half.message is not None and "slave-2 agent" in half.message.en
    assert "slave-2 的节点代理" in half.message.zh
    provider.serve_all()
    done = decide(view(1, 2, pids=pids), provider)
    assert done.state == cluster_rules.RUNNING and done.message is None
    assert set(done.node_states.values()) == {cluster_rules.NODE_RUNNING}
    assert provider.started == [("master-1", "agent"), ("slave-1", "agent"), ("slave-2", "agent")]


def test_a_quorum_without_a_leader_is_not_running() -> None:
    provider = FakeProvider()
    decide(view(3, 2), provider)
    provider.serve_all(leader="nobody")
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    outcome = decide(view(3, 2, pids=pids), provider)
    assert outcome.state is None
    assert outcome.message is not None and "no leader" in outcome.message.en
    assert "尚未选出领导者" in outcome.message.zh
    provider.serve_all(leader="master-2")
    assert decide(view(3, 2, pids=pids), provider).state == cluster_rules.RUNNING


@pytest.mark.parametrize("state", [cluster_rules.SCALING_OUT, cluster_rules.SCALING_IN])
def test_scaling_ends_in_running(state: str) -> None:
    provider = FakeProvider()
    decide(view(1, 2), provider)
    provider.serve_all()
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    assert decide(view(1, 2, state=state, pids=pids), provider).state == cluster_rules.RUNNING


def test_no_answer_within_the_start_timeout_fails_the_cluster_with_what_to_do() -> None:
    provider = FakeProvider()
    decide(view(1, 2), provider)
    provider.answering = {("master-1", "agent"), ("slave-1", "agent")}
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    early = decide(view(1, 2, pids=pids), provider, now=T0 + TIMEOUT)
    assert early.state is None
    late = decide(view(1, 2, pids=pids), provider, now=T0 + TIMEOUT + timedelta(seconds=1))
    assert late.state == cluster_rules.FAILED
    assert late.message is not None
    assert late.message.en.startswith("slave-2 agent: no answer on port 21020 within 60 s")
    assert "Release the cluster and create it again" in late.message.en
    assert late.message.zh.startswith("slave-2 的节点代理：端口 21020 在 60 秒内没有响应")
    assert "请释放集群后重新创建" in late.message.zh
    failed = [c for c in late.components if c.state == "failed"]
    assert len(failed) == 1
    assert late.node_states[2] == cluster_rules.NODE_FAILED


def test_a_component_that_cannot_start_fails_at_once() -> None:
    provider = FakeProvider(broken=cluster_events.zookeeper_missing(), broken_detail="/opt/zk")
    outcome = decide(view(3, 2), provider)
    assert outcome.state == cluster_rules.FAILED
    assert outcome.message is not None and "install the Debian package" in outcome.message.en
    assert "请联系运维人员安装 Debian 软件包" in outcome.message.zh
    assert "/opt/zk" not in outcome.message.en + outcome.message.zh  # the operator's, logged


def test_a_dead_member_of_a_running_cluster_is_restarted_and_the_cluster_stays_running() -> None:
    provider = FakeProvider()
    cluster = view(3, 2)
    cluster = apply(cluster, decide(cluster, provider))
    provider.serve_all()
    running = apply(cluster, decide(cluster, provider))
    assert running.state == cluster_rules.RUNNING
    pids = {c.pid for node in running.nodes for c in node.components}
    assert reconciler.is_change(decide(running, provider)) is False  # settled: nothing to write
    del provider.running[("master-2", "zookeeper")]
    provider.started.clear()
    later = T0 + timedelta(hours=1)
    outcome = decide(running, provider, now=later)
    assert provider.started == [("master-2", "zookeeper")]
    (change,) = outcome.components
    assert change.restarts == 1 and change.state == "starting" and change.since == later
    assert change.pid not in pids
    assert outcome.state is None
    assert outcome.node_states == {1: cluster_rules.NODE_STARTING}


def test_live_processes_are_adopted_not_started_again() -> None:
    provider = FakeProvider(running={("master-1", "agent"): 4242})
    outcome = decide(view(1, 2), provider)  # the row has no pid: `rtc up` died after the start
    assert ("master-1", "agent") not in provider.started
    adopted = next(c for c in outcome.components if c.id == 0)
    assert adopted.pid == 4242 and adopted.restarts == 0


def test_release_stops_everything_and_deletes_the_nodes() -> None:
    provider = FakeProvider()
    decide(view(3, 2), provider)
    outcome = decide(view(3, 2, state=cluster_rules.RELEASING), provider)
    assert provider.running == {}
    assert len(provider.stopped) == 8
    assert outcome.state == cluster_rules.RELEASED
    assert sorted(outcome.removed_nodes) == [0, 1, 2, 3, 4]
    assert provider.removed[-1] == "cluster 7"


def test_expiry_stops_processes_once_and_keeps_the_nodes() -> None:
    provider = FakeProvider()
    decide(view(1, 2), provider)
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    outcome = decide(view(1, 2, state=cluster_rules.EXPIRED, pids=pids), provider)
    assert provider.running == {} and outcome.removed_nodes == []
    assert {(c.state, c.pid) for c in outcome.components} == {("stopped", None)}
    stopped = view(1, 2, state=cluster_rules.EXPIRED, component_state="stopped")
    assert not reconciler.is_change(decide(stopped, provider))


def test_removing_nodes_are_stopped_and_deleted() -> None:
    provider = FakeProvider()
    decide(view(1, 3), provider)
    provider.serve_all()
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    cluster = view(1, 3, state=cluster_rules.SCALING_IN, pids=pids, removing=["slave-3"])
    outcome = decide(cluster, provider)
    assert provider.stopped == [("slave-3", "agent")]
    assert provider.removed == ["slave-3"]
    assert outcome.removed_nodes == [3]
    assert outcome.state == cluster_rules.RUNNING


def test_zookeeper_specs_name_the_whole_ensemble() -> None:
    specs = reconciler.component_specs(view(3, 2))
    member = next(s for s in specs.values() if s.kind == "zookeeper" and s.node.name == "master-2")
    assert member.myid == 2 and member.port == 21011
    assert [(p.myid, p.peer_port, p.election_port) for p in member.peers] == [
        (1, 21002, 21003),
        (2, 21012, 21013),
        (3, 21022, 21023),
    ]


def test_lowest_free_block_skips_used_and_unbindable_blocks() -> None:
    def choose(used: list[int], busy: set[int] = set()) -> int | None:  # noqa: B006
        return placement.lowest_free_block(
            used, port_min=21000, port_max=21049, size=10, bindable=lambda b: b not in busy
        )

    assert choose([]) == 21000
    assert choose([21000, 21010]) == 21020
    assert choose([21005]) == 21020  # a block placed with another size still overlaps
    assert choose([21000], busy={21010}) == 21020
    assert choose([21000, 21010, 21020, 21030, 21040]) is None
    with pytest.raises(ValueError):
        placement.lowest_free_block([], port_min=1, port_max=100, size=2, bindable=bool)


# ---- messages: both languages, nothing of the server's ---------------------------------------


def stored_messages(cluster: cluster_nodes.ClusterView) -> list[cluster_events.Said]:
    return [cluster.message] + [c.message for node in cluster.nodes for c in node.components]


def test_a_healthy_component_says_its_mode_as_a_value_with_a_chinese_label() -> None:
    provider = FakeProvider()
    cluster = view(3, 2)
    cluster = apply(cluster, decide(cluster, provider))
    provider.serve_all(leader="master-2")
    running = apply(cluster, decide(cluster, provider))
    said = {(node.name, c.kind): c.message for node in running.nodes for c in node.components}
    assert said[("master-2", "zookeeper")] == ("leader", "领导者")
    assert said[("master-1", "zookeeper")] == ("follower", "跟随者")
    assert said[("slave-1", "agent")] == ("ok", "正常")
    assert running.message == ("", "")  # running: the progress message is cleared


def test_a_waiting_component_says_what_its_probe_saw_in_both_languages() -> None:
    provider = FakeProvider()
    cluster = view(1, 1)
    cluster = apply(cluster, decide(cluster, provider))
    waiting = decide(cluster, provider, now=T0 + timedelta(seconds=5))
    change = next(c for c in waiting.components if c.id == 10)  # slave-1 agent
    assert change.message == (
        "the node agent does not answer its health check",
        "节点代理未响应健康检查",
    )
    assert waiting.message is not None
    assert "slave-1 agent (the node agent does not answer its health check)" in waiting.message.en
    assert "slave-1 的节点代理（节点代理未响应健康检查）" in waiting.message.zh


def test_no_stored_message_names_a_server_path_the_operator_reads_it_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = FakeProvider()
    cluster = view(1, 2)
    cluster = apply(cluster, decide(cluster, provider))
    provider.answering = {("master-1", "agent"), ("slave-1", "agent")}
    late = T0 + TIMEOUT + timedelta(seconds=1)
    with caplog.at_level("WARNING", logger="rtcompute.reconcilers.clusters"):
        failed = apply(cluster, decide(cluster, provider, now=late))
    assert failed.state == cluster_rules.FAILED
    said = stored_messages(failed)
    assert any("no answer on port 21020" in s.en for s in said)
    for message in said:
        assert "/data/" not in message.en and "/data/" not in message.zh, message
        assert ".log" not in message.en and ".log" not in message.zh, message
    assert "/data/clusters/7/slave-2/agent.log" in caplog.text


def test_a_provider_refusal_shows_its_sentence_and_logs_its_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    detail = "ZooKeeper is not installed (/usr/share/zookeeper/lib/zookeeper.jar is missing)"
    provider = FakeProvider(broken=cluster_events.zookeeper_missing(), broken_detail=detail)
    with caplog.at_level("WARNING", logger="rtcompute.reconcilers.clusters"):
        failed = apply(view(3, 2), decide(view(3, 2), provider))
    for message in stored_messages(failed):
        assert "/usr/share" not in message.en + message.zh
    assert failed.message.en.startswith("master-1 agent: ZooKeeper is not installed on the host")
    assert failed.message.zh.startswith("master-1 的节点代理：主机上没有安装 ZooKeeper")
    assert detail in caplog.text


def test_an_expired_cluster_says_so_in_both_languages() -> None:
    provider = FakeProvider()
    decide(view(1, 1), provider)
    pids = {f"{n}/{k}": pid for (n, k), pid in provider.running.items()}
    outcome = decide(view(1, 1, state=cluster_rules.EXPIRED, pids=pids), provider)
    assert {c.message for c in outcome.components} == {
        (
            "stopped: the cluster expired; renew it to start it again",
            "已停止：集群已到期，续费后将重新启动",
        )
    }


# every sentence of domain/cluster_events.py, with sample arguments
SENTENCES = {
    "healthy": cluster_events.healthy("standalone"),
    "zookeeper_silent": cluster_events.zookeeper_silent(),
    "no_quorum": cluster_events.no_quorum(),
    "agent_silent": cluster_events.agent_silent(),
    "port_taken": cluster_events.port_taken(21020),
    "zookeeper_missing": cluster_events.zookeeper_missing(),
    "directory_refused": cluster_events.directory_refused(),
    "cannot_start": cluster_events.cannot_start("agent"),
    "unknown_kind": cluster_events.unknown_kind("kafka"),
    "started": cluster_events.started(),
    "restarted": cluster_events.restarted(),
    "no_answer_within": cluster_events.no_answer_within(21020, 60, cluster_events.agent_silent()),
    "expired_stopped": cluster_events.expired_stopped(),
    "component_failed": cluster_events.component_failed(
        "slave-2", "agent", cluster_events.agent_silent()
    ),
    "a_component_failed": cluster_events.a_component_failed(),
    "not_placed": cluster_events.not_placed("slave-2"),
    "component_waiting": cluster_events.component_waiting(
        "master-1", "zookeeper", cluster_events.no_quorum()
    ),
    "quorum_waiting": cluster_events.quorum_waiting(),
    "progress": cluster_events.progress(
        1, 5, [cluster_events.not_placed(f"slave-{i}") for i in range(1, 5)]
    ),
    "no_port_block": cluster_events.no_port_block("slave-2"),
    "subscription_ended": cluster_events.subscription_ended("2026-12-08 10:00"),
    "install_failed": cluster_events.install_failed("flink-2.2.1"),
}
# names and values a Chinese sentence keeps as they are
KEPT = frozenset({"zookeeper", "java", "debian", "utc"})
VALUES = ("kafka", "slave-1", "slave-2", "slave-3", "slave-4", "master-1", "flink-2.2.1")


@pytest.mark.parametrize("name", sorted(SENTENCES))
def test_every_sentence_has_its_chinese_and_no_internals(name: str) -> None:
    said = SENTENCES[name]
    assert said.en and said.zh and said.zh != said.en, name
    assert english_words([said.zh], allowed_words=KEPT, values=VALUES) == [], said.zh
    for text in said:
        assert "RTC_" not in text and "/api/" not in text and "rtc " not in text, text
        assert ".log" not in text and "/data" not in text, text
    if name == "progress":
        assert said.en.endswith(" ...") and said.zh.endswith("……")


def on_hosts(cluster: cluster_nodes.ClusterView, lost: Sequence[str]) -> cluster_nodes.ClusterView:
    """The same cluster with every node on a joined host, those of `lost` lost."""
    nodes = tuple(
        replace(
            node,
            host=cluster_nodes.HostLink(
                f"h-{node.name}", f"10.9.0.{node.id + 10}", 7400, "key", node.name in lost
            ),
        )
        for node in cluster.nodes
    )
    return replace(cluster, nodes=nodes)


def test_a_lost_hosts_node_is_not_asked_and_the_cluster_stays_running_saying_so() -> None:
    provider = FakeProvider()
    cluster = on_hosts(view(3, 2), ())
    cluster = apply(cluster, decide(cluster, provider))
    provider.serve_all()
    running = apply(cluster, decide(cluster, provider))
    assert running.state == cluster_rules.RUNNING
    del provider.running[("slave-2", "agent")]  # gone with its host
    provider.started.clear()
    lost = on_hosts(running, ("slave-2",))
    outcome = decide(lost, provider)
    assert provider.started == []  # nothing is started where no one answers
    assert outcome.state is None and outcome.message is not None
    assert "slave-2 (its host h-slave-2 is lost" in outcome.message.en
    assert "失联" in outcome.message.zh
    # released meanwhile: the reachable nodes are stopped and removed, the lost one freed
    decide(lost, provider)
    provider.stopped.clear()
    released = decide(replace(lost, state=cluster_rules.RELEASING), provider)
    assert ("slave-2", "agent") not in provider.stopped and len(provider.stopped) == 7
    assert "slave-2" not in provider.removed and "slave-1" in provider.removed
    assert sorted(released.removed_nodes) == [0, 1, 2, 3, 4]
