"""Observed state of engine versions, written by the engine reconciler: machine copies
(installing -> ready, or gone after a failure) and the deployments waiting on them.

A copy serves every target of its version on the machine; it is removed once no
deployment references it. A failed install removes its copy row, marks the waiting
deployments failed and puts their clusters back to running with their previous versions.
On a cluster of joined hosts (docs/hosts.md) each host has its own copy too, installed by
its agent, which reports it in its heartbeats (`host-<id>` rows, `sync_hosts`): the
deployment is installed once this machine's copy and every reachable host's copy of the
cluster are ready (a lost host installs the version when it is back).
A failed deployment's message is written in English and in Chinese
(domain/cluster_events.py): a tenant reads it on the versions page and in the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rtcompute.domain import cluster_events
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import hosts as host_rules
from rtcompute.services.capacity import clusters, hosts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db
from rtcompute.store import engines as engine_store
from rtcompute.store import hosts as host_store
from rtcompute.store.tables import engines as engine_tables

GONE = frozenset({cluster_rules.RELEASING, cluster_rules.RELEASED})


@dataclass(frozen=True)
class Plan:
    """What the machine needs: copies to install, copies nobody uses, copies there are."""

    to_install: tuple[str, ...]
    unused: tuple[str, ...]
    copies: dict[str, str] = field(default_factory=dict)  # version -> state


@dataclass(frozen=True)
class Failed:
    account_id: str | None
    target: str  # the cluster's name, or "the shared pool"
    version: str
    message: str  # what its owner is told (a tenant: no detail of the operator's setup)
    cause: str = ""  # what failed, for the operator's log


def tenant_message(version: str) -> str:
    """A failed install as a tenant sees it, in English (cluster_events.install_failed)."""
    return cluster_events.install_failed(version).en


def _drop_gone_targets(session: db.Session) -> None:
    """A releasing or released cluster's versions no longer hold their copies."""
    for row in engine_store.list_deployments_of_clusters_in(session=session, states=GONE):
        engine_store.delete_deployment(session=session, deployment=row)


def plan(platform: platform_module.Platform, host: str) -> Plan:
    with db.transaction(platform.sessions) as session:
        _drop_gone_targets(session)
        deployments = engine_store.list_deployments(session=session)
        copies = {c.version: c.state for c in engine_store.list_copies(session=session, host=host)}
    waiting = sorted(
        {d.version for d in deployments if d.state == engine_rules.INSTALLING}
        - {v for v, state in copies.items() if state == engine_rules.COPY_READY}
    )
    used = {d.version for d in deployments if d.state in engine_rules.HELD}
    unused = sorted(v for v in copies if v not in used)
    return Plan(tuple(waiting), tuple(unused), copies)


def start_copy(platform: platform_module.Platform, host: str, version: str, path: str) -> None:
    with db.transaction(platform.sessions) as session:
        copy = engine_store.read_copy(session=session, host=host, version=version)
        if copy is None:
            engine_store.add_copy(
                session=session,
                copy=engine_tables.EngineCopy(
                    host=host,
                    version=version,
                    state=engine_rules.COPY_INSTALLING,
                    path=path,
                    phase="starting",
                    progress=0,
                    since=platform.now(),
                ),
            )


def record_progress(
    platform: platform_module.Platform, host: str, version: str, phase: str, percent: int
) -> None:
    with db.transaction(platform.sessions) as session:
        copy = engine_store.read_copy(session=session, host=host, version=version)
        if copy is not None and copy.state == engine_rules.COPY_INSTALLING:
            copy.phase, copy.progress = phase[:64], max(0, min(100, percent))


