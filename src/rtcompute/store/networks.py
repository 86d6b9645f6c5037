"""Data access for networks, subnets and the addresses cluster nodes hold in them.

An address is taken when a cluster node of a cluster in the subnet holds it; like a zone's
use, it is counted from the node rows and never stored twice.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.store import locks
from rtcompute.store.tables import capacity as capacity_tables

Network = capacity_tables.Network
Subnet = capacity_tables.Subnet
Cluster = capacity_tables.Cluster
ClusterNode = capacity_tables.ClusterNode


def create_network(*, session: Session, network: Network) -> Network:
    session.add(network)
    session.flush()
    return network


def read_network(*, session: Session, account_id: str, name: str) -> Network | None:
    query = select(Network).where(Network.account_id == account_id, Network.name == name)
    return session.scalars(query).first()


def lock_network(*, session: Session, network_id: int) -> None:
    """Hold the network's row to the end of the transaction (PostgreSQL), so that two new
    subnets of one network are checked for overlap one after the other."""
    locks.hold(session=session, table=Network, row_id=network_id)


def list_networks(*, session: Session, account_id: str) -> list[Network]:
    query = select(Network).where(Network.account_id == account_id).order_by(Network.name)
    return list(session.scalars(query))


def delete_network(*, session: Session, network_id: int) -> None:
    session.execute(delete(Network).where(Network.id == network_id))


def count_subnets(*, session: Session, network_ids: list[int]) -> dict[int, int]:
    found = dict.fromkeys(network_ids, 0)
    if not network_ids:
        return found
    query = (
        select(Subnet.network_id, func.count())
        .where(Subnet.network_id.in_(network_ids))
        .group_by(Subnet.network_id)
    )
    for network_id, count in session.execute(query):
        found[network_id] = count
    return found


def create_subnet(*, session: Session, subnet: Subnet) -> Subnet:
    session.add(subnet)
    session.flush()
    return subnet


def read_subnet(
    *, session: Session, network_id: int, name: str, lock: bool = False
) -> Subnet | None:
    """The subnet; `lock` holds its row to the end of the transaction (PostgreSQL), so that
    two allocations in one subnet never hand out the same address."""
    query = select(Subnet).where(Subnet.network_id == network_id, Subnet.name == name)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def lock_subnet(*, session: Session, subnet_id: int) -> None:
    locks.hold(session=session, table=Subnet, row_id=subnet_id)


def list_subnets(*, session: Session, network_id: int) -> list[Subnet]:
    query = select(Subnet).where(Subnet.network_id == network_id).order_by(Subnet.name)
    return list(session.scalars(query))


def delete_subnet(*, session: Session, subnet_id: int) -> None:
    session.execute(delete(Subnet).where(Subnet.id == subnet_id))


def taken_addresses(*, session: Session, subnet_ids: list[int]) -> dict[int, list[str]]:
    """The addresses cluster nodes hold, by subnet."""
    found: dict[int, list[str]] = {subnet_id: [] for subnet_id in subnet_ids}
    if not subnet_ids:
        return found
    query = (
        select(Cluster.subnet_id, ClusterNode.address)
        .join(Cluster, Cluster.id == ClusterNode.cluster_id)
        .where(Cluster.subnet_id.in_(subnet_ids))
    )
    for subnet_id, address in session.execute(query):
        if subnet_id is not None:
            found[subnet_id].append(address)
    return found


def count_clusters(*, session: Session, subnet_id: int) -> int:
    query = select(func.count()).select_from(Cluster).where(Cluster.subnet_id == subnet_id)
    return session.scalar(query) or 0
