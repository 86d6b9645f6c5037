"""Engine versions on a cluster or on the shared pool, desired state (guide ch. 7).

An install writes a deployment in `installing` and moves the cluster to `deploying`
(版本部署中); the engine reconciler installs the machine copy, then marks the deployment
installed (or failed, with an alert) and moves the cluster back to running. Set current
and uninstall are immediate; the reconciler removes a machine copy once no target uses it.
The check-then-write of each target runs under its lock (the cluster row; a named lock
for the pool), so two installs racing for the last of the 3 places cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import cluster_events, names, text
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import engines as engine_rules
from rtcompute.services.capacity import clusters
from rtcompute.services.engines import catalog as engines
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db, locks
from rtcompute.store import engines as engine_store
from rtcompute.store import jobs as job_store
from rtcompute.store.tables import capacity as capacity_tables
from rtcompute.store.tables import engines as engine_tables

POOL_LOCK = "engines:pool"
HOST = "local"
# a cluster's state in the Chinese sentence of a refused install
STATES_ZH = {
    cluster_rules.STARTING: "正在启动",
    cluster_rules.SCALING_OUT: "正在扩容",
    cluster_rules.SCALING_IN: "正在缩容",
    cluster_rules.FAILED: "处于失败状态",
    cluster_rules.EXPIRED: "已过期",
    cluster_rules.RELEASING: "正在释放",
    cluster_rules.RELEASED: "已释放",
}


@dataclass(frozen=True)
class Target:
    key: str  # pool | cluster:<id>
    cluster: capacity_tables.Cluster | None

    @property
    def label(self) -> str:
        return "the shared pool" if self.cluster is None else f"cluster {self.cluster.name}"

    @property
    def label_zh(self) -> str:
        return "共享资源池" if self.cluster is None else f"集群 {self.cluster.name} "


@dataclass(frozen=True)
class VersionView:
    version: str
    release: str
    tag: str
    state: str
    current: bool
    phase: str
    progress: int
    message: str
    requested_by: str
    created_at: datetime
    state_since: datetime
    end_of_service: date
    retired: bool
    message_zh: str = ""  # the message in Chinese ("": it has none; cluster_events)

    def message_in(self, language: str) -> str:
        return cluster_events.text(cluster_events.Said(self.message, self.message_zh), language)


def resolve(
    session: db.Session, account_id: str, cluster: str | None, *, lock: bool = False
) -> Target:
    """The cluster of the account by name (None: the shared pool)."""
    if cluster is None:
        if lock:
            locks.hold_named(session=session, name=POOL_LOCK)
        return target_of(None)
    found = clusters.find(session, account_id, cluster, lock=lock)
    if found.state == cluster_rules.RELEASED:
        raise clusters.not_found(cluster)
    return target_of(found)


def target_of(cluster: capacity_tables.Cluster | None) -> Target:
    """The cluster as a target of versions; None: the shared pool."""
    if cluster is None:
        return Target(engine_rules.POOL, None)
    return Target(engine_rules.cluster_target(cluster.id), cluster)


def _held(rows: list[engine_tables.EngineDeployment]) -> list[engine_rules.Held]:
    return [engine_rules.Held(row.version, row.state, row.current) for row in rows]


def view(
    session: db.Session,
    platform: platform_module.Platform,
    row: engine_tables.EngineDeployment,
    catalog: dict[str, tuple[engine_rules.CatalogEntry, bool]] | None = None,
) -> VersionView:
    """`catalog`: engines.entries(session), when the caller shows several rows."""
    found = (catalog if catalog is not None else engines.entries(session)).get(row.version)
    entry = found[0] if found else None
    phase, progress = row.phase, row.progress
    if row.state == engine_rules.INSTALLING:
        copy = engine_store.read_copy(session=session, host=HOST, version=row.version)
        if copy is not None and copy.state == engine_rules.COPY_INSTALLING:
            # (once it is ready, the row says how far the cluster's hosts are)
            phase, progress = copy.phase, copy.progress
    end = (
        entry.end_of_service
        if entry
        else engine_rules.default_end_of_service(row.created_at.date())
    )
    return VersionView(
        version=row.version,
        release=engine_rules.release_of(row.version),
        tag=entry.tag if entry else engine_rules.NO_TAG,
        state=row.state,
        current=row.current,
        phase=phase,
        progress=progress,
        message=row.message,
        requested_by=row.requested_by,
        created_at=row.created_at,
        state_since=row.state_since,
        end_of_service=end,
        retired=engine_rules.is_retired(end, platform.now().date()),
        message_zh=row.message_zh,
    )


def seen_by(found: VersionView, *, pool: bool, operator: bool) -> VersionView:
    """A failed install of the shared pool keeps the installer's cause (the operator's setup:
    paths, settings) for the operator; a tenant reads what a cluster's owner reads."""
    if not pool or operator or found.state != engine_rules.FAILED:
        return found
    said = cluster_events.install_failed(found.version)
    return replace(found, message=said.en, message_zh=said.zh)


