"""A run's processes wherever they run: the guarded start and stop, and the run as a call
to a host's agent carries it.

On this machine (`reconcilers/job_runtime.FlinkRuntime`) and on a joined host (the agent,
runtime/hostagent.py) a process starts the same way: its tenant's user exists, the run's
ports are guarded by the host's rules (runtime/netrules.py), then the launcher spawns it in
its sandbox. A run's directory, its engine and its tenant's buckets lie under the storage
root every host mounts at the same path (docs/hosts.md), so a run travels as the launcher's
own value, paths included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rtcompute.domain import job_placement
from rtcompute.runtime import netrules, sandbox
from rtcompute.runtime.flink import cluster as cluster_module

JobCluster = cluster_module.JobCluster
LaunchError = cluster_module.LaunchError


def port_span(processes: Sequence[job_placement.Process]) -> tuple[int, int]:
    """The lowest and highest port of the run's processes (all inside its block)."""
    ports = [
        port
        for p in processes
        for port in (p.rest_port, p.rpc_port, p.blob_port, p.data_port, p.metrics_port)
        if port
    ]
    return min(ports), max(ports)


def zookeeper_ports(config: Mapping[str, str]) -> list[int]:
    quorum = config.get("high-availability.zookeeper.quorum", "")
    return [int(member.rsplit(":", 1)[1]) for member in quorum.split(",") if ":" in member]


def start(
    launcher: cluster_module.FlinkLauncher,
    cluster: JobCluster,
    process: job_placement.Process,
) -> int:
    """Start one process of the run here, its tenant's user and port rules first."""
    if cluster.tenant is not None:
        uid, _ = sandbox.ensure_user(cluster.tenant.user)
        try:  # the engine workers submit through the platform's relay: not let in
            netrules.guard_run(
                cluster.run_key,
                port_span(cluster.processes),
                uid,
                zookeeper_ports(cluster.config),
                closed=cluster.tenant.closed_ports,
            )
        except netrules.RuleError as exc:
            raise LaunchError(f"cannot guard the job's ports: {exc}") from exc
    return launcher.start(cluster, process)


def stop(
    launcher: cluster_module.FlinkLauncher,
    cluster: JobCluster,
    processes: Sequence[job_placement.Process] | None = None,
) -> None:
    """Stop the run's processes here (all of them, or these), then lift its port rules."""
    launcher.stop(cluster, processes)
    if cluster.tenant is not None:
        netrules.release_run(cluster.run_key)


# ---------------------------------------------------------------------------- the wire


def cluster_to_dict(cluster: JobCluster) -> dict[str, Any]:
    return {
        "run_key": cluster.run_key,
        "version": cluster.version,
        "engine_home": str(cluster.engine_home),
        "directory": str(cluster.directory),
        "processes": [asdict(p) for p in cluster.processes],
        "config": dict(cluster.config),
        "java_home": cluster.java_home,
        "tenant": None
        if cluster.tenant is None
        else {
            "user": cluster.tenant.user,
            "mounts": [asdict(m) for m in cluster.tenant.mounts],
            "closed_ports": [list(span) for span in cluster.tenant.closed_ports],
        },
    }


def cluster_from_dict(raw: Mapping[str, Any]) -> JobCluster:
    tenant = raw.get("tenant")
    return JobCluster(
        run_key=str(raw["run_key"]),
        version=str(raw["version"]),
        engine_home=Path(str(raw["engine_home"])),
        directory=Path(str(raw["directory"])),
        processes=tuple(job_placement.Process(**p) for p in raw["processes"]),
        config={str(k): str(v) for k, v in dict(raw["config"]).items()},
        java_home=None if raw.get("java_home") is None else str(raw["java_home"]),
        tenant=None
        if tenant is None
        else sandbox.Tenant(
            str(tenant["user"]),
            tuple(sandbox.Mount(**m) for m in tenant["mounts"]),
            tuple((int(low), int(high)) for low, high in tenant.get("closed_ports", [])),
        ),
    )


def process_named(cluster: JobCluster, name: str) -> job_placement.Process:
    for process in cluster.processes:
        if process.name == name:
            return process
    raise ValueError(f"run {cluster.run_key} has no process {name[:40]!r}")
