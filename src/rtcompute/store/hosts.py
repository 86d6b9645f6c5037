"""Data access for hosts and their join tokens (domain/hosts.py says what a host is)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from rtcompute.store import locks
from rtcompute.store.tables import capacity as capacity_tables

Host = capacity_tables.Host
HostJoinToken = capacity_tables.HostJoinToken
ClusterNode = capacity_tables.ClusterNode


def create_host(*, session: Session, host: Host) -> Host:
    session.add(host)
    session.flush()
    return host


def read_host(*, session: Session, host_id: int, lock: bool = False) -> Host | None:
    found = session.get(Host, host_id)
    if found is not None and lock:
        locks.hold(session=session, table=Host, row_id=host_id)
        session.refresh(found)
    return found


def read_host_by_name(*, session: Session, name: str) -> Host | None:
    return session.scalars(select(Host).where(Host.name == name)).first()


def list_hosts(*, session: Session, zone_ids: Sequence[int] | None = None) -> list[Host]:
    query = select(Host).order_by(Host.zone_id, Host.name)
    if zone_ids is not None:
        query = query.where(Host.zone_id.in_(list(zone_ids)))
    return list(session.scalars(query))


def free_hosts(*, session: Session, zone_id: int) -> list[Host]:
    """Hosts of the zone a new node may claim: serving none, not draining, not lost."""
    query = (
        select(Host)
        .where(
            Host.zone_id == zone_id,
            Host.node_id.is_(None),
            Host.draining.is_(False),
            Host.lost_since.is_(None),
        )
        .order_by(Host.name)
    )
    return list(session.scalars(query))


def hosts_of_nodes(*, session: Session, node_ids: Sequence[int]) -> dict[int, Host]:
    if not node_ids:
        return {}
    query = select(Host).where(Host.node_id.in_(list(node_ids)))
    return {host.node_id: host for host in session.scalars(query) if host.node_id is not None}


def usable_hosts(*, session: Session, zone_id: int) -> list[Host]:
    """Hosts of the zone new work may go to: not draining, not lost."""
    query = (
        select(Host)
        .where(Host.zone_id == zone_id, Host.draining.is_(False), Host.lost_since.is_(None))
        .order_by(Host.name)
    )
    return list(session.scalars(query))


def hosts_of_cluster(*, session: Session, cluster_id: int) -> list[Host]:
    """The hosts that serve the cluster's nodes."""
    query = (
        select(Host)
        .join(ClusterNode, ClusterNode.id == Host.node_id)
        .where(ClusterNode.cluster_id == cluster_id)
        .order_by(Host.name)
    )
    return list(session.scalars(query))


def count_in_zone(*, session: Session, zone_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Host.zone_id == zone_id)) or 0)


def claim(*, session: Session, host_id: int, node_id: int) -> bool:
    """Give a free host to a node; False when another placement took it first."""
    result = session.execute(
        update(Host)
        .where(Host.id == host_id, Host.node_id.is_(None))
        .values(node_id=node_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def delete_host(*, session: Session, host_id: int) -> None:
    session.execute(delete(Host).where(Host.id == host_id))


def create_token(*, session: Session, token: HostJoinToken) -> HostJoinToken:
    session.add(token)
    session.flush()
    return token


def read_token(*, session: Session, token_id: str) -> HostJoinToken | None:
    return session.get(HostJoinToken, token_id)


def use_token(*, session: Session, token_id: str, used_at: object, host_id: int) -> bool:
    """Mark a token used; False when it had been used already (two joins, one token)."""
    result = session.execute(
        update(HostJoinToken)
        .where(HostJoinToken.id == token_id, HostJoinToken.used_at.is_(None))
        .values(used_at=used_at, host_id=host_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def list_tokens(*, session: Session, zone_ids: Sequence[int] | None = None) -> list[HostJoinToken]:
    query = select(HostJoinToken).order_by(HostJoinToken.created_at.desc())
    if zone_ids is not None:
        query = query.where(HostJoinToken.zone_id.in_(list(zone_ids)))
    return list(session.scalars(query))
