"""Tables of engine versions: the operator's catalog rows, the copies installed on each
machine, and the versions installed on each cluster (and on the shared pool).

A machine copy is shared by every target that uses its version; its reference count is the
number of deployments of that version, counted by query, never stored (so it cannot drift).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcompute.store.tables.base import Base, UtcDateTime


class EngineVersion(Base):
    """An operator's catalog row: overrides the default entry of the same name, or adds one."""

    __tablename__ = "engine_versions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)  # flink-2.2.1
    tag: Mapped[str] = mapped_column(String(8))  # stable | beta | none
    released_on: Mapped[date] = mapped_column(Date())
    end_of_service: Mapped[date] = mapped_column(Date())
    notes: Mapped[str] = mapped_column(String(1024), default="")
    # False: no longer offered for new installs (installed copies stay)
    listed: Mapped[bool] = mapped_column(default=True)


class EngineCopy(Base):
    """A version's virtual environment on one machine (`host`; `local` for this machine)."""

    __tablename__ = "engine_copies"
    host: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # installing | ready | failed
    path: Mapped[str] = mapped_column(String(1024), default="")
    source: Mapped[str] = mapped_column(String(16), default="")  # index | wheelhouse
    phase: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    message: Mapped[str] = mapped_column(Text, default="")
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    since: Mapped[datetime] = mapped_column(UtcDateTime())


class EngineDeployment(Base):
    """A version installed (or being installed) on a cluster or on the shared pool."""

    __tablename__ = "engine_deployments"
    __table_args__ = (UniqueConstraint("target", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String(32))  # pool | cluster:<id>
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), default=None
    )
    version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # installing | installed | failed
    current: Mapped[bool] = mapped_column(default=False)
    phase: Mapped[str] = mapped_column(String(64), default="")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    # the message in Chinese ("": it has none; 0013), see domain/cluster_events.py
    message_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state_since: Mapped[datetime] = mapped_column(UtcDateTime())


class NamedLock(Base):
    """A row to lock by name, for check-then-write on something without a row of its own
    (the shared pool's versions); see store/locks.py."""

    __tablename__ = "named_locks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
