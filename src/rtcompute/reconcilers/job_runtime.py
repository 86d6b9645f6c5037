"""The job reconciler's view of the world, and its real implementation.

`Runtime` is what the reconciler needs: start, find and stop a run's Flink processes, talk
to a JobManager's REST API, and submit SQL through a version's warm engine worker. Decision
tests give the reconciler a fake; `FlinkRuntime` maps a run (services/jobs/runs.Work) onto
the launcher of runtime/flink and the worker pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from rtcompute.domain import job_placement as placement
from rtcompute.domain import sqlscript
from rtcompute.reconcilers import base
from rtcompute.runtime import netrules, sandbox
from rtcompute.runtime.engines import workers as worker_module
from rtcompute.runtime.flink import cluster as cluster_module
from rtcompute.runtime.flink import hosted
from rtcompute.runtime.flink import rest as rest_module
from rtcompute.runtime.providers import base as provider_base
from rtcompute.runtime.providers import hosts as hosts_provider
from rtcompute.services.capacity import hosts as host_service
from rtcompute.services.jobs import runs as job_runs
from rtcompute.services.kernel import platform as platform_module

Unreachable = rest_module.FlinkUnreachable
FlinkError = rest_module.FlinkError
LaunchError = cluster_module.LaunchError
SavepointStatus = rest_module.SavepointStatus
JobMetrics = rest_module.JobMetrics


class Rest(Protocol):
    def overview(self) -> dict[str, Any]: ...
    def jobs(self) -> list[dict[str, Any]]: ...
    def job(self, job_id: str) -> dict[str, Any]: ...
    def tasks_running_at(self, job_id: str, vertex_ids: list[str]) -> int | None: ...
    def exceptions(self, job_id: str) -> dict[str, Any]: ...
    def checkpoints(self, job_id: str) -> dict[str, Any]: ...
    def stop_with_savepoint(
        self, job_id: str, target_directory: str, *, drain: bool = False
    ) -> str: ...
    def savepoint_status(self, job_id: str, request_id: str) -> SavepointStatus: ...
    def cancel(self, job_id: str) -> None: ...
    def metrics(self, job_id: str) -> JobMetrics: ...


class Submitted(Protocol):
    @property
    def job_id(self) -> str | None: ...
    @property
    def problems(self) -> tuple[sqlscript.Problem, ...]: ...
    @property
    def approved(self) -> bool: ...


class Runtime(Protocol):
    def start(self, work: job_runs.Work, process: placement.Process) -> int: ...
    def find(self, work: job_runs.Work, process: placement.Process) -> int | None: ...
    def memory_kills(self, work: job_runs.Work, process: placement.Process) -> int: ...
    def stop(self, work: job_runs.Work) -> None: ...
    def rest(self, process: placement.Process) -> Rest: ...
    def submit(
        self,
        version: str,
        script: str,
        config: Mapping[str, str],
        approve: worker_module.Approve | None = None,
        account: str = "",
    ) -> Submitted: ...
    def log_tail(self, work: job_runs.Work) -> str: ...
    def host_lost(self, host: str) -> bool: ...


class Agents(Protocol):
    """The joined hosts' agents: the link of the host at an address (None: this machine)."""

    @property
    def client(self) -> hosts_provider.AgentClient: ...

    def link(self, host: str) -> provider_base.AgentLink | None: ...

    def lost(self, host: str) -> bool: ...


class HostAgents:
    """The agents of the hosts joined to this platform, found by address."""

    LOCAL = frozenset({"127.0.0.1", "localhost"})

    def __init__(
        self, platform: platform_module.Platform, client: hosts_provider.AgentClient
    ) -> None:
        self.platform = platform
        self._client = client

    @property
    def client(self) -> hosts_provider.AgentClient:
        return self._client

    def link(self, host: str) -> provider_base.AgentLink | None:
        if host in self.LOCAL:
            return None
        found = host_service.link_at(self.platform, host)
        if found is None:
            return None
        return provider_base.AgentLink(
            found.name, found.address, found.agent_port, found.public_key
        )

    def lost(self, host: str) -> bool:
        if host in self.LOCAL:
            return False
        found = host_service.link_at(self.platform, host)
        return found is not None and found.lost


