"""Projects."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class Project(base.ResponseModel):
    name: str
    region: str
    description: str
    created_by: str
    created_at: datetime
    arn: str


class ProjectCreate(base.RequestModel):
    name: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=1024)


class ProjectUpdate(base.RequestModel):
    description: str = Field(max_length=1024)
