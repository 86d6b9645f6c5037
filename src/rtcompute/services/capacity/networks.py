"""A tenant's networks and subnets (the guide's VPC and VSwitch) and their addresses.

A subnet lies in one zone; a cluster takes one address per node from it. Addresses are
counted from the node rows, never stored as a counter. The cluster service calls
`read_network`, `read_subnet`, `free_addresses` and `allocate` inside its own transaction;
`allocate` locks the subnet's row (PostgreSQL) so that two clusters placed at once get
different addresses, provided each inserts its nodes before the transaction ends.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import names, ram
from rtcompute.domain import networks as network_domain
from rtcompute.services.capacity import zones
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import db
from rtcompute.store import networks as network_store
from rtcompute.store import zones as zone_store
from rtcompute.store.tables import capacity as capacity_tables

Network = capacity_tables.Network
Subnet = capacity_tables.Subnet


@dataclass(frozen=True)
class NetworkView:
    name: str
    region: str
    cidr: str
    description: str
    subnets: int
    created_at: datetime
    arn: str


@dataclass(frozen=True)
class SubnetView:
    network: str
    name: str
    cidr: str
    zone: str
    usable_addresses: int
    free_addresses: int
    created_at: datetime
    arn: str


def network_resource(network: Network) -> str:
    return f"acs:vpc:{network.region}:{network.account_id}:vpc/{network.name}"


def subnet_resource(network: Network, subnet_name: str) -> str:
    return f"acs:vpc:{network.region}:{network.account_id}:vswitch/{subnet_name}"


def read_network(session: db.Session, account_id: str, name: str) -> Network:
    """The account's network of that name, or NotFound."""
    found = (
        network_store.read_network(session=session, account_id=account_id, name=name)
        if names.NETWORK.fits(name)
        else None
    )
    if found is None:
        raise errors.NotFound(
            f"network {name[:64]!r} does not exist; create it first",
            f"专有网络 {name[:64]!r} 不存在，请先创建",
            code="NetworkNotFound",
        )
    return found


def read_subnet(session: db.Session, network: Network, name: str) -> Subnet:
    """The network's subnet of that name, or NotFound."""
    found = (
        network_store.read_subnet(session=session, network_id=network.id, name=name)
        if names.SUBNET.fits(name)
        else None
    )
    if found is None:
        raise errors.NotFound(
            f"subnet {name[:64]!r} does not exist in network {network.name}; create it first",
            f"专有网络 {network.name} 中不存在交换机 {name[:64]!r}，请先创建",
            code="SubnetNotFound",
        )
    return found


def _block(subnet: Subnet) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(subnet.cidr)


def free_addresses(session: db.Session, subnet: Subnet) -> int:
    """Usable addresses of the subnet that no cluster node holds."""
    taken = network_store.taken_addresses(session=session, subnet_ids=[subnet.id])[subnet.id]
    return network_domain.free_addresses(_block(subnet), taken)


def allocate(session: db.Session, subnet: Subnet, count: int) -> list[str]:
    """The `count` lowest free addresses; QuotaExceeded when the subnet has too few (the
    guide: a VSwitch's free IPs must be at least the cluster's node count)."""
    network_store.lock_subnet(session=session, subnet_id=subnet.id)
    taken = network_store.taken_addresses(session=session, subnet_ids=[subnet.id])[subnet.id]
    free = network_domain.free_addresses(_block(subnet), taken)
    refused = network_domain.subnet_refusal(subnet.name, subnet.cidr, free, count)
    if refused is not None:
        raise refused
    return network_domain.next_free(_block(subnet), taken, count)


def _network_view(network: Network, subnets: int) -> NetworkView:
    return NetworkView(
        network.name,
        network.region,
        network.cidr,
        network.description,
        subnets,
        network.created_at,
        network_resource(network),
    )


def create_network(
    platform: platform_module.Platform,
    principal: principals.Principal,
    name: str,
    cidr: str,
    *,
    description: str = "",
) -> NetworkView:
    names.NETWORK.check(name)
    block = network_domain.check_network_cidr(cidr)
    ram.check_text("description", description, ram.MAX_DESCRIPTION)
    taken = errors.Conflict(
        f"a network named {name} already exists in this account; choose another name",
        f"本账号已有名为 {name} 的专有网络，请换一个名称",
        code="NetworkAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            if network_store.read_network(
                session=session, account_id=principal.account_id, name=name
            ):
                raise taken
            network = network_store.create_network(
                session=session,
                network=Network(
                    account_id=principal.account_id,
                    region=platform.settings.region,
                    name=name,
                    cidr=str(block),
                    description=description,
                    created_at=platform.now(),
                ),
            )
            return _network_view(network, 0)
    except IntegrityError as exc:
        raise taken from exc


