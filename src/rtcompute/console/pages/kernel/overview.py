"""The overview: the account's sign-in URL and the way into each section of the console."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from rtcompute.console import guard, views
from rtcompute.domain import operations
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)


@router.get("/console")
def overview(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_CALLER_IDENTITY),
) -> Response:
    base = str(request.base_url).rstrip("/")
    login_url = f"{base}/login/{quote(principal.account_alias, safe='')}"
    return views.render(
        request, "kernel/overview.html", {"active": "overview", "login_url": login_url}
    )
