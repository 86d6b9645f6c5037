"""Shared schema bases: requests refuse unknown fields and text no database can store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from rtcompute.domain import text


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=4096)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        return text.check_storable(value) if isinstance(value, str) else value


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str
