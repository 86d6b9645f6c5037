"""The job reconciler's side of online jobs: what to work on, and how a run begins (what
it sees is recorded by services/jobs/records.py).

A start becomes a run: a row with its port block, the placement of its Flink processes
(domain/job_placement.py), its directory and the state it restores from, written before any
process starts, so a restart of `rtc up` finds the same run and adopts its processes
instead of starting a second copy. Every state change goes through `domain/jobs.MOVES`.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rtcompute.domain import flinkconf, job_events, sqlscript
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import job_placement as placement
from rtcompute.domain import jobs as job_rules
from rtcompute.services.capacity import hosts as host_service
from rtcompute.services.capacity import machine_types
from rtcompute.services.jobs import paths as job_paths
from rtcompute.services.jobs import resources as job_resources
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import buckets as bucket_store
from rtcompute.store import cluster_nodes as node_store
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db, tables
from rtcompute.store import hosts as host_store
from rtcompute.store import jobs as job_store
from rtcompute.store.tables import capacity as capacity_tables

LOCAL_HOST = "127.0.0.1"
POOL_NODE = "pool"
ZOOKEEPER = "zookeeper"
LAUNCHING = "launching"
SUBMITTING = "submitting"
RUN_RUNNING = "running"
RUN_STOPPING = "stopping"
ENDED = "ended"


# every run (the cluster's processes read these from their config; the submitted copy is
# harmless): a lost TaskManager is noticed in seconds (Flink's default: 50 s), and the REST
# metrics refresh every 2 s (default 10 s) so the console's charts move
RUN_DEFAULTS = {
    "heartbeat.interval": "2000",
    "heartbeat.timeout": "15000",
    "metrics.fetcher.update-interval": "2000",
    # the REST API's job details are a cached copy this old at most (default 3 s): a job's
    # RUNNING shows sooner
    "web.refresh-interval": "500",
    # streaming SQL on the heap state backend uses no managed memory: give it to the heap
    "taskmanager.memory.managed.fraction": "0.1",
    # TaskManagers start with their JobManager and retry registering until it answers:
    # retry every 100 ms .. 1 s (default up to 30 s)
    "cluster.registration.initial-timeout": "100 ms",
    "cluster.registration.max-timeout": "1 s",
}
# with a standby JobManager: a dead leader's ZooKeeper session ends in 10 s (default 60 s)
HA_DEFAULTS = {"high-availability.zookeeper.client.session-timeout": "10000"}
HA_STORAGE_KEY = "high-availability.storageDir"


@dataclass(frozen=True)
class Work:
    """A deployment to reconcile, with its current run (if any), as one snapshot."""

    job_id: int
    job: str
    project: str
    account_id: str
    desired: str
    state: str
    state_since: datetime
    version: str
    stop_mode: str
    run: int
    step: str  # "" when there is no live run
    run_key: str = ""
    directory: str = ""
    processes: tuple[placement.Process, ...] = ()
    flink_job_id: str = ""
    trigger_id: str = ""
    restore_path: str = ""
    started_at: datetime | None = None
    failover_seen_ms: int = 0
    config: dict[str, str] = field(default_factory=dict)
    savepoint_dir: str = ""
    allow_non_restored: bool = False  # the start's choice, for a restore

    @property
    def leader(self) -> placement.Process | None:
        return next((p for p in self.processes if p.kind == placement.JOBMANAGER), None)


def local_path(uri: str) -> str:
    """The path of a file: URI as Flink writes them (`file:/x`, `file:///x`)."""
    if uri.startswith("file:"):
        return "/" + uri[len("file:") :].lstrip("/")
    return uri


def new_run_key(job_id: int, number: int) -> str:
    """`job-12-run-3-9f2c41d0`: names the run's directory, process markers and HA cluster
    id. SQLite hands a deleted job's id to the next job, so the id and number alone could
    meet a deleted job's leftovers (its logs, its ZooKeeper nodes); the random part cannot."""
    return f"job-{job_id}-run-{number}-{secrets.token_hex(4)}"


def run_key_of(run: job_store.Run) -> str:
    return Path(run.directory).name


def _bucket(session: db.Session, account_id: str, name: str) -> capacity_tables.Bucket | None:
    return bucket_store.read_bucket(session=session, account_id=account_id, name=name)


