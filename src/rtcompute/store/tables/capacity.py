"""Tables of capacity: the catalog, orders, zones, networks, buckets, clusters and their nodes.

Kept apart from `tables.py` (identities and RAM) so each module stays small; both share
one `Base`, so Alembic sees one metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from rtcompute.store.tables.base import Base, UtcDateTime


class Region(Base):
    """A region tenants buy in; the shared pool's CU price is per region."""

    __tablename__ = "regions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    shared_cu_month_cents: Mapped[int] = mapped_column(BigInteger)


class MachineType(Base):
    """A master or slave machine type with its CU figure and prices (operator-editable)."""

    __tablename__ = "machine_types"
    __table_args__ = (UniqueConstraint("role", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(8))  # master | slave
    name: Mapped[str] = mapped_column(String(16))  # 4c16g
    cores: Mapped[int] = mapped_column(Integer)
    memory_gb: Mapped[int] = mapped_column(Integer)
    # slave: usable CU; master: the cluster's maximum CU (None: no maximum)
    cu: Mapped[int | None] = mapped_column(Integer, default=None)
    month_cents: Mapped[int] = mapped_column(BigInteger)
    hour_cents: Mapped[int] = mapped_column(BigInteger)


class Order(Base):
    """A purchase: shared CU, an exclusive cluster, or a renewal / scale of either."""

    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))  # shared | exclusive
    billing: Mapped[str] = mapped_column(String(16))  # subscription | payg
    purpose: Mapped[str] = mapped_column(String(16))  # new | renew | scale_out | scale_in
    target: Mapped[str] = mapped_column(String(64), default="")  # project / cluster name
    cu: Mapped[int] = mapped_column(Integer, default=0)
    master_type: Mapped[str] = mapped_column(String(16), default="")
    master_count: Mapped[int] = mapped_column(Integer, default=0)
    slave_type: Mapped[str] = mapped_column(String(16), default="")
    slave_count: Mapped[int] = mapped_column(Integer, default=0)
    months: Mapped[int] = mapped_column(Integer, default=0)
    # a renewal or scale: the target's CU (project) or slave count (cluster) it was priced
    # for; paying it after the target changed is refused (the price would be wrong)
    base: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # pending_payment | paid | consumed | expired | released | cancelled
    state: Mapped[str] = mapped_column(String(24))
    consumed_by: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class Zone(Base):
    """An operator-registered zone and how many nodes of each machine type it can hold."""

    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("region", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[str] = mapped_column(Text, default="{}")  # JSON {"4c16g": 10}
    # local: this machine's processes (capacity above); hosts: joined hosts (domain/hosts.py)
    provider: Mapped[str] = mapped_column(String(16), default="local", server_default="local")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Network(Base):
    """A tenant's network (the guide's VPC)."""

    __tablename__ = "networks"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    cidr: Mapped[str] = mapped_column(String(43))
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Subnet(Base):
    """A subnet of a network in one zone (the guide's VSwitch)."""

    __tablename__ = "subnets"
    __table_args__ = (UniqueConstraint("network_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    name: Mapped[str] = mapped_column(String(64))
    cidr: Mapped[str] = mapped_column(String(43))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Bucket(Base):
    """Artifact storage (the guide's OSS bucket); objects live under the data directory."""

    __tablename__ = "buckets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(63), unique=True)
    storage_class: Mapped[str] = mapped_column(String(16))  # standard | infrequent | archive
    acl: Mapped[str] = mapped_column(String(16))  # private | public-read
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Cluster(Base):
    """An exclusive cluster: desired shape and state; nodes hold what was placed."""

    __tablename__ = "clusters"
    # a name is unique among the account's clusters that are not released: a released
    # cluster stays listed (its history, its metered hours) and its name is free again
    __table_args__ = (
        Index(
            "uq_clusters_account_id_name_live",
            "account_id",
            "name",
            unique=True,
            sqlite_where=text("state != 'released'"),
            postgresql_where=text("state != 'released'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(1024), default="")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    billing: Mapped[str] = mapped_column(String(16))
    master_type: Mapped[str] = mapped_column(String(16))
    master_count: Mapped[int] = mapped_column(Integer)
    slave_type: Mapped[str] = mapped_column(String(16))
    slave_count: Mapped[int] = mapped_column(Integer)  # desired
    bucket_id: Mapped[int | None] = mapped_column(
        ForeignKey("buckets.id", ondelete="SET NULL"), default=None
    )
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="SET NULL"), default=None
    )
    subnet_id: Mapped[int | None] = mapped_column(
        ForeignKey("subnets.id", ondelete="SET NULL"), default=None
    )
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    # starting | running | scaling_out | scaling_in | deploying | failed | expired | releasing
    # | released
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    # the message in Chinese ("": it has none; 0013), see domain/cluster_events.py
    message_zh: Mapped[str] = mapped_column(Text, default="", server_default="")
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state_since: Mapped[datetime] = mapped_column(UtcDateTime())


class ClusterNode(Base):
    """One master or slave: its address in the subnet, its directory and its port range."""

    __tablename__ = "cluster_nodes"
    __table_args__ = (UniqueConstraint("cluster_id", "name"), UniqueConstraint("port_base"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))  # master-1, slave-2
    role: Mapped[str] = mapped_column(String(8))
    machine_type: Mapped[str] = mapped_column(String(16))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    address: Mapped[str] = mapped_column(String(45))
    # given by the provider when it places the node's processes
    port_base: Mapped[int | None] = mapped_column(Integer, default=None)
    directory: Mapped[str] = mapped_column(String(1024), default="")
    # pending | starting | running | failed | stopping
    state: Mapped[str] = mapped_column(String(16), default="pending")
    since: Mapped[datetime] = mapped_column(UtcDateTime())


class ClusterComponent(Base):
    """A process on a node (node agent, ZooKeeper member), as the reconciler last saw it."""

    __tablename__ = "cluster_components"
    __table_args__ = (UniqueConstraint("node_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("cluster_nodes.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # agent | zookeeper
    port: Mapped[int] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    state: Mapped[str] = mapped_column(String(16), default="starting")
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    message_zh: Mapped[str] = mapped_column(Text, default="", server_default="")  # 0013
    since: Mapped[datetime] = mapped_column(UtcDateTime())


class UsageRecord(Base):
    """One metered hour of a pay-as-you-go cluster."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("cluster_id", "hour_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    hour_start: Mapped[datetime] = mapped_column(UtcDateTime())
    master_type: Mapped[str] = mapped_column(String(16))
    master_count: Mapped[int] = mapped_column(Integer)
    slave_type: Mapped[str] = mapped_column(String(16))
    slave_count: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class Project(Base):
    """A stream project: a CU quota in the shared pool (from an order) or inside a cluster."""

    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # shared | exclusive
    mode: Mapped[str] = mapped_column(String(16), default="shared")
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), default=None)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), default=None)
    cu: Mapped[int] = mapped_column(Integer, default=0)
    # running | expired
    state: Mapped[str] = mapped_column(String(16), default="running")
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class Host(Base):
    """A machine joined through its node agent (domain/hosts.py); in a hosts zone a node is
    placed on one. Its agent's public key is its credential: deleting the row revokes it."""

    __tablename__ = "hosts"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("address"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id"))
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(45))
    agent_port: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[str] = mapped_column(String(64))
    # what placement counts on (the operator's declaration, else what the agent saw) ...
    cores: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    # ... and what the agent saw
    detected_cores: Mapped[int] = mapped_column(Integer)
    detected_memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(BigInteger, default=0)
    pinned_type: Mapped[str | None] = mapped_column(String(16), default=None)
    draining: Mapped[bool] = mapped_column(default=False)
    lost_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # the node it serves; a node's row going (release, scale-in) frees the host
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("cluster_nodes.id", ondelete="SET NULL"), default=None, unique=True
    )
    agent_version: Mapped[str] = mapped_column(String(32), default="")
    # what the agent last said runs on it (JSON), for the listing and for adoption
    report: Mapped[str] = mapped_column(Text, default="{}")
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HostJoinToken(Base):
    """A single-use, expiring token an agent joins a zone with; its secret is hashed."""

    __tablename__ = "host_join_tokens"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    # the SHA-256 of the probe object written under the storage root: reading it back proves
    # that the host mounts the platform's storage at the same path
    probe_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    host_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), default=None
    )
