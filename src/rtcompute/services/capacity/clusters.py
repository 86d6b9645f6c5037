"""Exclusive clusters, desired state: create from a paid order in the guide's four steps,
scale, renew, release. The cluster reconciler does the rest (nodes, processes, health).

Creation places every node at once (zone capacity, one subnet address each) inside one
transaction, so two clusters racing for the last addresses or the last capacity cannot
both win; the reconciler then gives the nodes ports, directories and processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import cluster_events, names, ram, resources
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import networks as network_domain
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import (
    buckets,
    hosts,
    machine_types,
    networks,
    order_use,
    zones,
)
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import cluster_nodes as node_store
from rtcompute.store import clusters as cluster_store
from rtcompute.store import db
from rtcompute.store import projects as project_store
from rtcompute.store import usage as usage_store
from rtcompute.store.tables import capacity as capacity_tables

Cluster = capacity_tables.Cluster


@dataclass(frozen=True)
class Placement:
    """Step 3 of the guide's cluster creation: where the cluster lives."""

    bucket: str
    network: str
    subnet: str
    zone: str


@dataclass(frozen=True)
class ClusterDetail:
    cluster: Cluster
    nodes: list[capacity_tables.ClusterNode]
    components: list[capacity_tables.ClusterComponent]
    usable_cu: int
    project_cu: int
    bucket: str
    network: str
    subnet: str
    zone: str


def message_in(row: Cluster | capacity_tables.ClusterComponent, language: str) -> str:
    """A cluster's or a component's message in `language` (`zh` or `en`), as stored by the
    cluster reconciler in both (domain/cluster_events.py); English when it has no Chinese."""
    return cluster_events.text(cluster_events.Said(row.message, row.message_zh), language)


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"cluster {name[:64]} does not exist", f"集群 {name[:64]} 不存在", code="ClusterNotFound"
    )


def state_zh(state: str) -> str:
    return cluster_rules.STATES_ZH.get(state, state)


def find(session: db.Session, account_id: str, name: str, *, lock: bool = False) -> Cluster:
    found = (
        cluster_store.find_cluster(session=session, account_id=account_id, name=name, lock=lock)
        if names.CLUSTER.fits(name)
        else None
    )
    if found is None:
        raise not_found(name)
    return found


def _nodes_needed(
    master_type: str, master_count: int, slave_type: str, slave_count: int
) -> dict[str, int]:
    return network_domain.nodes_needed(master_type, master_count, slave_type, slave_count)


def _node_rows(
    cluster: Cluster,
    zone_id: int,
    role: str,
    machine_type: str,
    indexes: range,
    addresses: list[str],
    now: object,
) -> list[capacity_tables.ClusterNode]:
    return [
        capacity_tables.ClusterNode(
            cluster_id=cluster.id,
            name=cluster_rules.node_name(role, index),
            role=role,
            machine_type=machine_type,
            zone_id=zone_id,
            address=address,
            state=cluster_rules.NODE_PENDING,
            since=now,
        )
        for index, address in zip(indexes, addresses, strict=True)
    ]


