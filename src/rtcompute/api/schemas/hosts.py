"""Hosts, their join tokens, and what node agents send (docs/hosts.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, StrictBool

from rtcompute.api.schemas import base
from rtcompute.domain import hosts as host_rules


class Host(base.ResponseModel):
    name: str
    zone: str
    # ready | in_use | draining | lost
    state: str
    address: str
    agent_port: int
    cores: int
    memory_mb: int
    detected_cores: int
    detected_memory_mb: int
    disk_mb: int
    pinned_type: str | None
    cluster: str | None
    node: str | None
    agent_version: str
    joined_at: datetime
    last_heartbeat_at: datetime
    lost_since: datetime | None
    report: dict[str, Any]


class HostUpdate(base.RequestModel):
    draining: StrictBool


class JoinTokenCreate(base.RequestModel):
    zone: str = Field(max_length=64)
    ttl_seconds: int = Field(default=host_rules.DEFAULT_TOKEN_SECONDS)


class JoinTokenCreated(base.ResponseModel):
    token: str  # shown once
    token_id: str
    zone: str
    expires_at: datetime
    probe: str


class JoinProbe(base.ResponseModel):
    path: str


class AgentJoin(base.RequestModel):
    token: str = Field(max_length=200)
    name: str = Field(max_length=200)
    address: str = Field(max_length=64)
    agent_port: int
    public_key: str = Field(max_length=100)
    detected_cores: int = Field(ge=1, le=100_000)
    detected_memory_mb: int = Field(ge=1, le=1 << 40)
    disk_mb: int = Field(ge=0, le=1 << 50)
    cores: int | None = Field(default=None, ge=1, le=100_000)
    memory_mb: int | None = Field(default=None, ge=1, le=1 << 40)
    pinned_type: str | None = Field(default=None, max_length=16)
    probe: str = Field(default="", max_length=200)
    agent_version: str = Field(default="", max_length=32)


class AgentJoined(base.ResponseModel):
    host_id: int
    name: str
    zone: str
    platform_public_key: str
    heartbeat_seconds: float


class Heartbeat(base.RequestModel):
    report: dict[str, Any] = Field(default_factory=dict)


class HeartbeatAnswer(base.ResponseModel):
    state: str
    draining: bool
    cluster_id: int | None
    node: str | None
    # the Flink processes (conf folders) that should run on the host; the agent stops others
    flink: list[str]
    # {"versions": [...], "source": {"wheelhouse": ..., "index_url": ...}}: the agent
    # installs what its host lacks (runtime/hostengines.py)
    engines: dict[str, Any]
