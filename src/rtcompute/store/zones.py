"""Data access for zones and what is placed in them.

A zone's use is never stored: it is the count of cluster nodes in the zone, so a released
cluster frees its capacity the moment its node rows go, with no counter to drift.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcompute.domain import clusters as cluster_domain
from rtcompute.store import locks
from rtcompute.store.tables import capacity as capacity_tables

Zone = capacity_tables.Zone
ClusterNode = capacity_tables.ClusterNode


def create_zone(*, session: Session, zone: Zone) -> Zone:
    session.add(zone)
    session.flush()
    return zone


def read_zone(*, session: Session, region: str, name: str, lock: bool = False) -> Zone | None:
    """The zone; `lock` holds its row until the transaction ends (both databases, see
    store/locks.py), so that two placements in one zone are decided one after the other."""
    query = select(Zone).where(Zone.region == region, Zone.name == name)
    found = session.scalars(query).first()
    if found is not None and lock:
        lock_zone(session=session, zone_id=found.id)
        session.refresh(found)
    return found


def lock_zone(*, session: Session, zone_id: int) -> None:
    locks.hold(session=session, table=Zone, row_id=zone_id)


def list_zones(*, session: Session, region: str) -> list[Zone]:
    query = select(Zone).where(Zone.region == region).order_by(Zone.name)
    return list(session.scalars(query))


def zone_names(*, session: Session, zone_ids: list[int]) -> dict[int, str]:
    if not zone_ids:
        return {}
    query = select(Zone.id, Zone.name).where(Zone.id.in_(zone_ids))
    return {zone_id: name for zone_id, name in session.execute(query)}


def delete_zone(*, session: Session, zone_id: int) -> None:
    session.execute(delete(Zone).where(Zone.id == zone_id))


def used_by_type(*, session: Session, zone_id: int) -> dict[str, int]:
    """Nodes placed in the zone, by machine type."""
    query = (
        select(ClusterNode.machine_type, func.count())
        .where(ClusterNode.zone_id == zone_id)
        .group_by(ClusterNode.machine_type)
    )
    return {machine_type: count for machine_type, count in session.execute(query)}


def used_by_zone(*, session: Session, zone_ids: list[int]) -> dict[int, dict[str, int]]:
    """`used_by_type` for many zones in one query."""
    found: dict[int, dict[str, int]] = {zone_id: {} for zone_id in zone_ids}
    if not zone_ids:
        return found
    query = (
        select(ClusterNode.zone_id, ClusterNode.machine_type, func.count())
        .where(ClusterNode.zone_id.in_(zone_ids))
        .group_by(ClusterNode.zone_id, ClusterNode.machine_type)
    )
    for zone_id, machine_type, count in session.execute(query):
        found[zone_id][machine_type] = count
    return found


def count_nodes(*, session: Session, zone_id: int) -> int:
    query = select(func.count()).select_from(ClusterNode).where(ClusterNode.zone_id == zone_id)
    return session.scalar(query) or 0


def count_subnets(*, session: Session, zone_id: int) -> int:
    subnet = capacity_tables.Subnet
    query = select(func.count()).select_from(subnet).where(subnet.zone_id == zone_id)
    return session.scalar(query) or 0


def count_clusters(*, session: Session, zone_id: int) -> dict[bool, int]:
    """Clusters placed in the zone: {released: count}; released ones keep the zone in their
    history."""
    cluster = capacity_tables.Cluster
    released = cluster.state == cluster_domain.RELEASED
    query = (
        select(released, func.count())
        .select_from(cluster)
        .where(cluster.zone_id == zone_id)
        .group_by(released)
    )
    found = {True: 0, False: 0}
    for is_released, count in session.execute(query):
        found[bool(is_released)] = count
    return found
