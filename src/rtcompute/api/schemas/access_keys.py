"""Access keys; the secret appears only in the creation response."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from rtcompute.api.schemas import base


class AccessKey(base.ResponseModel):
    id: str
    status: str
    created_at: datetime
    last_used_at: datetime | None


class AccessKeyCreated(AccessKey):
    secret: str


class AccessKeyUpdate(base.RequestModel):
    status: Literal["Active", "Inactive"]
