"""Before a cluster is created: what the account still lacks, and where an order fits.

The guide's cluster wizard (独享模式开通流程 > 创建集群) asks for the order first and the
placement last; checking only at the end sends a user back three steps. So the wizard asks
here at step 1 (the service role and its exclusive-mode actions, a bucket a cluster can use,
a network with a subnet in a zone that has room for the order) and at step 3 (which zones
and subnets can hold the order). The rules are the ones creation applies
(`domain.networks.zone_refusal`, `subnet_refusal`, `domain.buckets.check_for_cluster`,
`service_role.status`): these functions only ask them early, on unlocked reads, and
creation asks them again under its locks.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import buckets as bucket_domain
from rtcompute.domain import networks as network_domain
from rtcompute.domain import orders as order_rules
from rtcompute.domain import ram
from rtcompute.services.capacity import buckets, networks, order_use, zones
from rtcompute.services.iam import service_role
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables

# codes of the prerequisites that have no creation error of their own
NO_USABLE_BUCKET = "ClusterPrerequisite.Bucket"
NO_NETWORK = "ClusterPrerequisite.Network"
NO_SUBNET_WITH_ROOM = "ClusterPrerequisite.Subnet"
NO_ZONE_WITH_ROOM = "ClusterPrerequisite.Zone"


@dataclass(frozen=True)
class Needs:
    """What an order's cluster takes: nodes by machine type, and addresses (one per node)."""

    nodes: dict[str, int]
    addresses: int


@dataclass(frozen=True)
class ZoneFit:
    zone: zones.ZoneView
    shortfall: tuple[str, int, int] | None  # (machine type, room left, nodes needed)
    refusal: errors.RtcError | None  # why it cannot hold the order; None when it can


@dataclass(frozen=True)
class SubnetFit:
    subnet: networks.SubnetView
    addresses_needed: int
    zone_shortfall: tuple[str, int, int] | None
    refusal: errors.RtcError | None  # too few free addresses, or its zone has no room


def needs_of(order: capacity_tables.Order) -> Needs:
    nodes = network_domain.nodes_needed(
        order.master_type, order.master_count, order.slave_type, order.slave_count
    )
    return Needs(nodes, order.master_count + order.slave_count)


def zone_fits(found: list[zones.ZoneView], needs: Needs | None) -> list[ZoneFit]:
    """Each zone with why it cannot hold the order (no order chosen: every zone fits)."""
    if needs is None:
        return [ZoneFit(zone, None, None) for zone in found]
    return [
        ZoneFit(
            zone,
            network_domain.zone_shortfall(needs.nodes, zone.remaining),
            network_domain.zone_refusal(zone.name, needs.nodes, zone.remaining),
        )
        for zone in found
    ]


def subnet_fits(
    subnets: list[networks.SubnetView], found: list[zones.ZoneView], needs: Needs | None
) -> list[SubnetFit]:
    """Each subnet with why it cannot hold the order: its addresses first, then its zone."""
    if needs is None:
        return [SubnetFit(subnet, 0, None, None) for subnet in subnets]
    remaining = {zone.name: zone.remaining for zone in found}
    fits = []
    for subnet in subnets:
        room = remaining.get(subnet.zone, {})
        refusal = network_domain.subnet_refusal(
            subnet.name, subnet.cidr, subnet.free_addresses, needs.addresses
        ) or network_domain.zone_refusal(subnet.zone, needs.nodes, room)
        short = network_domain.zone_shortfall(needs.nodes, room)
        fits.append(SubnetFit(subnet, needs.addresses, short, refusal))
    return fits


def usable_order(
    platform: platform_module.Platform, account_id: str, order_id: str
) -> capacity_tables.Order:
    """The paid, unused exclusive order (the check creation makes), or its error."""
    with db.transaction(platform.sessions) as session:
        return order_use.usable(session, account_id, order_id, order_rules.EXCLUSIVE)


