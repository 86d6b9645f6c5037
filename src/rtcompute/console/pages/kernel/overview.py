"""The account page: who is signed in, the account's sign-in URL for RAM users, and the way
into the account's own settings.

It was the console's first page; the guide's management console (capacity/overview.py) is
that now, and this card is the navigation's "Account" entry. It needs nothing beyond being
signed in (sts:GetCallerIdentity is every principal's own).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from rtcompute.console import guard, views
from rtcompute.domain import operations
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/identity"


@router.get(PAGE)
def identity(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_CALLER_IDENTITY),
) -> Response:
    base = str(request.base_url).rstrip("/")
    login_url = f"{base}/login/{quote(principal.account_alias, safe='')}"
    return views.render(
        request, "kernel/overview.html", {"active": "identity", "login_url": login_url}
    )
