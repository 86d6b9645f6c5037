"""Projects: a CU quota in the shared pool (made from a paid shared order) or inside a
running exclusive cluster.

Every project operation first needs the account's service role (guide: 共享模式角色授权);
only the account itself creates projects (guide: 请使用主账号开通服务和创建项目).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import jobs as job_rules
from rtcompute.domain import names, ram, resources
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import clusters, machine_types, order_use
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db, locks, tables
from rtcompute.store import jobs as job_store
from rtcompute.store import projects as project_store
from rtcompute.store.tables import capacity as capacity_tables

SHARED = order_rules.SHARED
EXCLUSIVE = order_rules.EXCLUSIVE
RUNNING = "running"
EXPIRED = "expired"


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"project {name[:64]} does not exist", f"项目 {name[:64]} 不存在", code="ProjectNotFound"
    )


def find(session: db.Session, account_id: str, name: str, *, lock: bool = False) -> tables.Project:
    """The account's project by name; `lock`: hold its row until the transaction ends (for
    check-then-write on its CU)."""
    found = (
        project_store.read_project(session=session, account_id=account_id, name=name)
        if names.PROJECT.fits(name)
        else None
    )
    if found is None:
        raise not_found(name)
    if lock:
        locks.hold(session=session, table=tables.Project, row_id=found.id)
    return found


def resource_of(project: tables.Project) -> str:
    return resources.project(project.region, project.account_id, project.name)


def cu_in_use(session: db.Session, project: tables.Project) -> float:
    """CU the project's jobs hold: starting, running, stopping or suspended ones."""
    held = job_store.cu_held(session=session, project_id=project.id, holding=job_rules.HOLDING)
    return held / job_rules.MILLI


def online_jobs(session: db.Session, project: tables.Project) -> int:
    return job_store.count_deployments(session=session, project_id=project.id)


def create_project(
    platform: platform_module.Platform,
    principal: principals.Principal,
    name: str,
    *,
    description: str = "",
    order_id: str | None = None,
    cluster: str | None = None,
    cu: int | None = None,
) -> tables.Project:
    """A shared project from a paid order, or a project of `cu` CU in a running cluster."""
    names.PROJECT.check(name)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    if (order_id is None) == (cluster is None) or (order_id is not None and cu is not None):
        raise errors.Invalid(
            "give either order_id (a shared-mode project; its CU is the order's) or cluster "
            "and cu (a project in an exclusive cluster)",
            "请给出 order_id（共享模式项目，CU 即订单的 CU），或给出 cluster 和 cu"
            "（独享集群中的项目），二者只选其一",
            code="InvalidParameter.ProjectSource",
        )
    principals.require_account(principal, "create projects")
    service_role.require_authorized(platform, principal.account_id)
    taken = errors.Conflict(
        f"a project named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的项目，请换一个名称",
        code="ProjectAlreadyExists",
    )
    now = platform.now()
    try:
        with db.transaction(platform.sessions) as session:
            if project_store.read_project(
                session=session, account_id=principal.account_id, name=name
            ):
                raise taken
            project = tables.Project(
                account_id=principal.account_id,
                name=name,
                description=description,
                created_by=principal.display[:200],
                created_at=now,
                state=RUNNING,
            )
            if order_id is not None:
                order = order_use.usable(session, principal.account_id, order_id, SHARED)
                project.mode, project.order_id, project.cu = SHARED, order.id, order.cu
                project.region = order.region
                project.expires_at = order_use.end_after(now, order.months)
                order_use.consume(session, order, name, now)
            else:
                assert cluster is not None
                found = cluster_store.find_cluster(
                    session=session, account_id=principal.account_id, name=cluster, lock=True
                )
                if found is None:
                    raise clusters.not_found(cluster)
                check_cluster_room(session, platform, found, cu, exclude=None)
                project.mode, project.cluster_id, project.cu = EXCLUSIVE, found.id, cu or 0
                project.region = found.region
            return project_store.create_project(session=session, project=project)
    except IntegrityError as exc:
        raise taken from exc


def check_cluster_room(
    session: db.Session,
    platform: platform_module.Platform,
    cluster: capacity_tables.Cluster,
    cu: int | None,
    *,
    exclude: int | None,
) -> None:
    """A project in a cluster needs it running and CU within what its other projects leave."""
    if cluster.state not in (
        cluster_rules.RUNNING,
        cluster_rules.SCALING_OUT,
        cluster_rules.DEPLOYING,
    ):
        raise errors.Conflict(
            f"cluster {cluster.name} is {cluster.state.replace('_', ' ')}: projects are created "
            "and resized in a running cluster",
            f"集群 {cluster.name} 处于“{clusters.state_zh(cluster.state)}”状态：项目只能在运行中"
            "的集群里创建和调整大小",
            code="ClusterNotRunning",
        )
    if cu is None or not 1 <= cu <= 100_000:
        raise errors.Invalid(
            "cu: a project in a cluster needs a CU count of at least 1",
            "cu：集群中的项目至少需要 1 CU",
            code="InvalidParameter.CU",
        )
    usable = clusters.usable_cu(session, platform, cluster)
    others = sum(
        p.cu
        for p in project_store.list_projects_in_cluster(session=session, cluster_id=cluster.id)
        if p.id != exclude
    )
    if others + cu > usable:
        free = max(usable - others, 0)
        raise errors.QuotaExceeded(
            f"cluster {cluster.name} has {usable} usable CU and its other projects hold {others}: "
            f"at most {free} CU are free for this project. Give fewer CU or "
            "scale the cluster out",
            f"集群 {cluster.name} 有 {usable} 可用 CU，其他项目占用了 {others}：此项目最多还能用 "
            f"{free} CU。请减少 CU，或对集群扩容",
            code="QuotaExceeded.ClusterCU",
        )


