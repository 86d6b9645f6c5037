"""Tables of the platform's kernel: accounts, identities (every principal), sessions, access
keys, verification codes, sign-in throttles, the audit trail and leases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcompute.store.tables.base import Base, UtcDateTime


class Account(Base):
    """A tenant. `id` is the public account id used in resource names."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    alias: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    is_operator: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # bumped by every RAM change (policy, version, attachment, membership, user, role): the
    # decision caches of every process compare it with what they loaded
    ram_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Identity(Base):
    """A principal that signs in: the account itself, a RAM user, or a role session."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    identity_type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    console_enabled: Mapped[bool] = mapped_column(default=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    mfa_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    # the TOTP time step of the last accepted code: a code is never accepted twice
    mfa_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    display_name: Mapped[str] = mapped_column(String(128), default="", server_default="")
    comment: Mapped[str] = mapped_column(String(1024), default="", server_default="")


class Session(Base):
    """A console or CLI session; only the token's SHA-256 is stored."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_present: Mapped[bool] = mapped_column(default=False)
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    idle_expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AccessKey(Base):
    """An API credential: public id plus a secret stored as its SHA-256."""

    __tablename__ = "access_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class VerificationCode(Base):
    """A pending sign-in verification: the code's hash, its expiry and the tries left."""

    __tablename__ = "verification_codes"
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("identities.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(default=0)


class SignInThrottle(Base):
    """Failed sign-ins of one source: on one identity (or claimed name), or on all of them
    (subject ""); see domain/throttling.py. Rows past `expires_at` are spent."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (Index("ix_sign_in_throttles_expires_at", "expires_at"),)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEvent(Base):
    """Who did what, when, from where, to which resource, with which outcome."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_account_time", "account_id", "id"),)
    # 64-bit on PostgreSQL (the trail only grows; page tokens are these ids); SQLite's
    # INTEGER PRIMARY KEY is 64-bit already and must stay INTEGER to be the rowid
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    account_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    identity_type: Mapped[str] = mapped_column(String(16), default="")
    principal: Mapped[str] = mapped_column(String(200), default="")
    source_ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str] = mapped_column(String(512), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class Lease(Base):
    """A named leader lease: one holder at a time until it expires."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # raised by one at each take-over by a new holder: the fencing token of its actions
    term: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
