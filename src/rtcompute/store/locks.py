"""Row locks that hold on both databases.

`SELECT ... FOR UPDATE` locks the row on PostgreSQL but is a no-op on SQLite, where plain
reads run outside any transaction. An `UPDATE` that changes nothing does both jobs: on
PostgreSQL it locks the row; on SQLite it opens the write transaction, which serializes every
other writer until this one commits. Check-then-write code (capacity left in a zone, CU left
in a cluster, free addresses) takes the lock first and reads after it.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from rtcompute.store import tables
from rtcompute.store.tables import capacity as capacity_tables

Lockable = (
    type[tables.Project]
    | type[capacity_tables.Cluster]
    | type[capacity_tables.Zone]
    | type[capacity_tables.Network]
    | type[capacity_tables.Subnet]
    | type[capacity_tables.Host]
)


def hold(*, session: Session, table: Lockable, row_id: int) -> None:
    """Hold the row (and, on SQLite, the database's write lock) until the transaction ends."""
    session.execute(
        update(table)
        .where(table.id == row_id)
        .values(id=table.id)
        .execution_options(synchronize_session=False)
    )


def hold_named(*, session: Session, name: str) -> None:
    """Hold a lock by name (its row is created on first use) until the transaction ends."""
    from sqlalchemy.dialects import postgresql, sqlite

    from rtcompute.store.tables import engines as engine_tables

    table = engine_tables.NamedLock
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).values(name=name).on_conflict_do_nothing())
    session.execute(
        update(table)
        .where(table.name == name)
        .values(name=table.name)
        .execution_options(synchronize_session=False)
    )
