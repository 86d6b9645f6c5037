"""Engine versions: the catalog, versions on a cluster or the shared pool, SQL checks."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field, StrictBool

from rtcompute.api.schemas import base

# SQL scripts are longer than the default text limit of requests
MAX_SQL_CHARS = 256 * 1024


class EngineVersion(base.ResponseModel):
    name: str
    release: str
    tag: str
    released_on: date
    end_of_service: date
    retired: bool = Field(description="past its end of service: usable, no longer maintained")
    notes: str
    listed: bool
    default: bool


class EngineVersionUpdate(base.RequestModel):
    tag: str = Field(max_length=8)
    released_on: date
    end_of_service: date | None = Field(
        default=None, description="default: one year after released_on"
    )
    notes: str = Field(default="", max_length=1024)
    listed: StrictBool = True


class Version(base.ResponseModel):
    version: str
    release: str
    tag: str
    state: str = Field(description="installing | installed | failed")
    current: bool
    phase: str
    progress: int
    message: str
    requested_by: str
    created_at: datetime
    state_since: datetime
    end_of_service: date
    retired: bool


class VersionInstall(base.RequestModel):
    version: base.EngineVersionName
    confirm_beta: StrictBool = Field(
        default=False, description="a beta version installs only with this set"
    )


class SqlRequest(base.RequestModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_SQL_CHARS)
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)
    engine_version: str | None = Field(
        default=None, max_length=32, description="default: the current version of the target"
    )


class Problem(base.ResponseModel):
    line: int
    column: int
    message: str


class SqlCheck(base.ResponseModel):
    ok: bool
    engine_version: str
    flink_version: str
    problems: list[Problem]
    elapsed_ms: float


class SqlExplain(SqlCheck):
    plan: str