def list_projects(platform: platform_module.Platform, account_id: str) -> list[tables.Project]:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        return project_store.list_projects(session=session, account_id=account_id)


def read_project(platform: platform_module.Platform, account_id: str, name: str) -> tables.Project:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        return find(session, account_id, name)


def update_project(
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    description: str | None = None,
    cu: int | None = None,
) -> tables.Project:
    """Change the note; resize a project in a cluster (shared projects scale by order)."""
    if description is not None:
        ram.check_text("description", description, ram.MAX_DESCRIPTION)
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        project = find(session, account_id, name)
        if cu is not None:
            if project.mode != EXCLUSIVE or project.cluster_id is None:
                raise errors.Invalid(
                    f"a shared-mode project's CU changes by a scale order: scale project "
                    f"{project.name} instead",
                    f"共享模式项目的 CU 通过扩缩容订单变更：请改为对项目 {project.name} 扩缩容",
                    code="InvalidParameter.CU",
                )
            _check_not_below_use(session, project, cu)
            cluster = cluster_store.read_cluster(session=session, cluster_id=project.cluster_id)
            assert cluster is not None
            cluster_store.lock_cluster(session=session, cluster=cluster)
            check_cluster_room(session, platform, cluster, cu, exclude=project.id)
            project.cu = cu
        if description is not None:
            project.description = description
        return project


def delete_project(platform: platform_module.Platform, account_id: str, name: str) -> None:
    service_role.require_authorized(platform, account_id)
    with db.transaction(platform.sessions) as session:
        project = find(session, account_id, name)
        online = online_jobs(session, project)
        if online:
            raise errors.Conflict(
                f"project {project.name} has {online} online jobs: take them offline first",
                f"项目 {project.name} 有 {online} 个已上线的作业：请先将它们下线",
                code="ProjectHasOnlineJobs",
            )
        order_use.release(session, project.order_id)
        project_store.delete_project(session=session, project_id=project.id)


def follow_up_order(
    session: db.Session,
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    months: int,
    cu: int | None,
) -> capacity_tables.Order:
    """An unsaved renewal (months) or scale (cu) order for a shared project."""
    project = find(session, account_id, name)
    if project.mode != SHARED:
        raise errors.Invalid(
            f"project {project.name} lives in a cluster: renew or scale the cluster, and resize "
            "the project itself",
            f"项目 {project.name} 位于集群中：请对集群续费或扩缩容，并直接调整项目本身的 CU",
            code="InvalidParameter.Project",
        )
    catalog_ = machine_types.load(session, platform, project.region)
    order = capacity_tables.Order(
        account_id=account_id,
        region=project.region,
        mode=SHARED,
        billing=order_rules.SUBSCRIPTION,
        target=project.name,
        base=project.cu,
    )
    if cu is None:
        problems = order_rules.check_months(months)
        if problems:
            raise problems[0].error("InvalidParameter.Months")
        order.purpose, order.months, order.cu = order_rules.RENEW, months, project.cu
        order.amount_cents = order_rules.shared_amount(
            catalog_.shared_cu_month_cents, project.cu, months
        )
        return order
    if not order_rules.MIN_SHARED_CU <= cu <= order_rules.MAX_SHARED_CU or cu == project.cu:
        raise errors.Invalid(
            f"cu must be between {order_rules.MIN_SHARED_CU} and {order_rules.MAX_SHARED_CU} "
            f"and differ from the project's {project.cu}",
            f"CU 须在 {order_rules.MIN_SHARED_CU} 到 {order_rules.MAX_SHARED_CU} 之间，且不同于"
            f"项目当前的 {project.cu}",
            code="InvalidParameter.CU",
        )
    _check_not_below_use(session, project, cu)
    order.cu = cu
    if cu > project.cu:
        left = _months_left(project, platform)
        order.purpose, order.months = order_rules.SCALE_OUT, left
        order.amount_cents = order_rules.shared_amount(
            catalog_.shared_cu_month_cents, cu - project.cu, left
        )
    else:
        order.purpose, order.amount_cents = order_rules.SCALE_IN, 0
    return order


def _months_left(project: tables.Project, platform: platform_module.Platform) -> int:
    return order_rules.remaining_months(project.expires_at, platform.now())


def _check_not_below_use(session: db.Session, project: tables.Project, cu: int) -> None:
    used = cu_in_use(session, project)
    if cu < used:
        held = job_rules.cu_text(round(used * job_rules.MILLI))
        raise errors.Conflict(
            f"project {project.name} uses {held} CU of running jobs: it cannot go down to {cu}; "
            "stop jobs first",
            f"项目 {project.name} 的运行中作业占用了 {held} CU：不能降到 {cu}；请先停止作业",
            code="CUInUse",
        )


def apply_order(
    session: db.Session, platform: platform_module.Platform, order: capacity_tables.Order
) -> None:
    """A paid renewal extends the project; a paid scale changes its CU."""
    project = find(session, order.account_id, order.target)
    order_use.check_fresh(order, "project", project.cu, "CU")
    if order.purpose == order_rules.RENEW:
        project.expires_at = order_use.renewed_end(project.expires_at, platform.now(), order.months)
        if project.state == EXPIRED:
            project.state = RUNNING
            order_use.revive(session, project.order_id)
        return
    _check_not_below_use(session, project, order.cu)
    project.cu = order.cu
