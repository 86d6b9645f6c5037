"""The audit trail."""

from __future__ import annotations

from datetime import datetime

from rtcompute.api.schemas import base


class AuditEvent(base.ResponseModel):
    id: int
    occurred_at: datetime
    account_id: str | None
    identity_type: str
    principal: str
    source_ip: str
    action: str
    resource: str
    outcome: str
    error_code: str
    request_id: str


class AuditEventPage(base.ResponseModel):
    events: list[AuditEvent]
    next_page_token: str | None
