"""Data access for what the cluster reconciler observes: nodes, their components, ports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcompute.store.tables import capacity as capacity_tables


def list_nodes(
    *, session: Session, cluster_ids: Sequence[int]
) -> list[capacity_tables.ClusterNode]:
    query = (
        select(capacity_tables.ClusterNode)
        .where(capacity_tables.ClusterNode.cluster_id.in_(list(cluster_ids)))
        .order_by(capacity_tables.ClusterNode.cluster_id, capacity_tables.ClusterNode.id)
    )
    return list(session.scalars(query))


def read_node(*, session: Session, node_id: int) -> capacity_tables.ClusterNode | None:
    return session.get(capacity_tables.ClusterNode, node_id)


def list_components(
    *, session: Session, cluster_ids: Sequence[int]
) -> list[capacity_tables.ClusterComponent]:
    query = (
        select(capacity_tables.ClusterComponent)
        .where(capacity_tables.ClusterComponent.cluster_id.in_(list(cluster_ids)))
        .order_by(capacity_tables.ClusterComponent.node_id, capacity_tables.ClusterComponent.kind)
    )
    return list(session.scalars(query))


def read_component(
    *, session: Session, component_id: int
) -> capacity_tables.ClusterComponent | None:
    return session.get(capacity_tables.ClusterComponent, component_id)


def used_port_bases(*, session: Session) -> list[int]:
    query = select(capacity_tables.ClusterNode.port_base).where(
        capacity_tables.ClusterNode.port_base.is_not(None)
    )
    return [base for base in session.scalars(query) if base is not None]


def create_component(
    *, session: Session, component: capacity_tables.ClusterComponent
) -> capacity_tables.ClusterComponent:
    session.add(component)
    session.flush()
    return component


def delete_nodes(*, session: Session, node_ids: Sequence[int]) -> None:
    """Delete nodes and their components (explicitly: not every database cascades)."""
    if not node_ids:
        return
    ids = list(node_ids)
    session.execute(
        delete(capacity_tables.ClusterComponent).where(
            capacity_tables.ClusterComponent.node_id.in_(ids)
        )
    )
    session.execute(
        delete(capacity_tables.ClusterNode).where(capacity_tables.ClusterNode.id.in_(ids))
    )
