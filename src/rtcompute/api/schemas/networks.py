"""Networks and subnets (the guide's VPC and VSwitch)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class Network(base.ResponseModel):
    name: str
    region: str
    cidr: str
    description: str
    subnets: int
    created_at: datetime
    arn: str


class NetworkCreate(base.RequestModel):
    name: base.NetworkName
    cidr: str = Field(min_length=1, max_length=43)
    description: str = Field(default="", max_length=1024)


class Subnet(base.ResponseModel):
    network: str
    name: str
    cidr: str
    zone: str
    usable_addresses: int
    free_addresses: int
    created_at: datetime
    arn: str


class SubnetCreate(base.RequestModel):
    name: base.SubnetName
    cidr: str = Field(min_length=1, max_length=43)
    zone: str = Field(min_length=1, max_length=64)


class PlacementZone(base.ResponseModel):
    """A zone and whether it has room for the order's nodes (reason and code when not)."""

    name: str
    remaining: dict[str, int]
    fits: bool
    code: str | None
    reason: str | None


class PlacementSubnet(base.ResponseModel):
    """A subnet and whether it can hold the order: free addresses and its zone's room."""

    name: str
    zone: str
    cidr: str
    free_addresses: int
    fits: bool
    code: str | None
    reason: str | None


class PlacementOptions(base.ResponseModel):
    """Where an order's cluster can go in one network, by the rules creation applies."""

    order_id: str
    network: str
    addresses_needed: int
    nodes_needed: dict[str, int]
    zones: list[PlacementZone]
    subnets: list[PlacementSubnet]