def list_networks(platform: platform_module.Platform, account_id: str) -> list[NetworkView]:
    with db.transaction(platform.sessions) as session:
        found = network_store.list_networks(session=session, account_id=account_id)
        counts = network_store.count_subnets(session=session, network_ids=[n.id for n in found])
        return [_network_view(network, counts[network.id]) for network in found]


def describe_network(platform: platform_module.Platform, account_id: str, name: str) -> NetworkView:
    with db.transaction(platform.sessions) as session:
        network = read_network(session, account_id, name)
        counts = network_store.count_subnets(session=session, network_ids=[network.id])
        return _network_view(network, counts[network.id])


def delete_network(platform: platform_module.Platform, account_id: str, name: str) -> None:
    """Delete a network without subnets."""
    in_use = errors.Conflict(
        f"network {name} still has subnets: delete them first",
        f"专有网络 {name} 中还有交换机，请先删除它们",
        code="NetworkInUse",
    )
    try:
        with db.transaction(platform.sessions) as session:
            network = read_network(session, account_id, name)
            network_store.lock_network(session=session, network_id=network.id)
            count = network_store.count_subnets(session=session, network_ids=[network.id])
            if count[network.id]:
                raise errors.Conflict(
                    f"network {name} still has {count[network.id]} subnets: delete them first",
                    f"专有网络 {name} 中还有 {count[network.id]} 个交换机，请先删除它们",
                    code="NetworkInUse",
                )
            network_store.delete_network(session=session, network_id=network.id)
    except IntegrityError as exc:
        raise in_use from exc


def _subnet_views(session: db.Session, network: Network, subnets: list[Subnet]) -> list[SubnetView]:
    taken = network_store.taken_addresses(session=session, subnet_ids=[s.id for s in subnets])
    zone_names = zone_store.zone_names(
        session=session, zone_ids=sorted({s.zone_id for s in subnets})
    )
    return [
        SubnetView(
            network.name,
            subnet.name,
            subnet.cidr,
            zone_names.get(subnet.zone_id, ""),
            network_domain.usable_addresses(_block(subnet)),
            network_domain.free_addresses(_block(subnet), taken[subnet.id]),
            subnet.created_at,
            subnet_resource(network, subnet.name),
        )
        for subnet in subnets
    ]


def create_subnet(
    platform: platform_module.Platform,
    account_id: str,
    network_name: str,
    name: str,
    cidr: str,
    zone_name: str,
) -> SubnetView:
    """A subnet inside the network, in one of the region's zones, overlapping no sibling."""
    names.SUBNET.check(name)
    taken = errors.Conflict(
        f"network {network_name} already has a subnet named {name}; choose another name",
        f"专有网络 {network_name} 中已有名为 {name} 的交换机，请换一个名称",
        code="SubnetAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            network = read_network(session, account_id, network_name)
            network_store.lock_network(session=session, network_id=network.id)
            zone = zones.read_zone(session, network.region, zone_name)
            siblings = network_store.list_subnets(session=session, network_id=network.id)
            if any(sibling.name == name for sibling in siblings):
                raise taken
            block = network_domain.check_subnet_cidr(
                cidr,
                ipaddress.IPv4Network(network.cidr),
                [_block(sibling) for sibling in siblings],
            )
            subnet = network_store.create_subnet(
                session=session,
                subnet=Subnet(
                    network_id=network.id,
                    zone_id=zone.id,
                    name=name,
                    cidr=str(block),
                    created_at=platform.now(),
                ),
            )
            return _subnet_views(session, network, [subnet])[0]
    except IntegrityError as exc:
        raise taken from exc


def list_subnets(
    platform: platform_module.Platform, account_id: str, network_name: str
) -> list[SubnetView]:
    with db.transaction(platform.sessions) as session:
        network = read_network(session, account_id, network_name)
        found = network_store.list_subnets(session=session, network_id=network.id)
        return _subnet_views(session, network, found)


def delete_subnet(
    platform: platform_module.Platform, account_id: str, network_name: str, name: str
) -> None:
    """Delete a subnet in which no cluster node holds an address."""
    with db.transaction(platform.sessions) as session:
        network = read_network(session, account_id, network_name)
        subnet = read_subnet(session, network, name)
        network_store.lock_subnet(session=session, subnet_id=subnet.id)
        held = network_store.taken_addresses(session=session, subnet_ids=[subnet.id])[subnet.id]
        if held:
            raise errors.Conflict(
                f"subnet {name} still has {len(held)} addresses held by cluster nodes: release "
                "the clusters in it first",
                f"交换机 {name} 中仍有 {len(held)} 个地址被集群节点占用，请先释放其中的集群",
                code="SubnetInUse",
            )
        network_store.delete_subnet(session=session, subnet_id=subnet.id)
