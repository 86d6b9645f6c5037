"""The `hosts` provider: a node on a joined host is run by that host's agent.

The platform never logs in to a host: each call of the Provider protocol becomes one call to
the node's agent (runtime/hostagent.py), signed with the platform's key, whose answer must
carry the agent's signature over this very request. The agent runs the node's processes with
the same `local` provider code on its own machine, under its own state directory, bound to
its own address, and finds them again after its own restart (adoption).

`Routing` puts both together for the cluster reconciler: a node with an agent link goes to
its host, any other stays on this machine.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from rtcompute.domain import cluster_events, signatures
from rtcompute.domain.cluster_events import Said
from rtcompute.runtime.providers import base


class AgentUnreachable(Exception):
    """The host's agent did not answer, or not with its own signature: retried later."""


class AgentClient:
    """Signed calls to hosts' agents, and their verified answers."""

    def __init__(
        self,
        keys: signatures.KeyPair,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.clock = clock
        # a silent host costs a short connect, not the long wait a Flink start may need
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)))

    def call(self, agent: base.AgentLink, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One signed call to an agent, and its verified answer."""
        body = json.dumps(payload).encode()
        headers = signatures.sign_request(
            self.keys, signatures.PLATFORM_KEY_ID, "POST", path, body, now=self.clock()
        )
        try:
            response = self.http.post(
                f"http://{agent.address}:{agent.port}{path}",
                content=body,
                headers=headers | {"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise AgentUnreachable(
                f"the agent of host {agent.name} does not answer: {exc}"
            ) from exc
        try:
            signatures.verify_answer(
                agent.public_key,
                response.headers.get(signatures.SIGNATURE_HEADER, ""),
                response.status_code,
                headers[signatures.NONCE_HEADER],
                response.content,
            )
        except signatures.BadSignature as exc:
            raise AgentUnreachable(
                f"{agent.address}:{agent.port} answered, but not as the agent of host "
                f"{agent.name}: {exc}"
            ) from exc
        if response.status_code != 200:
            raise AgentUnreachable(
                f"the agent of host {agent.name} refused {path}: {response.text[:300]}"
            )
        answer: dict[str, Any] = json.loads(response.content)
        return answer


class HostsProvider:
    name = "hosts"

    def __init__(self, client: AgentClient) -> None:
        self.client = client

    def call(self, agent: base.AgentLink, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.client.call(agent, path, payload)

    @staticmethod
    def _agent(component: base.ComponentSpec) -> base.AgentLink:
        agent = component.node.agent
        assert agent is not None, "a hosts node without its agent"
        return agent

    def node_directory(self, cluster_id: int, node_name: str) -> Path:
        # the agent keeps the node's files under its own state directory
        return Path("host") / str(cluster_id) / node_name

    def ports_available(self, port_base: int) -> bool:
        return True  # a host serves one node: its blocks are its own

    def find(self, component: base.ComponentSpec) -> int | None:
        answer = self.call(
            self._agent(component), "/v1/components/find", base.component_to_dict(component)
        )
        pid = answer.get("pid")
        return int(pid) if isinstance(pid, int) else None

    def start(self, component: base.ComponentSpec) -> int:
        answer = self.call(
            self._agent(component), "/v1/components/start", base.component_to_dict(component)
        )
        refused = answer.get("refused")
        if isinstance(refused, dict):
            said = Said(str(refused.get("en", "")), str(refused.get("zh", "")))
            raise base.ProviderError(said, f"host {self._agent(component).name}: {refused}")
        return int(answer["pid"])

    def probe(self, component: base.ComponentSpec) -> base.Health:
        try:
            answer = self.call(
                self._agent(component), "/v1/components/probe", base.component_to_dict(component)
            )
        except AgentUnreachable:
            return base.Health(False, cluster_events.agent_silent())
        detail = answer.get("detail") or {}
        return base.Health(
            bool(answer.get("answers")),
            Said(str(detail.get("en", "")), str(detail.get("zh", ""))),
            str(answer.get("mode", "")),
        )

    def stop(self, components: Sequence[base.ComponentSpec]) -> None:
        by_agent: dict[base.AgentLink, list[dict[str, Any]]] = {}
        for component in components:
            by_agent.setdefault(self._agent(component), []).append(
                base.component_to_dict(component)
            )
        for agent, listed in by_agent.items():
            self.call(agent, "/v1/components/stop", {"components": listed})

    def remove_node(self, node: base.NodeSpec) -> None:
        assert node.agent is not None
        self.call(
            node.agent, "/v1/nodes/remove", {"cluster_id": node.cluster_id, "name": node.name}
        )

    def remove_cluster(self, cluster_id: int) -> None:
        pass  # each host's node was removed with its node; the agent drops the empty folder

    def log_of(self, component: base.ComponentSpec) -> str:
        agent = self._agent(component)
        return f"host {agent.name} ({agent.address}): {component.node.name}/{component.kind}.log"


class Routing:
    """Nodes with an agent link to their host's agent; the others to this machine."""

    name = "routing"

    def __init__(self, local: base.Provider, hosts: HostsProvider) -> None:
        self.local = local
        self.hosts = hosts

    def _for(self, node: base.NodeSpec) -> base.Provider:
        return self.hosts if node.agent is not None else self.local

    def node_directory(self, cluster_id: int, node_name: str) -> Path:
        return self.local.node_directory(cluster_id, node_name)

    def ports_available(self, port_base: int) -> bool:
        return self.local.ports_available(port_base)

    def find(self, component: base.ComponentSpec) -> int | None:
        return self._for(component.node).find(component)

    def start(self, component: base.ComponentSpec) -> int:
        return self._for(component.node).start(component)

    def probe(self, component: base.ComponentSpec) -> base.Health:
        return self._for(component.node).probe(component)

    def stop(self, components: Sequence[base.ComponentSpec]) -> None:
        remote = [c for c in components if c.node.agent is not None]
        here = [c for c in components if c.node.agent is None]
        if here:
            self.local.stop(here)
        if remote:
            self.hosts.stop(remote)

    def remove_node(self, node: base.NodeSpec) -> None:
        self._for(node).remove_node(node)

    def remove_cluster(self, cluster_id: int) -> None:
        self.local.remove_cluster(cluster_id)

    def log_of(self, component: base.ComponentSpec) -> str:
        return self._for(component.node).log_of(component)