def _role_missing(platform: platform_module.Platform, account_id: str) -> list[errors.RtcError]:
    status = service_role.status(platform, account_id)
    if not status.authorized:
        return [
            errors.Forbidden(
                f"The service role {ram.SERVICE_ROLE} is not authorized yet: the service cannot "
                "create a cluster for this account. Authorize it on the service role page.",
                f"服务角色 {ram.SERVICE_ROLE} 尚未授权，流计算服务无法为本账号创建集群。"
                "请在服务角色页面完成授权。",
                code="ServiceRoleNotAuthorized",
            )
        ]
    if status.missing_for_cluster_creation:
        missing = ", ".join(status.missing_for_cluster_creation)
        return [
            errors.Forbidden(
                f"The service role {ram.SERVICE_ROLE} lacks what an exclusive cluster needs: "
                f"{missing}. Add them to its policy, or re-initialize the service role.",
                f"服务角色 {ram.SERVICE_ROLE} 缺少独享模式集群所需的权限：{missing}。"
                "请将它们添加到该角色的权限策略中（参见指南：独享模式角色授权），或重新初始化服务角色。",
                code="ServiceRoleMissingAction",
            )
        ]
    return []


def _bucket_missing(platform: platform_module.Platform, account_id: str) -> list[errors.RtcError]:
    for bucket in buckets.list_buckets(platform, account_id):
        try:
            bucket_domain.check_for_cluster(bucket.name, bucket.storage_class, bucket.acl)
        except errors.Invalid:
            continue
        return []
    return [
        errors.Invalid(
            "No bucket a cluster can use: a cluster keeps its UDF packages in a bucket with "
            f"standard storage and a private ACL. Create one ({bucket_domain.STANDARD}, "
            f"{bucket_domain.PRIVATE}) or change a bucket's ACL.",
            "没有集群可用的存储空间：集群的 UDF 包须存放在标准存储类型、私有读写权限的存储空间中。"
            f"请创建一个（{bucket_domain.STANDARD}，{bucket_domain.PRIVATE}），或修改已有存储空间的读写权限。",
            code=NO_USABLE_BUCKET,
        )
    ]


def _placement_missing(
    platform: platform_module.Platform, account_id: str, needs: Needs | None
) -> list[errors.RtcError]:
    found = zones.list_zones(platform)
    region = platform.settings.region
    roomy = [z.zone for z in zone_fits(found, needs) if z.refusal is None]
    problems: list[errors.RtcError] = []
    if not roomy:
        problems.append(
            errors.QuotaExceeded(
                f"No zone of region {region} has room for this order's nodes: ask the operator "
                "to register a zone, or more capacity in one, for your machine types.",
                f"地域 {region} 中没有可容纳该订单节点的可用区：请联系运维人员登记可用区，"
                "或为现有可用区增加所需机型的容量。",
                code=NO_ZONE_WITH_ROOM,
            )
        )
    network_list = networks.list_networks(platform, account_id)
    if not network_list:
        problems.append(
            errors.NotFound(
                "No network yet: create a network, then a subnet in a zone, for the cluster's "
                "nodes.",
                "还没有专有网络：请先创建专有网络，再在可用区中创建交换机，供集群节点使用。",
                code=NO_NETWORK,
            )
        )
        return problems
    subnets = [s for n in network_list for s in networks.list_subnets(platform, account_id, n.name)]
    usable = [s.subnet for s in subnet_fits(subnets, found, needs) if s.refusal is None]
    if not usable and roomy:
        count = needs.addresses if needs else 1
        where = ", ".join(sorted(z.name for z in roomy))
        problems.append(
            errors.QuotaExceeded(
                f"No subnet can hold this order: the cluster needs a subnet with {count} free "
                f"addresses (one per node) in a zone with room ({where}). Create such a subnet "
                "in one of your networks.",
                f"没有可容纳该订单的交换机：集群需要一个有 {count} 个空闲地址（每个节点一个）、"
                f"且位于有余量的可用区（{where}）中的交换机。请在您的专有网络中创建这样的交换机。",
                code=NO_SUBNET_WITH_ROOM,
            )
        )
    return problems


def missing(
    platform: platform_module.Platform, account_id: str, order: capacity_tables.Order | None
) -> list[errors.RtcError]:
    """Every prerequisite of creating a cluster from `order` the account lacks, each as the
    error that says what to do (the order's own checks are the caller's)."""
    needs = needs_of(order) if order is not None else None
    return [
        *_role_missing(platform, account_id),
        *_bucket_missing(platform, account_id),
        *_placement_missing(platform, account_id, needs),
    ]


def placement_options(
    platform: platform_module.Platform,
    order: capacity_tables.Order,
    subnets: list[networks.SubnetView],
) -> tuple[list[ZoneFit], list[SubnetFit]]:
    """The region's zones and these subnets, each with why it cannot hold the order."""
    found = zones.list_zones(platform)
    needs = needs_of(order)
    return zone_fits(found, needs), subnet_fits(subnets, found, needs)
