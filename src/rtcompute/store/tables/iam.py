"""Tables of RAM: groups and their members, custom policies and their versions, roles, and
the attachments of policies to users, groups and roles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcompute.store.tables.base import Base, UtcDateTime


class RamGroup(Base):
    """A group of RAM users; policies attached to it apply to every member."""

    __tablename__ = "ram_groups"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    comment: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GroupMember(Base):
    __tablename__ = "ram_group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("ram_groups.id", ondelete="CASCADE"), primary_key=True
    )
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RamPolicy(Base):
    """A custom policy; its documents live in versions, one of them the default."""

    __tablename__ = "ram_policies"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(1024), default="")
    default_version: Mapped[str] = mapped_column(String(8))
    # versions are numbered v1, v2, ... and a number is never reused
    next_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RamPolicyVersion(Base):
    __tablename__ = "ram_policy_versions"
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("ram_policies.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RamRole(Base):
    """A role: who may assume it (the trust policy) and, through attachments, what it may do."""

    __tablename__ = "ram_roles"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(1024), default="")
    trust_policy: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PolicyAttachment(Base):
    """A policy (system by name, custom by name in the account) attached to a user, group or
    role (by its row id)."""

    __tablename__ = "ram_policy_attachments"
    __table_args__ = (
        UniqueConstraint("principal_kind", "principal_id", "policy_type", "policy_name"),
        Index("ix_ram_policy_attachments_policy", "account_id", "policy_type", "policy_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    principal_kind: Mapped[str] = mapped_column(String(8))
    principal_id: Mapped[int] = mapped_column(Integer)
    policy_type: Mapped[str] = mapped_column(String(8))
    policy_name: Mapped[str] = mapped_column(String(128))
    attached_at: Mapped[datetime] = mapped_column(UtcDateTime())
