"""Data access for engine versions: catalog rows, machine copies, deployments on targets,
and the online jobs that pin a version."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcompute.store.tables import capacity as capacity_tables
from rtcompute.store.tables import engines as engine_tables

EngineVersion = engine_tables.EngineVersion
Copy = engine_tables.EngineCopy
Deployment = engine_tables.EngineDeployment


def list_catalog_rows(*, session: Session) -> list[EngineVersion]:
    return list(session.scalars(select(EngineVersion)))


def save_catalog_row(*, session: Session, row: EngineVersion) -> EngineVersion:
    merged = session.merge(row)
    session.flush()
    return merged


def list_deployments(
    *, session: Session, target: str | None = None, states: Collection[str] = ()
) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.target, Deployment.id)
    if target is not None:
        query = query.where(Deployment.target == target)
    if states:
        query = query.where(Deployment.state.in_(states))
    return list(session.scalars(query))


def list_deployments_of_clusters_in(
    *, session: Session, states: Collection[str]
) -> list[Deployment]:
    """Deployments on clusters whose state is one of `states`."""
    Cluster = capacity_tables.Cluster
    query = (
        select(Deployment)
        .join(Cluster, Cluster.id == Deployment.cluster_id)
        .where(Cluster.state.in_(states))
    )
    return list(session.scalars(query))


def find_deployment(*, session: Session, target: str, version: str) -> Deployment | None:
    query = select(Deployment).where(Deployment.target == target, Deployment.version == version)
    return session.scalars(query).first()


def add_deployment(*, session: Session, deployment: Deployment) -> Deployment:
    session.add(deployment)
    session.flush()
    return deployment


def delete_deployment(*, session: Session, deployment: Deployment) -> None:
    session.delete(deployment)
    session.flush()


def read_copy(*, session: Session, host: str, version: str) -> Copy | None:
    return session.get(Copy, (host, version))


def list_copies(*, session: Session, host: str) -> list[Copy]:
    return list(session.scalars(select(Copy).where(Copy.host == host).order_by(Copy.version)))


def add_copy(*, session: Session, copy: Copy) -> Copy:
    session.add(copy)
    session.flush()
    return copy


def delete_copy(*, session: Session, host: str, version: str) -> None:
    session.execute(delete(Copy).where(Copy.host == host, Copy.version == version))
