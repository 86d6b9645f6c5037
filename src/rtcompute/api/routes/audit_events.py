"""The audit trail, newest first, with filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Query, Request, Response
from pydantic import TypeAdapter

from rtcompute import errors
from rtcompute.api import answers, deps
from rtcompute.api.schemas import audit_events as schemas
from rtcompute.domain import operations
from rtcompute.services.kernel import audit, principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/audit-events", tags=["audit"], responses=deps.ERROR_RESPONSES
)
PAGE = TypeAdapter(schemas.AuditEventPage)


def _utc(name: str, value: datetime | None) -> datetime | None:
    """An aware time in UTC; naive or out-of-range (year 1 or 9999 after the offset) times
    are refused here rather than failing in the database."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise errors.Invalid(
            f"{name} needs a time-zone offset, e.g. 2026-01-01T00:00:00Z",
            f"{name} 需要带时区偏移，例如 2026-01-01T00:00:00Z",
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise errors.Invalid(
            f"{name} is out of range once converted to UTC", f"{name} 换算为 UTC 后超出范围"
        ) from None


@router.get("", response_model=schemas.AuditEventPage)
async def list_audit_events(
    request: Request,
    platform: deps.PlatformDep,
    action: Annotated[str | None, Query(max_length=128)] = None,
    principal_name: Annotated[str | None, Query(alias="principal", max_length=200)] = None,
    outcome: Literal["success", "denied", "failed"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page_size: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 50,
    page_token: Annotated[str | None, Query(max_length=20)] = None,
    all_accounts: bool = False,
    principal: principals.Principal = deps.requires(operations.LOOKUP_EVENTS),
) -> Response:
    """Events of the caller's account (the operator may ask for every account)."""
    since = _utc("since", since)
    until = _utc("until", until)
    query = audit.Query(
        action=action,
        principal=principal_name,
        outcome=outcome,
        since=since,
        until=until,
        page_token=audit.page_token(page_token),
        page_size=page_size,
        all_accounts=all_accounts,
    )

    async def produce() -> schemas.AuditEventPage:
        events, next_token = await anyio.to_thread.run_sync(
            audit.list_events, platform, principal, query
        )
        return schemas.AuditEventPage(
            events=[schemas.AuditEvent.model_validate(e) for e in events],
            next_page_token=str(next_token) if next_token is not None else None,
        )

    # what an identity sees of the trail depends on who it is (the operator sees more)
    owner = f"identity:{principal.identity_id}"
    return await answers.answer(
        request, platform, owner, produce, PAGE, ("accounts", "audit_events")
    )
