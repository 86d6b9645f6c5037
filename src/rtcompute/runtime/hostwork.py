"""The work of a joined host's agent on its host (docs/hosts.md): the platform's calls for
the nodes' processes and the jobs' Flink processes, the sweep of stale Flink processes and
the host's engine versions, as the heartbeats' answers ask.

A node's processes (its node agent, its ZooKeeper member) run with the `local` provider's
own code under the agent's state directory, bound to the host's address; a job's Flink
processes run in their tenant's sandbox from this host's copy of the engine version
(runtime/hostengines.py). Every process is detached from the agent: an agent restarted
finds them again (adoption).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rtcompute import settings as settings_module
from rtcompute.runtime import hostengines, processes
from rtcompute.runtime.flink import cluster as flink_cluster
from rtcompute.runtime.flink import hosted
from rtcompute.runtime.providers import base as provider_base
from rtcompute.runtime.providers import local as local_provider

log = logging.getLogger("rtcompute.agent")

CALLS = frozenset(
    {
        "/v1/components/find",
        "/v1/components/start",
        "/v1/components/probe",
        "/v1/components/stop",
        "/v1/nodes/remove",
        "/v1/flink/start",
        "/v1/flink/find",
        "/v1/flink/stop",
        "/v1/flink/kill",
        "/v1/flink/memory-kills",
    }
)
NODE_NAME = re.compile(r"(master|slave)-[0-9]{1,4}")
# the argument every Flink process of a run carries (runtime/flink/cluster.markers)
MARKER = f"{flink_cluster.MARKER_KEY}="
STALE_AFTER_SECONDS = 20.0


def _flink_processes() -> list[tuple[int, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = processes.cmdline(int(entry.name))
        if (
            argv
            and os.path.basename(argv[0]) not in processes.WRAPPERS
            and any(MARKER in a for a in argv)
        ):
            found.append((int(entry.name), argv))
    return found


def _network_namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return ""


def _age_seconds(pid: int) -> float:
    found = processes.stat(pid)
    if found is None:
        return 0.0
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - found.start_time / os.sysconf("SC_CLK_TCK")


class HostWork:
    """What the agent runs on its host, one platform call at a time."""

    def __init__(self, state_directory: Path, address: str, name: str) -> None:
        self.address = address
        self.name = name
        # the node processes of this host, run as the `local` provider runs them, under the
        # agent's state directory
        self.provider = local_provider.LocalProvider(
            settings_module.Settings(data_dir=state_directory)
        )
        self.lock = threading.Lock()
        here = _network_namespace(os.getpid())
        self.launcher = flink_cluster.FlinkLauncher(
            owns=lambda pid: _network_namespace(pid) == here
        )
        self.engines = hostengines.Engines(state_directory / "engines", in_use=self.runs_version)

    def call(self, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One of the platform's calls (CALLS), never two at once."""
        with self.lock:
            return self.node_call(target, payload)

    def answered(self, answer: Mapping[str, Any]) -> None:
        """A heartbeat's answer: stop what no longer belongs here, install what the host's
        target needs."""
        expected = answer.get("flink")
        if isinstance(expected, list):
            with self.lock:
                self.sweep({str(path) for path in expected})
        engines = answer.get("engines")
        if isinstance(engines, dict) and isinstance(engines.get("versions"), list):
            self.engines.want(
                [str(v) for v in engines["versions"]],
                dict(engines.get("source") or {}),
                keep=[str(v) for v in engines.get("keep") or []],
                unused_seconds=float(engines.get("unused_seconds") or 0.0),
                requests={str(k): str(v) for k, v in dict(engines.get("requests") or {}).items()},
            )

    def runs_version(self, version: str) -> bool:
        """Whether a Flink process of this host runs from its copy of the version."""
        copy = str(self.engines.home / version)
        here = _network_namespace(os.getpid())
        return any(
            copy in " ".join(argv) and _network_namespace(pid) == here
            for pid, argv in _flink_processes()
        )

    def sweep(self, expected: set[str]) -> list[int]:
        """Stop this host's Flink processes the platform no longer places here (a run that
        moved off this host while it was lost, or ended meanwhile): never a second copy of
        a job's process. A process younger than `STALE_AFTER_SECONDS` is left alone: the
        answer may have been computed just before it was placed."""
        here = _network_namespace(os.getpid())
        stale: dict[int, Sequence[str]] = {}
        found = _flink_processes()
        for pid, argv in found:
            marker = next(a for a in argv if MARKER in a)
            path = marker.split("=", 1)[1]
            if path in expected or _network_namespace(pid) != here:
                continue
            if _age_seconds(pid) < STALE_AFTER_SECONDS:
                continue
            stale[pid] = [marker]
        if stale:
            log.warning("stopping %d stale Flink processes: %s", len(stale), sorted(stale))
            processes.terminate(list(stale), markers=stale, grace=5.0)
        return sorted(stale)

    # ------------------------------------------------------------ the nodes on this host

    def node_directory(self, cluster_id: int, name: str) -> Path:
        if not NODE_NAME.fullmatch(name) or cluster_id < 1:
            raise ValueError(f"{name[:40]!r} of cluster {cluster_id} is no node")
        return self.provider.node_directory(cluster_id, name)

    def flink_call(self, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one of the job runtime's calls for the processes of a run on this host."""
        cluster = hosted.cluster_from_dict(payload["cluster"])
        # the run's processes here run from this host's own copy of its version
        copy = self.engines.home_of(cluster.version)
        if copy is not None:
            cluster = replace(cluster, engine_home=copy)
        if target == "/v1/flink/stop":
            mine = [p for p in cluster.processes if p.host == self.address]
            hosted.stop(self.launcher, cluster, mine)
            return {}
        process = hosted.process_named(cluster, str(payload["process"]))
        if process.host != self.address:
            raise ValueError(f"{process.name} is not on this host ({process.host})")
        if target == "/v1/flink/start":
            if copy is None:
                return {"waiting": f"{cluster.version} is not installed on host {self.name} yet"}
            try:
                return {"pid": hosted.start(self.launcher, cluster, process)}
            except hosted.LaunchError as exc:
                log.warning("cannot start %s of %s: %s", process.name, cluster.run_key, exc)
                return {"refused": str(exc)}
        if target == "/v1/flink/find":
            return {"pid": self.launcher.find(cluster, process)}
        if target == "/v1/flink/kill":
            self.launcher.kill(cluster, process)
            return {}
        return {"kills": self.launcher.memory_kills(cluster, process)}

    def node_call(self, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one of the cluster reconciler's provider calls on this host."""
        if target.startswith("/v1/flink/"):
            return self.flink_call(target, payload)
        if target == "/v1/nodes/remove":
            cluster_id = int(payload["cluster_id"])
            directory = self.node_directory(cluster_id, str(payload["name"]))
            self.provider.remove_node(
                provider_base.NodeSpec(cluster_id, directory.name, directory, 0)
            )
            with contextlib.suppress(OSError):
                directory.parent.rmdir()  # the cluster's folder, once its last node is gone
            return {}
        if target == "/v1/components/stop":
            listed = [
                provider_base.component_from_dict(raw, self.node_directory)
                for raw in payload["components"]
            ]
            self.provider.stop(listed)
            return {}
        component = provider_base.component_from_dict(payload, self.node_directory)
        if component.node.host != self.address:
            raise ValueError(f"the node is not on this host ({component.node.host})")
        if target == "/v1/components/find":
            return {"pid": self.provider.find(component)}
        if target == "/v1/components/start":
            try:
                return {"pid": self.provider.start(component)}
            except provider_base.ProviderError as exc:
                log.warning("cannot start %s: %s", component.kind, exc.detail)
                return {"refused": {"en": exc.said.en, "zh": exc.said.zh}}
        health = self.provider.probe(component)
        detail = {"en": health.detail.en, "zh": health.detail.zh}
        return {"answers": health.answers, "detail": detail, "mode": health.mode}
