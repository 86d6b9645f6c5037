"""Accounts (tenants) and sign-up."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from rtcompute.api.schemas import base


class AccountCreate(base.RequestModel):
    alias: base.AccountAlias
    password: str = Field(max_length=256)
    display_name: str = Field(default="", max_length=64)
    email: str = Field(default="", max_length=255)


class Account(base.ResponseModel):
    id: str
    alias: str
    display_name: str
    email: str
    is_operator: bool
    created_at: datetime
    login_url: str = ""
