"""Sign-in, the caller's own identity, password and MFA."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from rtcompute.api.schemas import base


class LoginRequest(base.RequestModel):
    account: str = Field(max_length=64, description="the account alias of the sign-in URL")
    user: str | None = Field(default=None, max_length=128, description="a RAM user name")
    password: str = Field(max_length=256)
    code: str | None = Field(
        default=None, max_length=16, description="verification or MFA code, when asked for"
    )


class Whoami(base.ResponseModel):
    account_id: str
    account_alias: str
    identity_type: str
    name: str
    principal: str
    is_operator: bool
    auth_method: str
    mfa_present: bool
    login_url: str


class LoginResponse(base.ResponseModel):
    token: str
    expires_at: str
    principal: Whoami


class PasswordChange(base.RequestModel):
    old_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class MfaDevice(base.ResponseModel):
    secret: str
    otpauth_uri: str


class MfaUpdate(base.RequestModel):
    enabled: StrictBool
    code: str = Field(min_length=6, max_length=8)


class Status(base.ResponseModel):
    status: Literal["ok"] = "ok"