def copy_ready(
    platform: platform_module.Platform,
    host: str,
    version: str,
    *,
    path: str,
    size_bytes: int,
    source: str,
) -> None:
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        copy = engine_store.read_copy(session=session, host=host, version=version)
        if copy is None:
            copy = engine_store.add_copy(
                session=session,
                copy=engine_tables.EngineCopy(host=host, version=version, state="", since=now),
            )
        copy.state, copy.path, copy.source = engine_rules.COPY_READY, path, source
        copy.phase, copy.progress, copy.message = "done", 100, ""
        copy.size_bytes, copy.since = size_bytes, now


def _back_to_running(
    session: db.Session, platform: platform_module.Platform, cluster_id: int
) -> None:
    """The cluster leaves `deploying` once none of its versions is installing."""
    cluster = cluster_store.read_cluster(session=session, cluster_id=cluster_id)
    if cluster is None or cluster.state != cluster_rules.DEPLOYING:
        return
    rows = engine_store.list_deployments(
        session=session,
        target=engine_rules.cluster_target(cluster_id),
        states=(engine_rules.INSTALLING,),
    )
    if not rows:
        clusters.move(session, platform, cluster, cluster_rules.RUNNING)


def _hosts_of(
    session: db.Session, platform: platform_module.Platform, row: engine_tables.EngineDeployment
) -> list[host_store.Host]:
    """The joined hosts a deployment's target runs on: its cluster's, or the shared pool's."""
    if row.cluster_id is not None:
        return host_store.hosts_of_cluster(session=session, cluster_id=row.cluster_id)
    if row.target == engine_rules.POOL:
        return hosts.pool_hosts(session, platform)
    return []


def _hosts_missing(
    session: db.Session, hosts_: list[host_store.Host], version: str
) -> tuple[int, int]:
    """(hosts without a ready copy of the version, their mean progress in percent): lost
    hosts are not waited for."""
    percents = []
    for host in hosts_:
        if host.lost_since is not None:
            continue
        copy = engine_store.read_copy(
            session=session, host=host_rules.engine_copy_host(host.id), version=version
        )
        ready = copy is not None and copy.state == engine_rules.COPY_READY
        percents.append(100 if ready else copy.progress if copy is not None else 0)
    missing = sum(1 for p in percents if p < 100)
    return missing, sum(percents) // len(percents) if percents else 100


def finish_deployments(platform: platform_module.Platform, host: str) -> list[str]:
    """Installing deployments whose copy is ready (on this machine and on every host of
    their cluster) become installed (the first version of a target becomes its current
    one); returns `<target> <version>` of each."""
    done: list[str] = []
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        ready = {
            c.version
            for c in engine_store.list_copies(session=session, host=host)
            if c.state == engine_rules.COPY_READY
        }
        for row in engine_store.list_deployments(
            session=session, states=(engine_rules.INSTALLING,)
        ):
            if row.version not in ready:
                continue
            waiting_on = _hosts_of(session, platform, row)
            if waiting_on:
                missing, percent = _hosts_missing(session, waiting_on, row.version)
                if missing:
                    row.phase, row.progress = "hosts", max(0, min(99, percent))
                    continue
            others = engine_store.list_deployments(session=session, target=row.target)
            row.state, row.state_since = engine_rules.INSTALLED, now
            row.phase, row.progress, row.message, row.message_zh = "done", 100, "", ""
            if not any(other.current for other in others):
                row.current = True
            session.flush()
            if row.cluster_id is not None:
                _back_to_running(session, platform, row.cluster_id)
            done.append(f"{row.target} {row.version}")
    return done


def copy_failed(
    platform: platform_module.Platform,
    host: str,
    version: str,
    message: str,
    *,
    target: str | None = None,
) -> list[Failed]:
    """The install failed: waiting deployments (of `target` only, for a joined host's
    copy) fail with the message, their clusters run on with their previous versions, the
    copy row goes (a new request retries from scratch)."""
    with db.transaction(platform.sessions) as session:
        return _copy_failed(session, platform, host, version, message, target)


