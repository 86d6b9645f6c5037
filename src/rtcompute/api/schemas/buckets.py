"""Buckets and objects (the guide's OSS)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class Bucket(base.ResponseModel):
    name: str
    region: str
    storage_class: str
    acl: str
    created_by: str
    created_at: datetime
    arn: str


class BucketCreate(base.RequestModel):
    name: base.BucketName
    storage_class: str = Field(default="standard", max_length=32)
    acl: str = Field(default="private", max_length=32)


class BucketUpdate(base.RequestModel):
    storage_class: str | None = Field(default=None, max_length=32)
    acl: str | None = Field(default=None, max_length=32)


class StoredObject(base.ResponseModel):
    key: str
    size: int
    modified: datetime