def list_versions(
    platform: platform_module.Platform,
    account_id: str,
    cluster: str | None,
    *,
    operator: bool = False,
) -> list[VersionView]:
    """Installed (and installing, failed) versions, newest first; the current one flagged."""
    with db.transaction(platform.sessions) as session:
        target = resolve(session, account_id, cluster)
        rows = engine_store.list_deployments(session=session, target=target.key)
        ordered = sorted(rows, key=lambda r: engine_rules.sort_key(r.version), reverse=True)
        catalog = engines.entries(session)
        return [
            seen_by(view(session, platform, row, catalog), pool=cluster is None, operator=operator)
            for row in ordered
        ]


def _find(session: db.Session, target: Target, version: str) -> engine_tables.EngineDeployment:
    row = (
        engine_store.find_deployment(session=session, target=target.key, version=version)
        if names.ENGINE_VERSION.fits(version)
        else None
    )
    if row is None:
        raise errors.NotFound(
            f"{version[:40]} is not installed on {target.label}",
            f"{version[:40]} 未安装在{target.label_zh}上",
            code="VersionNotInstalled",
        )
    return row


def read_version(
    platform: platform_module.Platform,
    account_id: str,
    cluster: str | None,
    version: str,
    *,
    operator: bool = False,
) -> VersionView:
    with db.transaction(platform.sessions) as session:
        target = resolve(session, account_id, cluster)
        found = view(session, platform, _find(session, target, version))
        return seen_by(found, pool=cluster is None, operator=operator)


def install(
    platform: platform_module.Platform,
    principal: principals.Principal,
    cluster: str | None,
    version: str,
    *,
    confirm_beta: bool = False,
) -> VersionView:
    """Ask for `version` on the target; the engine reconciler installs it."""
    now = platform.now()
    try:
        with db.transaction(platform.sessions) as session:
            target = resolve(session, principal.account_id, cluster, lock=True)
            entry, listed = engines.entry_of(session, version)
            if target.cluster is not None and target.cluster.state != cluster_rules.RUNNING:
                if target.cluster.state == cluster_rules.DEPLOYING:
                    raise errors.Conflict(
                        f"{target.label} is deploying a version; one install at a time: "
                        "wait for it to finish",
                        f"{target.label_zh}正在部署引擎版本，一次只能安装一个，请等待其完成",
                        code="VersionDeploying",
                    )
                raise errors.Conflict(
                    f"{target.label} is {target.cluster.state.replace('_', ' ')}: versions are "
                    "installed on a running cluster",
                    f"{target.label_zh}{STATES_ZH.get(target.cluster.state, target.cluster.state)}"
                    "：引擎版本只能安装在运行中的集群上",
                    code="ClusterNotRunning",
                )
            rows = engine_store.list_deployments(session=session, target=target.key)
            engine_rules.check_install(_held(rows), entry, confirm_beta=confirm_beta)
            if not listed:
                raise errors.Conflict(
                    f"{version} is no longer offered for new installs",
                    f"{version} 已不再提供新安装",
                    code="EngineVersionUnlisted",
                )
            for stale in rows:
                if stale.version == version:  # a failed attempt: this one replaces it
                    engine_store.delete_deployment(session=session, deployment=stale)
            row = engine_store.add_deployment(
                session=session,
                deployment=engine_tables.EngineDeployment(
                    target=target.key,
                    cluster_id=target.cluster.id if target.cluster else None,
                    version=version,
                    state=engine_rules.INSTALLING,
                    current=False,
                    phase="queued",
                    progress=0,
                    message="",
                    requested_by=principal.display[:200],
                    created_at=now,
                    state_since=now,
                ),
            )
            if target.cluster is not None:
                clusters.move(session, platform, target.cluster, cluster_rules.DEPLOYING)
            return view(session, platform, row)
    except IntegrityError as exc:  # the same version asked twice at once
        raise engine_rules.already_installed(version) from exc


