"""The account's audit trail: newest first, filtered, one page at a time.

Filters travel in the query string (a GET form), so a filtered view is a link one can share;
the next-page link keeps them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Query, Request, Response

from rtcompute.console import fields, guard, views
from rtcompute.console.i18n import N_
from rtcompute.domain import operations
from rtcompute.services.kernel import audit, principals

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
OUTCOME_LABELS = {"success": N_("Success"), "denied": N_("Denied"), "failed": N_("Failed")}


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/console/audit")
async def audit_page(
    request: Request,
    action: Annotated[str | None, Query(max_length=128), fields.Printable] = None,
    principal_name: Annotated[
        str | None, Query(alias="principal", max_length=200), fields.Printable
    ] = None,
    outcome: Annotated[str | None, Query(max_length=16), fields.Printable] = None,
    page_token: Annotated[str | None, Query(max_length=64)] = None,
    principal: principals.Principal = guard.requires(operations.LOOKUP_EVENTS),
) -> Response:
    token = audit.page_token(_blank_to_none(page_token))
    filters = {
        "action": _blank_to_none(action),
        "principal": _blank_to_none(principal_name),
        "outcome": _blank_to_none(outcome),
    }
    query = audit.Query(
        action=filters["action"],
        principal=filters["principal"],
        outcome=filters["outcome"],
        page_token=token,
        page_size=PAGE_SIZE,
    )
    platform = guard.platform_of(request)
    events, next_token = await anyio.to_thread.run_sync(
        audit.list_events, platform, principal, query
    )
    next_url = None
    if next_token is not None:
        kept = {key: value for key, value in filters.items() if value}
        next_url = f"{request.url.path}?{urlencode({**kept, 'page_token': next_token})}"
    context = {
        "active": "audit",
        "events": events,
        "filters": filters,
        "outcomes": audit.OUTCOMES,
        "outcome_labels": OUTCOME_LABELS,
        "next_url": next_url,
        "first_page": token is None,
    }
    return views.render(request, "kernel/audit.html", context)