class FlinkRuntime:
    """Per-job Flink clusters from the version's installed package, on this machine."""

    def __init__(
        self,
        *,
        engines_home: Path,
        workers: worker_module.WorkerPool,
        java_home: str | None = None,
        rest_timeout: float = 3.0,
        submit_timeout: float | None = None,
        platform: platform_module.Platform | None = None,
        single_tenant: bool = False,
        sandbox_paths: tuple[str, ...] = (),
        agents: Agents | None = None,
    ) -> None:
        """With `platform`, every process of a job runs in its tenant's sandbox
        (runtime/sandbox.py), or does not start where this host cannot sandbox, unless the
        operator chose `single_tenant` (every job trusted: no sandbox). With `agents`, a
        process placed on a joined host's address is started, found and stopped by that
        host's agent (docs/hosts.md); the others run on this machine."""
        self.engines_home = engines_home
        self.workers = workers
        self.java_home = java_home
        self.rest_timeout = rest_timeout
        self.submit_timeout = submit_timeout
        self.launcher = cluster_module.FlinkLauncher()
        self.platform = platform
        self.single_tenant = single_tenant or platform is None
        self.refusal = None if self.single_tenant else sandbox.unavailable()
        self.shared_mounts = tuple(sandbox.Mount(path, True) for path in sandbox_paths)
        self._clusters: dict[str, cluster_module.JobCluster] = {}
        self.agents = agents

    def cluster(self, work: job_runs.Work) -> cluster_module.JobCluster:
        """The run as the launcher sees it, built once per run (a run's placement and
        configuration are fixed when it is placed) with its tenant's sandbox, and handed to
        every call until the run stops."""
        found = self._clusters.get(work.run_key)
        if found is not None and found.processes == tuple(work.processes):
            return found  # (a TaskManager moved off a lost host: built again)
        built = cluster_module.JobCluster(
            run_key=work.run_key,
            version=work.version,
            engine_home=self.engines_home / work.version,
            directory=Path(work.directory),
            processes=tuple(work.processes),
            config=dict(work.config),
            java_home=self.java_home,
            tenant=self._tenant(work),
        )
        self._clusters[work.run_key] = built
        return built

    def _tenant(self, work: job_runs.Work) -> sandbox.Tenant | None:
        if self.single_tenant or self.refusal is not None:
            return None
        assert self.platform is not None
        mounts = job_runs.sandbox_mounts(self.platform, work)
        settings = self.platform.settings
        return sandbox.Tenant(
            sandbox.user_of(work.account_id),
            tuple(sandbox.Mount(path, writable, owned=True) for path, writable in mounts)
            + self.shared_mounts,
            (
                (settings.jobs.port_min, settings.jobs.port_max),
                (settings.local_provider.port_min, settings.local_provider.port_max),
            ),
        )

    def _agent(self, host: str) -> provider_base.AgentLink | None:
        return self.agents.link(host) if self.agents is not None else None

    def _remote(
        self,
        agent: provider_base.AgentLink,
        path: str,
        cluster: cluster_module.JobCluster,
        **more: str,
    ) -> dict[str, Any]:
        assert self.agents is not None
        payload = {"cluster": hosted.cluster_to_dict(cluster), **more}
        try:
            return self.agents.client.call(agent, path, payload)
        except hosts_provider.AgentUnreachable as exc:
            raise Unreachable(str(exc)) from exc

    def host_lost(self, host: str) -> bool:
        """Whether the joined host at this address is lost (its agent silent)."""
        return self.agents is not None and self.agents.lost(host)

    def start(self, work: job_runs.Work, process: placement.Process) -> int:
        if not self.single_tenant and self.refusal is not None:
            raise LaunchError(
                f"this installation cannot sandbox tenants' jobs: {self.refusal}. Run rtc "
                "up as root on a host with bubblewrap and cgroups, or, if every job here "
                "is trusted, turn on single-tenant mode (RTC_JOBS__SINGLE_TENANT=true)"
            )
        cluster = self.cluster(work)
        agent = self._agent(process.host)
        if agent is None:
            return hosted.start(self.launcher, cluster, process)
        answer = self._remote(agent, "/v1/flink/start", cluster, process=process.name)
        if "refused" in answer:
            raise LaunchError(f"host {agent.name}: {answer['refused']}")
        if "waiting" in answer:  # the host installs the version (docs/hosts.md)
            raise base.Temporary(f"host {agent.name}: {answer['waiting']}", delay=2.0)
        return int(answer["pid"])

    def find(self, work: job_runs.Work, process: placement.Process) -> int | None:
        agent = self._agent(process.host)
        if agent is None:
            return self.launcher.find(self.cluster(work), process)
        answer = self._remote(agent, "/v1/flink/find", self.cluster(work), process=process.name)
        pid = answer.get("pid")
        return int(pid) if isinstance(pid, int) else None

    def memory_kills(self, work: job_runs.Work, process: placement.Process) -> int:
        """Kills by the process's memory limit in its last life (0 without the sandbox)."""
        agent = self._agent(process.host)
        if agent is None:
            return self.launcher.memory_kills(self.cluster(work), process)
        answer = self._remote(
            agent, "/v1/flink/memory-kills", self.cluster(work), process=process.name
        )
        return int(answer.get("kills", 0))

    def stop(self, work: job_runs.Work) -> None:
        """Stop every process of the run: those of joined hosts through their agents."""
        cluster = self.cluster(work)
        here = []
        for host in sorted({p.host for p in cluster.processes}):
            agent = self._agent(host)
            if agent is None:
                here += [p for p in cluster.processes if p.host == host]
            elif not self.host_lost(host):
                self._remote(agent, "/v1/flink/stop", cluster)
            # a lost host's agent stops them when it is back (its heartbeat's answer)
        self.launcher.stop(cluster, here)
        if not self.single_tenant:
            netrules.release_run(work.run_key)
        self._clusters.pop(work.run_key, None)

    def kill(self, work: job_runs.Work, process: placement.Process) -> None:
        agent = self._agent(process.host)
        if agent is None:
            self.launcher.kill(self.cluster(work), process)
            return
        self._remote(agent, "/v1/flink/kill", self.cluster(work), process=process.name)

    def rest(self, process: placement.Process) -> Rest:
        return rest_module.FlinkRest(process.host, process.rest_port, timeout=self.rest_timeout)

    def submit(
        self,
        version: str,
        script: str,
        config: Mapping[str, str],
        approve: worker_module.Approve | None = None,
        account: str = "",
    ) -> Submitted:
        return self.workers.submit(
            version, script, config, timeout=self.submit_timeout, approve=approve, account=account
        )

    def log_tail(self, work: job_runs.Work, lines: int = 15) -> str:
        """The last lines of the JobManager's log: why a start went wrong."""
        found = [
            f
            for f in self.launcher.logs(self.cluster(work))
            if f.kind == "log" and f.process.startswith("jobmanager")
        ]
        for log in found:
            try:
                text = log.path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            errors = [line for line in text if " ERROR " in line or "Exception" in line]
            return "\n".join((errors or text)[-lines:])
        return ""