def set_current(
    platform: platform_module.Platform,
    principal: principals.Principal,
    cluster: str | None,
    version: str,
) -> VersionView:
    """The default engine version of new jobs on the target."""
    with db.transaction(platform.sessions) as session:
        target = resolve(session, principal.account_id, cluster, lock=True)
        rows = engine_store.list_deployments(session=session, target=target.key)
        if not text.is_storable(version):
            raise errors.Invalid(
                "invalid version name", "引擎版本名称无效", code="InvalidParameter.EngineVersion"
            )
        engine_rules.check_set_current(_held(rows), version)
        chosen = next(row for row in rows if row.version == version)
        for row in rows:
            row.current = row is chosen
        session.flush()
        return view(session, platform, chosen)


def uninstall(
    platform: platform_module.Platform,
    principal: principals.Principal,
    cluster: str | None,
    version: str,
) -> VersionView:
    """Remove the version from the target; refused for the current one and while an online
    job references it (the guide's message names the job and its project)."""
    with db.transaction(platform.sessions) as session:
        target = resolve(session, principal.account_id, cluster, lock=True)
        rows = engine_store.list_deployments(session=session, target=target.key)
        row = _find(session, target, version)
        using = job_store.jobs_using(
            session=session,
            cluster_id=target.cluster.id if target.cluster else None,
            version=version,
        )
        engine_rules.check_uninstall(_held(rows), version, using)
        gone = view(session, platform, row)
        engine_store.delete_deployment(session=session, deployment=row)
        return gone


def current_version(session: db.Session, target: Target) -> str | None:
    rows = engine_store.list_deployments(session=session, target=target.key)
    return next((row.version for row in rows if row.current), None)


def is_installed(session: db.Session, target: Target, version: str) -> bool:
    row = engine_store.find_deployment(session=session, target=target.key, version=version)
    return row is not None and row.state == engine_rules.INSTALLED


def pool_is_empty(platform: platform_module.Platform) -> bool:
    with db.transaction(platform.sessions) as session:
        return not engine_store.list_deployments(session=session, target=engine_rules.POOL)


def seed_pool(platform: platform_module.Platform, version: str, requested_by: str) -> None:
    """First start: the default version, installed by `rtc up` itself, is the pool's current."""
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        locks.hold_named(session=session, name=POOL_LOCK)
        if engine_store.list_deployments(session=session, target=engine_rules.POOL):
            return
        engine_store.add_deployment(
            session=session,
            deployment=engine_tables.EngineDeployment(
                target=engine_rules.POOL,
                cluster_id=None,
                version=version,
                state=engine_rules.INSTALLED,
                current=True,
                phase="done",
                progress=100,
                message="",
                requested_by=requested_by,
                created_at=now,
                state_since=now,
            ),
        )
