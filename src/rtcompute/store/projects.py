"""Data access for projects."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcompute.store import tables


def create_project(*, session: Session, project: tables.Project) -> tables.Project:
    session.add(project)
    session.flush()
    return project


def read_project(*, session: Session, account_id: str, name: str) -> tables.Project | None:
    query = select(tables.Project).where(
        tables.Project.account_id == account_id, tables.Project.name == name
    )
    return session.scalars(query).first()


def list_projects(*, session: Session, account_id: str) -> list[tables.Project]:
    query = (
        select(tables.Project)
        .where(tables.Project.account_id == account_id)
        .order_by(tables.Project.name)
    )
    return list(session.scalars(query))


def delete_project(*, session: Session, project_id: int) -> None:
    session.execute(delete(tables.Project).where(tables.Project.id == project_id))


def list_projects_in_cluster(*, session: Session, cluster_id: int) -> list[tables.Project]:
    query = (
        select(tables.Project)
        .where(tables.Project.cluster_id == cluster_id)
        .order_by(tables.Project.name)
    )
    return list(session.scalars(query))