def _state_dirs(
    platform: platform_module.Platform,
    session: db.Session,
    project: tables.Project,
    deployment: job_store.Deployment,
) -> tuple[str, str, str]:
    """Checkpoint, savepoint and HA directories in the job's state bucket (file:// URIs)."""
    bucket = _bucket(session, project.account_id, deployment.state_bucket)
    base = f"{job_rules.PLATFORM_FOLDER}/jobs/{project.name}/{deployment.job_id}"
    if bucket is None:
        return "", "", ""
    return (
        job_paths.state_location(platform, bucket, f"{base}/checkpoints"),
        job_paths.state_location(platform, bucket, f"{base}/savepoints"),
        job_paths.state_location(platform, bucket, f"{base}/ha"),
    )


def _quorum(session: db.Session, cluster_id: int | None) -> str:
    if cluster_id is None:
        return ""
    members = [
        c
        for c in node_store.list_components(session=session, cluster_ids=[cluster_id])
        if c.kind == ZOOKEEPER
    ]
    host = host_of(session, node_store.list_nodes(session=session, cluster_ids=[cluster_id]))
    return ",".join(f"{host.get(c.node_id, LOCAL_HOST)}:{c.port}" for c in members)


def lost_nodes(session: db.Session, nodes: list[capacity_tables.ClusterNode]) -> set[int]:
    """The nodes whose host is lost: nothing new is placed there."""
    joined = host_store.hosts_of_nodes(session=session, node_ids=[n.id for n in nodes])
    return {node_id for node_id, h in joined.items() if h.lost_since is not None}


def host_of(session: db.Session, nodes: list[capacity_tables.ClusterNode]) -> dict[int, str]:
    """Where each node's processes run: its joined host's address (a hosts zone; the node's
    address is its host's), else this machine."""
    joined = host_store.hosts_of_nodes(session=session, node_ids=[n.id for n in nodes])
    return {n.id: n.address if n.id in joined else LOCAL_HOST for n in nodes}


def _config(
    platform: platform_module.Platform,
    session: db.Session,
    project: tables.Project,
    deployment: job_store.Deployment,
    run: job_store.Run,
    processes: tuple[placement.Process, ...],
) -> dict[str, str]:
    settings = deployment.settings
    checkpoints, savepoints, ha = _state_dirs(platform, session, project, deployment)
    config = job_rules.flink_config(
        deployment.engine_version, settings, checkpoint_dir=checkpoints, savepoint_dir=savepoints
    )
    config.setdefault("pipeline.name", f"{project.name}.{_job_name(session, deployment)}")
    config.update(RUN_DEFAULTS)
    if platform.settings.jobs.jobmanager_java_opts:
        config["env.java.opts.jobmanager"] = platform.settings.jobs.jobmanager_java_opts
    if platform.settings.jobs.taskmanager_java_opts:
        config["env.java.opts.taskmanager"] = platform.settings.jobs.taskmanager_java_opts
    standby = sum(1 for p in processes if p.kind == placement.JOBMANAGER) > 1
    quorum = _quorum(session, deployment.cluster_id)
    if standby and quorum:
        config.update(
            {
                "high-availability.type": "zookeeper",
                "high-availability.zookeeper.quorum": quorum,
                HA_STORAGE_KEY: f"{ha}/{run_key_of(run)}",
                "high-availability.cluster-id": f"/{run_key_of(run)}",
                **HA_DEFAULTS,
            }
        )
    return config


def _job_name(session: db.Session, deployment: job_store.Deployment) -> str:
    job = job_store.read_job_by_id(session=session, job_id=deployment.job_id)
    return job.name if job else str(deployment.job_id)


def pending(platform: platform_module.Platform) -> list[Work]:
    """Deployments that are starting, running or stopping, or want to run."""
    found: list[Work] = []
    with db.transaction(platform.sessions) as session:
        rows = job_store.deployments_to_reconcile(session=session, active=job_rules.ACTIVE)
        for deployment in rows:
            found.append(_work(platform, session, deployment))
    return found


