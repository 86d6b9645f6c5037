"""Data access for the catalog: regions and machine types (rows override the defaults)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcompute.store.tables import capacity as capacity_tables


def list_regions(*, session: Session) -> list[capacity_tables.Region]:
    query = select(capacity_tables.Region).order_by(capacity_tables.Region.name)
    return list(session.scalars(query))


def read_region(*, session: Session, name: str) -> capacity_tables.Region | None:
    return session.get(capacity_tables.Region, name)


def list_machine_types(*, session: Session) -> list[capacity_tables.MachineType]:
    query = select(capacity_tables.MachineType).order_by(
        capacity_tables.MachineType.role, capacity_tables.MachineType.cores
    )
    return list(session.scalars(query))


def read_machine_type(
    *, session: Session, role: str, name: str
) -> capacity_tables.MachineType | None:
    query = select(capacity_tables.MachineType).where(
        capacity_tables.MachineType.role == role, capacity_tables.MachineType.name == name
    )
    return session.scalars(query).first()


def add(*, session: Session, row: capacity_tables.Region | capacity_tables.MachineType) -> None:
    session.add(row)
    session.flush()
