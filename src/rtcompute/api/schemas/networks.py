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