def _work(
    platform: platform_module.Platform, session: db.Session, deployment: job_store.Deployment
) -> Work:
    job = job_store.read_job_by_id(session=session, job_id=deployment.job_id)
    project = session.get(tables.Project, deployment.project_id)
    assert job is not None and project is not None
    run = job_store.read_run(session=session, job_id=job.id, number=deployment.run)
    base = Work(
        job_id=job.id,
        job=job.name,
        project=project.name,
        account_id=project.account_id,
        desired=deployment.desired,
        state=deployment.state,
        state_since=deployment.state_since,
        version=deployment.engine_version,
        stop_mode=deployment.stop_mode,
        allow_non_restored=bool(deployment.allow_non_restored),
        run=deployment.run,
        step="",
    )
    if run is None or run.step == ENDED:
        return base
    processes = run.placement
    if run.config:
        config = dict(run.config)
    else:  # a run placed before its configuration was stored with it
        config = _config(platform, session, project, deployment, run, processes)
    savepoints = config.get(flinkconf.state_keys(run.engine_version).savepoint_dir, "")
    return Work(
        **{
            **base.__dict__,
            "step": run.step,
            "run_key": run_key_of(run),
            "directory": run.directory,
            "processes": processes,
            "flink_job_id": run.flink_job_id,
            "trigger_id": run.trigger_id,
            "restore_path": run.restore_path,
            "started_at": run.started_at,
            "failover_seen_ms": run.failover_seen_ms,
            "config": config,
            "savepoint_dir": savepoints,
        }
    )


# ---- a new run --------------------------------------------------------------------------


class CannotStart(Exception):
    """A start that cannot be done as asked: the message says why and what to do."""


def _rooms(
    platform: platform_module.Platform,
    session: db.Session,
    project: tables.Project,
    live: list[placement.Process],
) -> tuple[list[placement.Master], list[placement.Slave]]:
    slots = placement.slots_by_node(live)
    managers = placement.jobmanagers_by_node(live)
    if project.cluster_id is None and platform.settings.jobs.pool_zone:
        return _pool_hosts(platform, session, slots, managers)
    if project.cluster_id is None:
        pool_slots = platform.settings.jobs.pool_slots - slots.get(POOL_NODE, 0)
        return (
            [placement.Master(POOL_NODE, LOCAL_HOST, managers.get(POOL_NODE, 0))],
            [placement.Slave(POOL_NODE, LOCAL_HOST, pool_slots)],
        )
    cluster = cluster_store.read_cluster(session=session, cluster_id=project.cluster_id)
    if cluster is None:
        raise CannotStart("the project's cluster is gone")
    slave_type = machine_types.load(session, platform, cluster.region).find(
        "slave", cluster.slave_type
    )
    usable = slave_type.cu if slave_type is not None and slave_type.cu else 0
    nodes = node_store.list_nodes(session=session, cluster_ids=[cluster.id])
    host = host_of(session, nodes)
    lost = lost_nodes(session, nodes)
    key = node_key(cluster.id, "")
    masters = [
        placement.Master(key + n.name, host[n.id], managers.get(key + n.name, 0))
        for n in nodes
        if n.role == "master" and n.state == "running" and n.id not in lost
    ]
    slaves = [
        placement.Slave(key + n.name, host[n.id], usable - slots.get(key + n.name, 0))
        for n in nodes
        if n.role == "slave" and n.state == "running" and n.id not in lost
    ]
    return masters, slaves


def _pool_hosts(
    platform: platform_module.Platform,
    session: db.Session,
    slots: dict[str, int],
    managers: dict[str, int],
) -> tuple[list[placement.Master], list[placement.Slave]]:
    """The shared pool on joined hosts (`RTC_JOBS__POOL_ZONE`): every host in service is
    both a master and a slave, with its CU as slots (docs/hosts.md)."""
    found = host_service.pool_hosts(session, platform)
    if not found:
        raise CannotStart(
            f"the shared pool's zone {platform.settings.jobs.pool_zone} has no host in "
            "service: the operator joins hosts to it (docs/hosts.md)"
        )
    key = f"{POOL_NODE}:"
    masters = [
        placement.Master(key + h.name, h.address, managers.get(key + h.name, 0)) for h in found
    ]
    slaves = [
        placement.Slave(
            key + h.name,
            h.address,
            host_rules.pool_slots(h.cores, h.memory_mb) - slots.get(key + h.name, 0),
        )
        for h in found
    ]
    return masters, slaves


