"""Data access for clusters (desired state); their nodes and components: `cluster_nodes`."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcompute.store import locks
from rtcompute.store.tables import capacity as capacity_tables

Cluster = capacity_tables.Cluster
Node = capacity_tables.ClusterNode
Component = capacity_tables.ClusterComponent


def create_cluster(*, session: Session, cluster: Cluster) -> Cluster:
    session.add(cluster)
    session.flush()
    return cluster


def add_nodes(*, session: Session, nodes: Collection[Node]) -> None:
    session.add_all(nodes)
    session.flush()


def read_cluster(*, session: Session, cluster_id: int) -> Cluster | None:
    return session.get(Cluster, cluster_id)


def find_cluster(
    *, session: Session, account_id: str, name: str, lock: bool = False
) -> Cluster | None:
    """The cluster; `lock` holds its row to the end of the transaction (store/locks.py), so
    that CU checks, scales and releases of one cluster are decided one after the other."""
    # the live cluster of that name, else the newest released one
    query = (
        select(Cluster)
        .where(Cluster.account_id == account_id, Cluster.name == name)
        .order_by((Cluster.state == "released").asc(), Cluster.id.desc())
    )
    found = session.scalars(query).first()
    if found is not None and lock:
        locks.hold(session=session, table=Cluster, row_id=found.id)
        session.refresh(found)
    return found


def lock_cluster(*, session: Session, cluster: Cluster) -> None:
    locks.hold(session=session, table=Cluster, row_id=cluster.id)
    session.refresh(cluster)


def list_clusters(
    *, session: Session, account_id: str | None = None, states: Collection[str] = ()
) -> list[Cluster]:
    query = select(Cluster).order_by(Cluster.name)
    if account_id is not None:
        query = query.where(Cluster.account_id == account_id)
    if states:
        query = query.where(Cluster.state.in_(list(states)))
    return list(session.scalars(query))
