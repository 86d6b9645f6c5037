"""Exclusive clusters, their nodes and components."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class ClusterCreate(base.RequestModel):
    order_id: str = Field(min_length=1, max_length=20)
    name: base.ClusterName
    description: str = Field(default="", max_length=1024)
    bucket: base.BucketName
    network: str = Field(min_length=1, max_length=64)
    subnet: str = Field(min_length=1, max_length=64)
    zone: str = Field(min_length=1, max_length=64)


class ClusterUpdate(base.RequestModel):
    description: str = Field(max_length=1024)


class ClusterScale(base.RequestModel):
    slave_count: int = Field(ge=0, le=100_000)


class Component(base.ResponseModel):
    kind: str
    port: int
    pid: int | None
    state: str
    restarts: int
    message: str
    since: datetime


class Node(base.ResponseModel):
    name: str
    role: str
    machine_type: str
    address: str
    port_base: int | None
    state: str
    since: datetime
    components: list[Component]


class Cluster(base.ResponseModel):
    name: str
    region: str
    description: str
    order_id: str
    billing: str
    master_type: str
    master_count: int
    slave_type: str
    slave_count: int
    state: str
    message: str
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    state_since: datetime
    arn: str


class ClusterDetail(Cluster):
    usable_cu: int
    project_cu: int
    bucket: str
    network: str
    subnet: str
    zone: str
    nodes: list[Node]


class UsageRecord(base.ResponseModel):
    hour_start: datetime
    master_type: str
    master_count: int
    slave_type: str
    slave_count: int
    amount: str
    amount_cents: int
