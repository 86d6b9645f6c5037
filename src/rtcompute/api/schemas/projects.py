"""Projects: shared-mode (from an order) or in an exclusive cluster."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class Project(base.ResponseModel):
    name: str
    region: str
    description: str
    mode: str
    cu: int
    state: str
    order_id: str | None
    cluster: str | None
    expires_at: datetime | None
    created_by: str
    created_at: datetime
    arn: str


class ProjectCreate(base.RequestModel):
    name: base.ProjectName
    description: str = Field(default="", max_length=1024)
    order_id: str | None = Field(default=None, max_length=20)
    cluster: str | None = Field(default=None, max_length=64)
    cu: int | None = Field(default=None, ge=1, le=100_000)


class ProjectUpdate(base.RequestModel):
    description: str | None = Field(default=None, max_length=1024)
    cu: int | None = Field(default=None, ge=1, le=100_000)


class Renew(base.RequestModel):
    months: int = Field(ge=1, le=36)


class ProjectScale(base.RequestModel):
    cu: int = Field(ge=1, le=100_000)
