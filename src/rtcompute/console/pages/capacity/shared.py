"""What the capacity pages share: resources, form fields, notices, refusals shown in place.

The capacity pages (orders, purchase, projects, clusters, networks, buckets) follow the RAM
pages' rules: every route declares the same action and resource as its API twin, writes are
forms that post with the session's CSRF token, and a success redirects (post-redirect-get)
with a `done` key from a fixed list. A refusal the user can correct is shown on the form
that caused it: the error's own sentence in the page's language (it names the rule and what
would fit), and a link to where the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Path, Request, Response

from rtcompute import errors
from rtcompute.console import fields, guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.iam import shared as ram_shared
from rtcompute.services.capacity import orders
from rtcompute.services.kernel import principals

run = ram_shared.run


# path parameters and form fields: only what the store can hold
Name = Annotated[str, Path(max_length=128), fields.Printable]
OrderId = Annotated[str, Path(max_length=20), fields.Printable]
NameField = Annotated[str, Form(max_length=128), fields.Printable]
TextField = Annotated[str, Form(max_length=1024), fields.Printable]
OrderField = Annotated[str, Form(max_length=20), fields.Printable]
IntField = Annotated[int, Form(ge=0, le=1_000_000)]

NOTICES = views.Notices(
    {
        "ordered": N_("Order placed. Pay it to use it."),
        "paid": N_("Paid."),
        "cancelled": N_("Order cancelled."),
        "created": N_("Created."),
        "starting": N_("The cluster is created and starting; this page follows its progress."),
        "saved": N_("Saved."),
        "deleted": N_("Deleted."),
        "releasing": N_("The cluster is being released: its processes stop and its nodes go."),
        "uploaded": N_("Uploaded."),
    }
)
see_other = NOTICES.see_other
notice_of = NOTICES.of


def path_of(base: str, *parts: str) -> str:
    """A console path below `base`, each name quoted."""
    return "/".join([base, *(quote(part, safe="") for part in parts)])


@dataclass(frozen=True)
class Refusal:
    """A refusal to show on a form: status, message, code, and where to fix the cause."""

    status: int
    message: str
    code: str
    link: tuple[str, str] | None


def refusal(request: Request, error: errors.RtcError) -> Refusal:
    """A service refusal as the form shows it: the error's sentence in the page's language."""
    request.state.error_code = error.code
    link = views.error_link(error.code)
    return Refusal(views.status_of(error), views.error_message(request, error), error.code, link)


def render(
    request: Request, template: str, active: str, status: int = 200, **context: Any
) -> Response:
    values = {"active": active, "notice": notice_of(request), **context}
    return views.render(request, template, values, status=status)


request_context = guard.context_of  # the caller's context, as every console page reads it


# the refusals a capacity form shows on its page (anything else is the error page)
REFUSED = (errors.Invalid, errors.Conflict, errors.Forbidden, errors.QuotaExceeded, errors.NotFound)


async def follow_up(
    request: Request,
    principal: principals.Principal,
    *,
    kind: str,
    target: str,
    refused: Callable[[Refusal], Awaitable[Response]],
    **change: int,
) -> Response:
    """A renewal or scale order from a project's or cluster's page; then its order page."""
    platform = guard.platform_of(request)
    try:
        order = await run(
            lambda: orders.follow_up(platform, principal, kind=kind, target=target, **change)
        )
    except REFUSED as exc:
        return await refused(refusal(request, exc))
    return see_other(request, path_of("/console/orders", order.id), "ordered")