def create_cluster(
    platform: platform_module.Platform,
    principal: principals.Principal,
    *,
    order_id: str,
    name: str,
    description: str,
    placement: Placement,
) -> Cluster:
    """The guide's steps: order -> basic information -> configuration -> confirm."""
    names.CLUSTER.check(name)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    principals.require_account(principal, "create clusters")
    service_role.check_exclusive(platform, principal.account_id, creating=True)
    now = platform.now()
    taken = errors.Conflict(
        f"a cluster named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的集群，请换一个名称",
        code="ClusterAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            order = order_use.usable(session, principal.account_id, order_id, order_rules.EXCLUSIVE)
            same = cluster_store.find_cluster(
                session=session, account_id=principal.account_id, name=name
            )
            if same is not None and same.state != cluster_rules.RELEASED:
                raise taken
            place = _place(session, platform, principal.account_id, order, placement)
            cluster = cluster_store.create_cluster(
                session=session,
                cluster=Cluster(
                    account_id=principal.account_id,
                    region=order.region,
                    name=name,
                    description=description,
                    order_id=order.id,
                    billing=order.billing,
                    master_type=order.master_type,
                    master_count=order.master_count,
                    slave_type=order.slave_type,
                    slave_count=order.slave_count,
                    bucket_id=place.bucket_id,
                    network_id=place.network_id,
                    subnet_id=place.subnet_id,
                    zone_id=place.zone_id,
                    state=cluster_rules.STARTING,
                    expires_at=(
                        order_use.end_after(now, order.months)
                        if order.billing == order_rules.SUBSCRIPTION
                        else None
                    ),
                    created_by=principal.display[:200],
                    created_at=now,
                    state_since=now,
                ),
            )
            nodes = _nodes_of(cluster, order, place, now)
            cluster_store.add_nodes(session=session, nodes=nodes)
            hosts.claim_for_nodes(session, nodes, place.hosts)
            order_use.consume(session, order, name, now)
            return cluster
    except IntegrityError as exc:
        raise taken from exc


@dataclass(frozen=True)
class _Placed:
    """Where a new cluster goes: checked, its zone's capacity held, its addresses taken."""

    bucket_id: int
    network_id: int
    subnet_id: int
    zone_id: int
    addresses: list[str]
    hosts: list[int]  # in a hosts zone: the host of each node, in the order of `addresses`


def _place(
    session: db.Session,
    platform: platform_module.Platform,
    account_id: str,
    order: capacity_tables.Order,
    placement: Placement,
) -> _Placed:
    """The guide's configuration step: a bucket fit for a cluster, a subnet of the chosen
    zone, and room in the zone (under its row lock) and the subnet for every node."""
    bucket = buckets.read_bucket(session, account_id, placement.bucket)
    buckets.check_for_cluster(bucket)
    network = networks.read_network(session, account_id, placement.network)
    subnet = networks.read_subnet(session, network, placement.subnet)
    zone = zones.read_zone(session, order.region, placement.zone, lock=True)
    if subnet.zone_id != zone.id:
        raise errors.Invalid(
            f"subnet {subnet.name} lies in another zone than {zone.name}: choose a "
            f"subnet of zone {zone.name}, or create one there",
            f"交换机 {subnet.name} 不在可用区 {zone.name} 中：请选择可用区 {zone.name} 的"
            "交换机，或在那里创建一个",
            code="InvalidParameter.Subnet",
        )
    needed = _nodes_needed(
        order.master_type, order.master_count, order.slave_type, order.slave_count
    )
    zones.require_capacity(session, zone, needed)
    if zone.provider == host_rules.HOSTS:
        wanted = [(catalog_domain.MASTER, order.master_type)] * order.master_count + [
            (catalog_domain.SLAVE, order.slave_type)
        ] * order.slave_count
        chosen = hosts.choose_for(session, platform, zone, subnet, order.region, wanted)
        return _Placed(
            bucket.id,
            network.id,
            subnet.id,
            zone.id,
            [h.address for h in chosen],
            [h.id for h in chosen],
        )
    addresses = networks.allocate(session, subnet, order.master_count + order.slave_count)
    return _Placed(bucket.id, network.id, subnet.id, zone.id, addresses, [])


def _nodes_of(
    cluster: Cluster, order: capacity_tables.Order, place: _Placed, now: datetime
) -> list[capacity_tables.ClusterNode]:
    """The node rows of a new cluster: its masters, then its slaves, each with an address."""
    masters = _node_rows(
        cluster,
        place.zone_id,
        catalog_domain.MASTER,
        order.master_type,
        range(1, order.master_count + 1),
        place.addresses[: order.master_count],
        now,
    )
    slaves = _node_rows(
        cluster,
        place.zone_id,
        catalog_domain.SLAVE,
        order.slave_type,
        range(1, order.slave_count + 1),
        place.addresses[order.master_count :],
        now,
    )
    return masters + slaves


def resource_of(cluster: capacity_tables.Cluster) -> str:
    return resources.cluster(cluster.region, cluster.account_id, cluster.name)


def list_clusters(platform: platform_module.Platform, account_id: str) -> list[Cluster]:
    with db.transaction(platform.sessions) as session:
        return cluster_store.list_clusters(session=session, account_id=account_id)


def usable_cu(session: db.Session, platform: platform_module.Platform, cluster: Cluster) -> int:
    slave = machine_types.load(session, platform, cluster.region).find(
        catalog_domain.SLAVE, cluster.slave_type
    )
    return cluster_rules.usable_cu(slave.cu or 0, cluster.slave_count) if slave else 0


def project_cu(session: db.Session, cluster: Cluster) -> int:
    return sum(
        p.cu for p in project_store.list_projects_in_cluster(session=session, cluster_id=cluster.id)
    )


def _name_of(session: db.Session, table: type, row_id: int | None) -> str:
    row = session.get(table, row_id) if row_id is not None else None
    return str(getattr(row, "name", "")) if row is not None else ""


def read_cluster(platform: platform_module.Platform, account_id: str, name: str) -> ClusterDetail:
    with db.transaction(platform.sessions) as session:
        cluster = find(session, account_id, name)
        return ClusterDetail(
            cluster=cluster,
            nodes=node_store.list_nodes(session=session, cluster_ids=[cluster.id]),
            components=node_store.list_components(session=session, cluster_ids=[cluster.id]),
            usable_cu=usable_cu(session, platform, cluster),
            project_cu=project_cu(session, cluster),
            bucket=_name_of(session, capacity_tables.Bucket, cluster.bucket_id),
            network=_name_of(session, capacity_tables.Network, cluster.network_id),
            subnet=_name_of(session, capacity_tables.Subnet, cluster.subnet_id),
            zone=_name_of(session, capacity_tables.Zone, cluster.zone_id),
        )


def update_cluster(
    platform: platform_module.Platform, account_id: str, name: str, *, description: str
) -> Cluster:
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    with db.transaction(platform.sessions) as session:
        cluster = find(session, account_id, name)
        cluster.description = description
        return cluster


def move(
    session: db.Session,
    platform: platform_module.Platform,
    cluster: Cluster,
    target: str,
    message: cluster_events.Said = cluster_events.NOTHING,
) -> None:
    """Move along domain.clusters.TRANSITIONS, or Conflict naming the current state; the
    message (both languages) replaces the one of the state it leaves."""
    if not cluster_rules.can_move(cluster.state, target):
        raise errors.Conflict(
            f"cluster {cluster.name} is {cluster.state.replace('_', ' ')}: it cannot go to "
            f"{target.replace('_', ' ')} now",
            f"集群 {cluster.name} 处于“{state_zh(cluster.state)}”状态：现在不能转为"
            f"“{state_zh(target)}”",
            code="ClusterStateConflict",
        )
    cluster.state, cluster.state_since = target, platform.now()
    cluster.message, cluster.message_zh = message.en, message.zh


def release_cluster(platform: platform_module.Platform, account_id: str, name: str) -> Cluster:
    """Release: the reconciler stops the processes and frees nodes; projects must go first."""
    with db.transaction(platform.sessions) as session:
        cluster = find(session, account_id, name, lock=True)
        if cluster.state == cluster_rules.RELEASED:
            raise errors.Conflict(
                f"cluster {cluster.name} is already released",
                f"集群 {cluster.name} 已经释放",
                code="ClusterStateConflict",
            )
        held = project_store.list_projects_in_cluster(session=session, cluster_id=cluster.id)
        if held:
            listed = ", ".join(p.name for p in held)
            raise errors.Conflict(
                f"cluster {cluster.name} still holds projects {listed}: delete them first",
                f"集群 {cluster.name} 中还有项目 {listed}，请先删除它们",
                code="ClusterHasProjects",
            )
        move(session, platform, cluster, cluster_rules.RELEASING)
        order_use.release(session, cluster.order_id)
        return cluster


def follow_up_order(
    session: db.Session,
    platform: platform_module.Platform,
    account_id: str,
    name: str,
    *,
    months: int,
    slave_count: int | None,
) -> capacity_tables.Order:
    """An unsaved renewal (months) or scale (slave_count) order for a cluster."""
    cluster = find(session, account_id, name)
    catalog_ = machine_types.load(session, platform, cluster.region)
    master = catalog_.find(catalog_domain.MASTER, cluster.master_type)
    slave = catalog_.find(catalog_domain.SLAVE, cluster.slave_type)
    if master is None or slave is None:
        raise errors.Conflict(
            "the cluster's machine types left the catalog; ask the operator",
            "集群的机型已不在价目表中，请联系运维人员",
            code="CatalogChanged",
        )
    order = capacity_tables.Order(
        account_id=account_id,
        region=cluster.region,
        mode=order_rules.EXCLUSIVE,
        billing=cluster.billing,
        target=cluster.name,
        base=cluster.slave_count,
        master_type=cluster.master_type,
        master_count=cluster.master_count,
        slave_type=cluster.slave_type,
    )
    if slave_count is None:
        if cluster.billing != order_rules.SUBSCRIPTION:
            raise errors.Invalid(
                "a pay-as-you-go cluster does not expire: it is metered hourly until released",
                "按量付费的集群不会到期，无需续费：它按小时计费，直到释放",
                code="InvalidParameter.Billing",
            )
        problems = order_rules.check_months(months)
        if problems:
            raise problems[0].error("InvalidParameter.Months")
        if cluster.state in (cluster_rules.RELEASING, cluster_rules.RELEASED):
            raise errors.Conflict(
                f"cluster {cluster.name} is released",
                f"集群 {cluster.name} 已释放",
                code="ClusterStateConflict",
            )
        order.purpose, order.months, order.slave_count = (
            order_rules.RENEW,
            months,
            cluster.slave_count,
        )
        order.amount_cents = months * order_rules.exclusive_month_cents(
            master, cluster.master_count, slave, cluster.slave_count
        )
        return order
    check_scale(session, platform, cluster, slave_count, master, slave, catalog_)
    order.slave_count = slave_count
    if slave_count > cluster.slave_count:
        left = order_rules.remaining_months(cluster.expires_at, platform.now())
        order.purpose = order_rules.SCALE_OUT
        if cluster.billing == order_rules.SUBSCRIPTION:
            order.months = left
            order.amount_cents = left * slave.month_cents * (slave_count - cluster.slave_count)
    else:
        order.purpose = order_rules.SCALE_IN
    return order


def check_scale(
    session: db.Session,
    platform: platform_module.Platform,
    cluster: Cluster,
    slave_count: int,
    master: catalog_domain.MachineType,
    slave: catalog_domain.MachineType,
    catalog_: catalog_domain.Catalog,
) -> None:
    """Scale in units of the slave type; never below the projects' CU; masters never change."""
    if cluster.state != cluster_rules.RUNNING:
        raise errors.Conflict(
            f"cluster {cluster.name} is {cluster.state.replace('_', ' ')}: only a running "
            "cluster scales",
            f"集群 {cluster.name} 处于“{state_zh(cluster.state)}”状态：只有运行中的集群可以扩缩容",
            code="ClusterStateConflict",
        )
    if slave_count == cluster.slave_count:
        raise errors.Invalid(
            f"the cluster already has {slave_count} slaves",
            f"集群已经有 {slave_count} 个 slave",
            code="InvalidParameter.SlaveCount",
        )
    problems = order_rules.exclusive_problems(
        catalog_, master.name, cluster.master_count, slave.name, slave_count
    )
    if problems:
        raise order_rules.refusal(problems)
    held = project_cu(session, cluster)
    after = cluster_rules.usable_cu(slave.cu or 0, slave_count)
    if after < held:
        raise errors.Conflict(
            f"{slave_count} slaves of {slave.name} give {after} CU but the cluster's projects "
            f"hold {held} CU: shrink or delete projects first",
            f"{slave_count} 个 {slave.name} 机型的 slave 提供 {after} CU，但集群中的项目占用了 "
            f"{held} CU：请先缩小或删除项目",
            code="CUInUse",
        )


def apply_order(
    session: db.Session, platform: platform_module.Platform, order: capacity_tables.Order
) -> None:
    """A paid renewal extends the cluster (restarting an expired one); a paid scale moves it."""
    cluster = find(session, order.account_id, order.target, lock=True)
    order_use.check_fresh(order, "cluster", cluster.slave_count, "slaves")
    if order.purpose == order_rules.RENEW:
        cluster.expires_at = order_use.renewed_end(cluster.expires_at, platform.now(), order.months)
        if cluster.state == cluster_rules.EXPIRED:
            move(session, platform, cluster, cluster_rules.STARTING)
            order_use.revive(session, cluster.order_id)
        return
    catalog_ = machine_types.load(session, platform, cluster.region)
    master = catalog_.find(catalog_domain.MASTER, cluster.master_type)
    slave = catalog_.find(catalog_domain.SLAVE, cluster.slave_type)
    assert master is not None and slave is not None
    check_scale(session, platform, cluster, order.slave_count, master, slave, catalog_)
    nodes = node_store.list_nodes(session=session, cluster_ids=[cluster.id])
    slaves = sorted(
        (n for n in nodes if n.role == catalog_domain.SLAVE),
        key=lambda n: int(n.name.rsplit("-", 1)[1]),
    )
    now = platform.now()
    if order.slave_count > cluster.slave_count:
        added = order.slave_count - cluster.slave_count
        zone = session.get(capacity_tables.Zone, cluster.zone_id)
        subnet = session.get(capacity_tables.Subnet, cluster.subnet_id)
        if zone is None or subnet is None:
            raise errors.Conflict(
                "the cluster's zone or subnet is gone",
                "集群所在的可用区或交换机已不存在",
                code="PlacementGone",
            )
        zones.require_capacity(session, zone, {cluster.slave_type: added})
        host_ids: list[int] = []
        if zone.provider == host_rules.HOSTS:
            wanted = [(catalog_domain.SLAVE, cluster.slave_type)] * added
            chosen = hosts.choose_for(session, platform, zone, subnet, cluster.region, wanted)
            addresses, host_ids = [h.address for h in chosen], [h.id for h in chosen]
        else:
            addresses = networks.allocate(session, subnet, added)
        last = int(slaves[-1].name.rsplit("-", 1)[1]) if slaves else 0
        added_nodes = _node_rows(
            cluster,
            zone.id,
            catalog_domain.SLAVE,
            cluster.slave_type,
            range(last + 1, last + 1 + added),
            addresses,
            now,
        )
        cluster_store.add_nodes(session=session, nodes=added_nodes)
        hosts.claim_for_nodes(session, added_nodes, host_ids)
        move(session, platform, cluster, cluster_rules.SCALING_OUT)
    else:
        for node in slaves[order.slave_count :]:
            node.state, node.since = cluster_rules.NODE_REMOVING, now
        move(session, platform, cluster, cluster_rules.SCALING_IN)
    cluster.slave_count = order.slave_count


def cluster_names(platform: platform_module.Platform, account_id: str) -> dict[int, str]:
    with db.transaction(platform.sessions) as session:
        return {
            c.id: c.name
            for c in cluster_store.list_clusters(session=session, account_id=account_id)
        }


def usage(
    platform: platform_module.Platform, account_id: str, name: str
) -> list[capacity_tables.UsageRecord]:
    with db.transaction(platform.sessions) as session:
        cluster = find(session, account_id, name)
        return usage_store.list_usage(session=session, cluster_id=cluster.id)
