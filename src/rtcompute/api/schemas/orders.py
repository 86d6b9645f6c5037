"""Orders, the catalog and sizing answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool

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
    # the buyer accepts the service agreement (guide: 勾选服务协议); without it the order is
    # refused with InvalidParameter.ServiceAgreement; consent is the JSON `true` itself, not a
    # value that would pass for it ("yes", 1)
    agree_to_terms: StrictBool = False


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
    # ISO 4217 code of every amount (settings.billing.currency)
    currency: str
    # pay-as-you-go: the hourly rate the cluster is metered at (amount is 0); else None
    hour: str | None = None
    hour_cents: int | None = None
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
    currency: str
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
    currency: str
    month: str
    hour: str
    month_cents: int
    hour_cents: int


class Agreement(base.ResponseModel):
    """The service agreement an order accepts with `agree_to_terms: true`."""

    text: str
