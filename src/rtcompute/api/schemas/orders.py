"""Orders, the catalog and sizing answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from rtcompute.api.schemas import base


class OrderCreate(base.RequestModel):
    mode: Literal["shared", "exclusive"]
    billing: Literal["subscription", "payg"] = "subscription"
    region: str = Field(default="", max_length=32)
    cu: int = Field(default=0, ge=0, le=1_000_000)
    months: int = Field(default=0, ge=0, le=1000)
    master_type: str = Field(default="", max_length=16)
    master_count: int = Field(default=0, ge=0, le=1000)
    slave_type: str = Field(default="", max_length=16)
    slave_count: int = Field(default=0, ge=0, le=100_000)


class Order(base.ResponseModel):
    id: str
    region: str
    mode: str
    billing: str
    purpose: str
    target: str
    cu: int
    master_type: str
    master_count: int
    slave_type: str
    slave_count: int
    months: int
    amount: str
    amount_cents: int
    state: str
    consumed_by: str
    created_by: str
    created_at: datetime
    paid_at: datetime | None
    consumed_at: datetime | None


class OrderCounts(base.ResponseModel):
    """Paid orders not made into a project / cluster yet (the console's red number)."""

    shared: int
    exclusive: int


class MachineType(base.ResponseModel):
    role: str
    name: str
    cores: int
    memory_gb: int
    cu: int | None
    month: str
    hour: str
    month_cents: int
    hour_cents: int


class Region(base.ResponseModel):
    name: str
    display_name: str
    shared_cu_month: str
    shared_cu_month_cents: int


class Catalog(base.ResponseModel):
    region: str
    regions: list[Region]
    machine_types: list[MachineType]


class RegionUpdate(base.RequestModel):
    display_name: str = Field(default="", max_length=64)
    shared_cu_month_cents: int = Field(ge=0, le=10**10)


class MachineTypeUpdate(base.RequestModel):
    cu: int | None = Field(default=None, ge=1, le=1_000_000)
    month_cents: int = Field(ge=0, le=10**10)
    hour_cents: int = Field(ge=0, le=10**10)


class CuEstimate(base.ResponseModel):
    qps: int
    complexity: str
    low: int
    high: int
    reasoning: str


class Quote(base.ResponseModel):
    cu: int
    ha: bool
    slave_type: str
    slave_count: int
    master_type: str
    master_count: int
    usable_cu: int
    month: str
    hour: str
    month_cents: int
    hour_cents: int
