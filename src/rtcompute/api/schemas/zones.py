"""Zones and their host capacity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from rtcompute.api.schemas import base

# machine type name -> node count
Capacity = dict[str, int]
# as sent: the service checks names against the catalog and counts against their bounds,
# with a message naming the known types (pydantic would turn "3" or true into a count)
RawCapacity = dict[str, Any]


class Zone(base.ResponseModel):
    name: str
    region: str
    capacity: Capacity
    used: Capacity
    remaining: Capacity
    created_at: datetime
    # local: this machine; hosts: joined hosts (its capacity: hosts in service that fit)
    provider: str


class ZoneCreate(base.RequestModel):
    name: base.ZoneName
    region: str | None = Field(default=None, max_length=32)
    capacity: RawCapacity = Field(default_factory=dict, max_length=64)
    provider: str = Field(default="local", max_length=16)


class ZoneUpdate(base.RequestModel):
    capacity: RawCapacity = Field(max_length=64)
