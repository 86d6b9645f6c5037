"""The `local` provider: every node is a directory and a block of ports on this host.

`<data_dir>/clusters/<cluster_id>/<node>` holds each component's pid file, log and, for a
ZooKeeper member, `zoo.cfg` and its data. Processes start detached (they outlive `rtc up`)
and are found again from their pid files, checked against /proc, so a restarted reconciler
adopts them instead of starting duplicates.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rtcompute import settings as settings_module
from rtcompute.domain import cluster_events
from rtcompute.domain import clusters as cluster_rules
from rtcompute.runtime import processes, zookeeper
from rtcompute.runtime.providers import base

AGENT = cluster_rules.AGENT
ZOOKEEPER = cluster_rules.ZOOKEEPER
AGENT_MODULE = "rtcompute.runtime.agent"


class LocalProvider:
    name = "local"

    def __init__(self, settings: settings_module.Settings, *, probe_timeout: float = 0.5):
        self.config = settings.local_provider
        self.root = settings.data_dir / "clusters"
        self.probe_timeout = probe_timeout
        self.stop_grace = 5.0
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ placement

    def node_directory(self, cluster_id: int, node_name: str) -> Path:
        return self.root / str(cluster_id) / node_name

    def ports_available(self, port_base: int) -> bool:
        for port in range(port_base, port_base + self.config.ports_per_node):
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    return False
        return True

    # ------------------------------------------------------------------ processes

    def _pid_file(self, component: base.ComponentSpec) -> Path:
        return component.node.directory / f"{component.kind}.pid"

    def log_of(self, component: base.ComponentSpec) -> str:
        return str(component.node.directory / f"{component.kind}.log")

    def _markers(self, component: base.ComponentSpec) -> tuple[str, ...]:
        """Whole arguments only this component's process has (slave-1 is not slave-10)."""
        directory = component.node.directory
        if component.kind == AGENT:
            return (AGENT_MODULE, str(directory))
        return (zookeeper.MAIN_CLASS, str(directory / "zoo.cfg"))

    def _reap(self) -> None:
        for pid, child in list(self._children.items()):
            if child.poll() is not None:
                del self._children[pid]

    def find(self, component: base.ComponentSpec) -> int | None:
        self._reap()
        markers = self._markers(component)
        pid = processes.live_pid(self._pid_file(component), markers)
        if pid is not None:
            return pid
        # no pid file, or a stale one: a crash may have come between start and pid file
        found = processes.search(markers)
        if not found:
            return None
        keep, extras = found[0], found[1:]
        processes.terminate(extras, markers=dict.fromkeys(extras, markers), grace=1.0)
        with contextlib.suppress(OSError):
            self._pid_file(component).write_text(f"{keep}\n")
        return keep

    def start(self, component: base.ComponentSpec) -> int:
        directory = component.node.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise base.ProviderError(
                cluster_events.directory_refused(), f"cannot create {directory}: {exc.strerror}"
            ) from exc
        if component.kind == AGENT:
            argv = [sys.executable, "-m", AGENT_MODULE, "--node-dir", str(directory)]
            argv += ["--port", str(component.port), "--host", component.node.host]
        elif component.kind == ZOOKEEPER:
            argv = self._zookeeper_command(component)
        else:
            raise base.ProviderError(cluster_events.unknown_kind(component.kind))
        try:
            child = processes.spawn(
                argv,
                log_file=Path(self.log_of(component)),
                pid_file=self._pid_file(component),
                cwd=directory,
            )
        except OSError as exc:
            raise base.ProviderError(
                cluster_events.cannot_start(component.kind),
                f"cannot start {argv[0]}: {exc.strerror}",
            ) from exc
        self._children[child.pid] = child
        return child.pid

    def _zookeeper_command(self, component: base.ComponentSpec) -> list[str]:
        home = self.config.zookeeper_home
        jar = zookeeper.jar_directory(home) / "zookeeper.jar"
        if not jar.exists():
            raise base.ProviderError(
                cluster_events.zookeeper_missing(),
                f"ZooKeeper is not installed ({jar} is missing): install the Debian package "
                "`zookeeper` (`make zookeeper`)",
            )
        peers = [
            zookeeper.Peer(p.myid, p.host, p.peer_port, p.election_port) for p in component.peers
        ]
        config = zookeeper.write_config(
            member_dir=component.node.directory,
            myid=component.myid,
            host=component.node.host,
            client_port=component.port,
            peers=peers,
        )
        return zookeeper.command(
            java=self.config.java,
            heap_mb=self.config.zookeeper_heap_mb,
            zookeeper_home=home,
            config=config,
        )

    def probe(self, component: base.ComponentSpec) -> base.Health:
        host, timeout = component.node.host, self.probe_timeout
        if component.kind == ZOOKEEPER:
            if zookeeper.four_letter(host, component.port, "ruok", timeout=timeout) != "imok":
                return base.Health(False, cluster_events.zookeeper_silent())
            mode = zookeeper.mode(
                zookeeper.four_letter(host, component.port, "srvr", timeout=timeout)
            )
            if mode not in zookeeper.SERVING_MODES:
                return base.Health(False, cluster_events.no_quorum())
            return base.Health(True, cluster_events.healthy(mode), mode)
        connection = http.client.HTTPConnection(host, component.port, timeout=timeout)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            body = json.loads(response.read()) if response.status == 200 else {}
        except (OSError, ValueError, http.client.HTTPException):
            return base.Health(False, cluster_events.agent_silent())
        finally:
            connection.close()
        if not isinstance(body, dict) or body.get("node") != component.node.name:
            return base.Health(False, cluster_events.port_taken(component.port))
        return base.Health(True, cluster_events.healthy())

    def stop(self, components: Sequence[base.ComponentSpec]) -> None:
        self._reap()
        markers: dict[int, Sequence[str]] = {}
        for component in components:
            pid = self.find(component)
            if pid is not None:
                markers[pid] = self._markers(component)
        processes.terminate(list(markers), markers=markers, grace=self.stop_grace)
        for pid in markers:
            child = self._children.pop(pid, None)
            if child is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(1.0)
        for component in components:
            self._pid_file(component).unlink(missing_ok=True)

    def remove_node(self, node: base.NodeSpec) -> None:
        shutil.rmtree(node.directory, ignore_errors=True)

    def remove_cluster(self, cluster_id: int) -> None:
        shutil.rmtree(self.root / str(cluster_id), ignore_errors=True)
