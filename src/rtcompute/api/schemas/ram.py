"""RAM: users, groups, policies and versions, roles, attachments, simulator, service role."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool

from rtcompute.api.schemas import base

DOCUMENT = Field(min_length=1, max_length=65_536, description="the policy document, JSON text")


class User(base.ResponseModel):
    name: str
    display_name: str
    comment: str
    console_enabled: bool
    has_password: bool
    mfa_enabled: bool
    created_at: datetime
    last_login_at: datetime | None
    arn: str


class UserCreate(base.RequestModel):
    name: base.UserName
    display_name: str = Field(default="", max_length=128)
    comment: str = Field(default="", max_length=1024)
    password: str | None = Field(default=None, max_length=256)
    console_enabled: StrictBool = False


class UserUpdate(base.RequestModel):
    new_name: base.UserName | None = None
    display_name: str | None = Field(default=None, max_length=128)
    comment: str | None = Field(default=None, max_length=1024)
    console_enabled: StrictBool | None = None


class PasswordSet(base.RequestModel):
    password: str = Field(min_length=1, max_length=256)


class UserPage(base.ResponseModel):
    users: list[User]
    total: int


class Group(base.ResponseModel):
    name: str
    display_name: str
    comment: str
    created_at: datetime
    arn: str


class GroupCreate(base.RequestModel):
    name: base.GroupName
    display_name: str = Field(default="", max_length=128)
    comment: str = Field(default="", max_length=1024)


class GroupUpdate(base.RequestModel):
    new_name: base.GroupName | None = None
    display_name: str | None = Field(default=None, max_length=128)
    comment: str | None = Field(default=None, max_length=1024)


class GroupPage(base.ResponseModel):
    groups: list[Group]
    total: int


class Policy(base.ResponseModel):
    name: str
    policy_type: str
    description: str
    default_version: str
    document: str
    created_at: datetime | None
    updated_at: datetime | None


class PolicyCreate(base.RequestModel):
    name: base.PolicyName
    description: str = Field(default="", max_length=1024)
    document: str = DOCUMENT


class PolicyPage(base.ResponseModel):
    policies: list[Policy]
    total: int


class PolicyVersion(base.ResponseModel):
    version_id: str
    is_default: bool
    document: str
    created_at: datetime | None


class VersionCreate(base.RequestModel):
    document: str = DOCUMENT
    set_as_default: StrictBool = False


class DefaultVersion(base.RequestModel):
    version_id: str = Field(min_length=1, max_length=16)


class Validation(base.RequestModel):
    document: str = Field(max_length=65_536)
    kind: Literal["permission", "trust"] = "permission"


class Problem(base.ResponseModel):
    statement: int | None
    element: str
    message: str


class ValidationResult(base.ResponseModel):
    valid: bool
    problems: list[Problem]


class Attachment(base.ResponseModel):
    policy_type: str
    policy_name: str
    description: str
    attached_at: datetime


class AttachedEntity(base.ResponseModel):
    kind: str
    name: str
    attached_at: datetime


class Role(base.ResponseModel):
    name: str
    description: str
    trust_policy: str
    created_at: datetime
    updated_at: datetime
    arn: str


class RoleCreate(base.RequestModel):
    name: base.RoleName
    description: str = Field(default="", max_length=1024)
    trust_policy: str | None = Field(default=None, max_length=65_536)


class RoleUpdate(base.RequestModel):
    description: str | None = Field(default=None, max_length=1024)
    trust_policy: str | None = Field(default=None, max_length=65_536)


class RolePage(base.ResponseModel):
    roles: list[Role]
    total: int


class Simulation(base.RequestModel):
    """Either a principal (`user/NAME`, `group/NAME`, `role/NAME`) or inline documents."""

    principal: str | None = Field(default=None, max_length=200)
    policies: list[str] | None = Field(default=None, max_length=30)
    action: str = Field(min_length=1, max_length=256)
    resource: str = Field(min_length=1, max_length=1024)
    context: dict[str, str | list[str]] = Field(default_factory=dict)


class SimulationResult(base.ResponseModel):
    decision: Literal["Allow", "ImplicitDeny", "ExplicitDeny"]
    policy_name: str | None
    policy_type: str | None
    statement: int | None


class ServiceRole(base.ResponseModel):
    authorized: bool
    role: str
    description: str
    policy: str
    policy_document: str
    policy_attached: bool
    missing_for_cluster_creation: list[str]
    missing_for_clusters: list[str]
    authorization_page: str


class Overview(base.ResponseModel):
    account_id: str
    account_alias: str
    login_url: str
    users: int
    groups: int
    roles: int
    custom_policies: int
    limits: dict[str, int]