def _port_base(platform: platform_module.Platform, session: db.Session) -> int:
    config = platform.settings.jobs
    used = job_store.port_bases_in_use(session=session)
    for base in range(
        config.port_min, config.port_max + 2 - config.ports_per_run, config.ports_per_run
    ):
        if base not in used:
            return base
    raise CannotStart("every port block of the per-job clusters is in use (settings jobs.port_*)")


def _restore_path(session: db.Session, deployment: job_store.Deployment) -> str:
    if deployment.start_mode == job_rules.STATELESS or deployment.savepoint_id is None:
        return ""
    found = job_store.read_savepoint(
        session=session, job_id=deployment.job_id, savepoint_id=deployment.savepoint_id
    )
    if found is None:
        raise CannotStart("the savepoint to restore from was deleted")
    path = local_path(found.location)
    if not os.path.exists(path):
        raise CannotStart(
            f"the {found.kind} to restore from is gone from the bucket: {found.location}"
        )
    return found.location


@dataclass(frozen=True)
class Moved:
    """A TaskManager placed again, off a lost host (`process` None: no room: `missing` slots)."""

    process: placement.Process | None
    missing: int = 0


def move_taskmanager(
    platform: platform_module.Platform, job_id: int, number: int, name: str
) -> Moved:
    """Place a TaskManager of a run on a slave with room, off the lost host it ran on: Flink
    restarts the job from its latest checkpoint once the new one registers its slots."""
    with db.transaction(platform.sessions) as session:
        locks_of_runs(session)
        run = job_store.read_run(session=session, job_id=job_id, number=number)
        deployment = job_store.read_deployment(session=session, job_id=job_id)
        if run is None or deployment is None:
            return Moved(None)
        current = list(run.placement)
        old = next((p for p in current if p.name == name), None)
        project = session.get(tables.Project, deployment.project_id)
        if old is None or project is None:
            return Moved(None)
        live = [p for found in job_store.live_placements(session=session) for p in found]
        live.remove(old)  # its slots are free: it is gone with its host
        _, slaves = _rooms(platform, session, project, live)
        fitting = [s for s in slaves if s.free_slots >= old.slots and s.name != old.node]
        if not fitting:
            best = max((s.free_slots for s in slaves), default=0)
            return Moved(None, old.slots - max(best, 0))
        target = max(fitting, key=lambda s: (s.free_slots, s.name))
        moved = dataclasses.replace(old, node=target.name, host=target.host)
        run.placement = tuple(moved if p == old else p for p in current)
        return Moved(moved)


def begin_run(platform: platform_module.Platform, job_id: int) -> Work:
    """Write the next run (ports, placement, directory, restore path) of a starting job."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        deployment = job_store.read_deployment(session=session, job_id=job_id, lock=True)
        if deployment is None or deployment.state != job_rules.STARTING:
            raise CannotStart("the job is no longer starting")
        project = session.get(tables.Project, deployment.project_id)
        assert project is not None
        locks_of_runs(session)
        live = [p for found in job_store.live_placements(session=session) for p in found]
        masters, slaves = _rooms(platform, session, project, live)
        settings = deployment.settings
        config = platform.settings.jobs
        base = _port_base(platform, session)
        try:
            processes = placement.place(
                settings.parallelism,
                masters,
                slaves,
                standby=bool(_quorum(session, deployment.cluster_id)),
                port_base=base,
                ports_per_run=config.ports_per_run,
                memory=placement.Memory(
                    config.jobmanager_memory_mb,
                    config.taskmanager_memory_mb,
                    config.taskmanager_memory_per_extra_slot_mb,
                ),
            )
        except placement.NoRoom as exc:
            raise CannotStart(str(exc)) from None
        number = job_store.last_run_number(session=session, job_id=job_id) + 1
        directory = platform.settings.data_dir / "flink" / new_run_key(job_id, number)
        run = job_store.Run(
            job_id=job_id,
            number=number,
            engine_version=deployment.engine_version,
            port_base=base,
            placement=processes,
            directory=str(directory),
            step=LAUNCHING,
            restore_path=_restore_path(session, deployment),
            started_at=now,
        )
        run.config = _config(platform, session, project, deployment, run, processes)
        session.add(run)
        deployment.run, deployment.restarts, deployment.flink_state = number, 0, ""
        said = job_events.placed(number, len(processes))
        job_store.add_event(
            session=session,
            job_id=job_id,
            at=now,
            kind=job_events.STATE,
            message=said.en,
            message_zh=said.zh,
        )
        session.flush()
        return _work(platform, session, deployment)


def locks_of_runs(session: db.Session) -> None:
    """One writer of runs at a time (ports and slots are checked, then taken)."""
    from rtcompute.store import locks

    locks.hold_named(session=session, name="job-runs")


GONE = sqlscript.Problem(1, 1, "the job is no longer online")


def _deployed(
    session: db.Session, job_id: int
) -> tuple[job_store.Deployment | None, tables.Project | None]:
    """The job's deployment and its project (None, None once the job went offline)."""
    deployment = job_store.read_deployment(session=session, job_id=job_id)
    if deployment is None:
        return None, None
    return deployment, session.get(tables.Project, deployment.project_id)