def _copy_failed(
    session: db.Session,
    platform: platform_module.Platform,
    host: str,
    version: str,
    message: str,
    target: str | None,
) -> list[Failed]:
    failed: list[Failed] = []
    now = platform.now()
    engine_store.delete_copy(session=session, host=host, version=version)
    for row in engine_store.list_deployments(session=session, states=(engine_rules.INSTALLING,)):
        if row.version != version:
            continue
        if target is not None and row.target != target:
            continue
        # the shared pool is the operator's: its row keeps the cause itself
        said = (
            cluster_events.installer_said(message)
            if row.cluster_id is None
            else cluster_events.install_failed(version)
        )
        row.state, row.state_since = engine_rules.FAILED, now
        row.message, row.message_zh = said.en, said.zh
        row.current = False
        cluster = (
            cluster_store.read_cluster(session=session, cluster_id=row.cluster_id)
            if row.cluster_id is not None
            else None
        )
        if cluster is not None:
            session.flush()
            _back_to_running(session, platform, cluster.id)
        failed.append(
            Failed(
                cluster.account_id if cluster else None,
                cluster.name if cluster else "the shared pool",
                version,
                said.en,
                message,
            )
        )
    return failed


def _reported(host: host_store.Host) -> dict[str, dict[str, Any]]:
    """The engines a host's agent reported in its last heartbeat (runtime/hostengines.py)."""
    try:
        found = json.loads(host.report or "{}").get("engines")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        str(version): entry
        for version, entry in found.items()
        if engine_rules.is_name(str(version)) and isinstance(entry, dict)
    }


def _answers(session: db.Session, target: str, version: str, entry: dict[str, Any]) -> bool:
    """Whether a host's failed install answers its target's current request of the version
    (not an earlier one the agent has not heard was over)."""
    for row in engine_store.list_deployments(
        session=session, target=target, states=(engine_rules.INSTALLING,)
    ):
        if row.version == version:
            return entry.get("request") == engine_rules.install_request(row.id, row.created_at)
    return False


def sync_hosts(platform: platform_module.Platform) -> list[Failed]:
    """The joined hosts' copies as their agents last reported them: a row per version a
    host has or installs (with its progress), none for what it no longer has; a failed
    install fails the installing deployments of the host's cluster (returned, for alerts)."""
    failed: list[Failed] = []
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        for host in host_store.list_hosts(session=session):
            name = host_rules.engine_copy_host(host.id)
            rows = {c.version: c for c in engine_store.list_copies(session=session, host=name)}
            reported = _reported(host)
            for version in rows:
                if version not in reported:
                    engine_store.delete_copy(session=session, host=name, version=version)
            target = hosts.engine_target(session, platform, host)
            for version, entry in reported.items():
                state = entry.get("state")
                if state == "failed":
                    if target is not None and _answers(session, target, version, entry):
                        message = f"host {host.name}: {str(entry.get('message', ''))[:1000]}"
                        failed += _copy_failed(session, platform, name, version, message, target)
                    continue
                if state not in (engine_rules.COPY_READY, engine_rules.COPY_INSTALLING):
                    continue
                row = rows.get(version)
                if row is None:
                    row = engine_store.add_copy(
                        session=session,
                        copy=engine_tables.EngineCopy(
                            host=name, version=version, state=state, since=now
                        ),
                    )
                elif row.state != state:
                    row.state, row.since = state, now
                percent = entry.get("percent")
                row.phase = str(entry.get("phase", ""))[:64]
                row.progress = max(0, min(100, percent)) if isinstance(percent, int) else 0
                row.source = "agent"
    return failed


def drop_copy(platform: platform_module.Platform, host: str, version: str) -> bool:
    """Forget a copy nobody uses (its files are gone); False when a target took it again."""
    with db.transaction(platform.sessions) as session:
        users = [
            d
            for d in engine_store.list_deployments(session=session)
            if d.version == version and d.state in engine_rules.HELD
        ]
        if users:
            return False
        engine_store.delete_copy(session=session, host=host, version=version)
        return True