@dataclass(frozen=True)
class Submission:
    """What a run submits, checked again now: the deployed SQL with its locations rewritten
    for Flink, the file:// URIs of its JARs for `pipeline.jars`, and the problems that
    refuse it (the JARs' first, then the location rules')."""

    script: str
    jars: tuple[str, ...]
    problems: tuple[sqlscript.Problem, ...]


def submission(platform: platform_module.Platform, job_id: int) -> Submission:
    """The one place a run's submission is made, in one transaction."""
    with db.transaction(platform.sessions) as session:
        deployment, project = _deployed(session, job_id)
        if deployment is None or project is None:
            return Submission("", (), (GONE,))
        where = {"account_id": project.account_id, "region": project.region}
        paths = job_paths.resolve(
            platform, session, **where, statements=sqlscript.split(deployment.sql)
        )
        jars = job_resources.resolve(platform, session, **where, frozen=deployment.resources)
    script = ";\n".join(s.sql for s in paths.statements)
    return Submission(script, jars.jars, jars.problems + paths.problems)


def sandbox_mounts(platform: platform_module.Platform, work: Work) -> tuple[tuple[str, bool], ...]:
    """What a run's sandboxed processes see besides the engine and their run directory:
    its state directories (checkpoints, savepoints, HA), writable, and the buckets its SQL
    names: writable where the service role lets it write some location it names there
    (oss:PutObject), read-only where it may only read (oss:GetObject). Directories are made
    now, so the sandbox can mount them."""
    state_keys = flinkconf.state_keys(work.version)
    keys = (state_keys.checkpoint_dir, state_keys.savepoint_dir, HA_STORAGE_KEY)
    paths = {
        local_path(work.config[k]): True for k in keys if work.config.get(k, "").startswith("file:")
    }
    with db.transaction(platform.sessions) as session:
        deployment, project = _deployed(session, work.job_id)
        if deployment is not None and project is not None:
            resolved = job_paths.resolve(
                platform,
                session,
                account_id=project.account_id,
                region=project.region,
                statements=sqlscript.split(deployment.sql),
            )
            for name in resolved.buckets:
                bucket = _bucket(session, project.account_id, name)
                if bucket is not None:
                    root = str(job_paths.bucket_root(platform, bucket))
                    paths[root] = paths.get(root, False) or name in resolved.writable
    for path in paths:
        Path(path).mkdir(parents=True, exist_ok=True)
    return tuple(sorted(paths.items()))


def judge_submission(
    platform: platform_module.Platform,
    job_id: int,
    statements: tuple[sqlscript.Statement, ...],
    resolved: sqlscript.Resolved,
) -> tuple[sqlscript.Problem, ...]:
    """The isolation rules on what Flink resolved for the submission, before it runs."""
    with db.transaction(platform.sessions) as session:
        deployment, project = _deployed(session, job_id)
        if deployment is None or project is None:
            return (GONE,)
        return job_paths.judge(
            platform,
            session,
            account_id=project.account_id,
            region=project.region,
            statements=statements,
            resolved=resolved,
        )


def restore_config(work: Work) -> dict[str, str]:
    return job_rules.restore_config(work.version, work.restore_path, work.allow_non_restored)


def node_key(cluster_id: int, node: str) -> str:
    """A cluster node as placements name it: unique across accounts (`c12:slave-0`)."""
    return f"c{cluster_id}:{node}"


def node_label(key: str) -> str:
    """A placement's node as its user knows it: `slave-0` (the job's cluster is its own),
    never the cluster's internal id."""
    return key.partition(":")[2] or key
