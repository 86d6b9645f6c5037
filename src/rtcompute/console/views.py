"""Rendering: one Jinja environment per language, the navigation, errors in the user's words.

Domain errors carry an English message written for the API; the console shows it as is in
English and, for the codes a console user commonly meets, a translated sentence otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rtcompute import errors, http_status
from rtcompute.console import auth, error_links, i18n
from rtcompute.console.i18n import N_
from rtcompute.domain import identities, names, operations, policies
from rtcompute.services.iam import authz
from rtcompute.services.kernel import principals

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class NavItem:
    """An entry of the navigation; shown only to a caller whose policies allow `operation` on
    its whole collection (None: to everyone signed in)."""

    key: str
    href: str
    label: str
    children: tuple[NavItem, ...] = ()
    operation: operations.Operation | None = None


# guide, RAM console: 概览 (the section's own page), users, groups, policies, roles; and the
# service role of 共享模式角色授权
RAM_NAV = (
    NavItem("ram-users", "/console/ram/users", N_("Users")),
    NavItem("ram-groups", "/console/ram/groups", N_("Groups")),
    NavItem("ram-policies", "/console/ram/policies", N_("Policies")),
    NavItem("ram-roles", "/console/ram/roles", N_("Roles")),
    NavItem("ram-service-role", "/console/ram/service-role", N_("Service role")),
)
# guide, chapter 1: the management console (管理控制台) first, then its sections in the guide's
# order, what clusters need (networks, buckets), RAM, engine versions and the audit trail
NAV = (
    NavItem("overview", "/console", N_("Management console")),
    NavItem("orders", "/console/orders", N_("Orders"), operation=operations.LIST_EVERY_ORDER),
    NavItem(
        "shared-projects",
        "/console/shared-projects",
        N_("Shared projects"),
        operation=operations.LIST_PROJECTS,
    ),
    NavItem(
        "exclusive-clusters",
        "/console/exclusive-clusters",
        N_("Exclusive clusters"),
        operation=operations.LIST_CLUSTERS,
    ),
    NavItem(
        "kubernetes-clusters",
        "/console/kubernetes-clusters",
        N_("Kubernetes clusters"),
        operation=operations.LIST_KUBERNETES_CLUSTERS,
    ),
    NavItem(
        "networks",
        "/console/networks",
        N_("Networks and subnets"),
        operation=operations.DESCRIBE_VPCS,
    ),
    NavItem("buckets", "/console/buckets", N_("Buckets"), operation=operations.LIST_BUCKETS),
    NavItem("ram", "/console/ram", N_("RAM"), RAM_NAV, operations.GET_ACCOUNT_SUMMARY),
    # guide ch. 7 版本管理: the catalog; a cluster's versions are managed from its page
    NavItem(
        "engine-versions",
        "/console/engines",
        N_("Engine versions"),
        operation=operations.DESCRIBE_CATALOG,
    ),
    NavItem("audit", "/console/audit", N_("Audit"), operation=operations.LOOKUP_EVENTS),
)
# shown to the operator only
NAV_OPERATOR = (
    NavItem("accounts", "/console/accounts", N_("Accounts")),
    NavItem("payments", "/console/payments", N_("Payments")),
    NavItem("pool-versions", "/console/pool/versions", N_("Pool versions")),
    NavItem("zones", "/console/zones", N_("Zones")),
    NavItem("hosts", "/console/hosts", N_("Hosts")),
)
# the "Account" group: who is signed in (the identity card), keys and settings
NAV_ACCOUNT = (
    NavItem("identity", "/console/identity", N_("Account")),
    NavItem("access-keys", "/console/access-keys", N_("Access keys")),
    NavItem("settings", "/console/settings", N_("Settings")),
)


def _may(request: Request, principal: Any, operation: operations.Operation) -> bool:
    """May the caller perform `operation` on its whole collection: the page's own decision
    (from the decisions the page's guard just cached, else one read of the policies)."""
    platform = request.app.state.platform
    resource = authz.resource_of(platform, principal, operation, {})
    context = authz.context_of(
        principal,
        principals.RequestContext(
            source_ip=request.client.host if request.client else "",
            secure_transport=request.url.scheme == "https",
        ),
        platform.now(),
    )
    verdict = authz.cached_decision(platform, principal, operation.action, resource, context)
    if verdict is None:
        verdict = authz.decide(platform, principal, operation.action, resource, context)
    return verdict.decision is policies.Decision.ALLOW


def navigation(request: Request, items: tuple[NavItem, ...]) -> tuple[NavItem, ...]:
    """The entries of `items` this caller may use: an entry a RAM user's policies never
    allow is hidden, not disabled. Computed once per request and list."""
    principal = getattr(request.state, "principal", None)
    if principal is None or getattr(request.app.state, "platform", None) is None:
        return items
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return items  # the account itself may do everything of its own
    cache: dict[int, tuple[NavItem, ...]] = request.state.__dict__.setdefault("nav_cache", {})
    if id(items) not in cache:
        cache[id(items)] = tuple(
            item
            for item in items
            if item.operation is None or _may(request, principal, item.operation)
        )
    return cache[id(items)]


def may_buy(principal: Any) -> bool:
    """Only the account itself buys and creates projects and clusters (the guide: 主账号):
    a RAM user is not offered "Buy", "New project" or "New cluster"."""
    return principal is not None and principal.identity_type is identities.IdentityType.ACCOUNT


# What the console says for the errors that are not domain errors: those of HTTP itself and
# of request parsing (api/app.py answers them with these codes). A domain error brings its
# own sentence in each language (errors.py) and is never looked up here.
HTTP_MESSAGES = {
    "InvalidParameter": N_(
        "A value in the form or the address is not valid (too long, or with characters such "
        "as NUL that cannot be stored); correct it and retry."
    ),
    "Unauthenticated": N_("Sign in first."),
    "Forbidden": N_("You are not authorized to do this; ask the account owner to grant it."),
    "NotFound": N_("There is no such page."),
    "MethodNotAllowed": N_("This page cannot be used that way; go back and use its buttons."),
    "PayloadTooLarge": N_("The request is too large; send less data."),
    "BadRequest": N_("The request is not valid; reload the page and retry."),
    "NotAcceptable": N_("The request is not valid; reload the page and retry."),
    "UnsupportedMediaType": N_("The request is not valid; reload the page and retry."),
    "MalformedJSON": N_("The request body is not valid JSON; reload the page and retry."),
    "ServiceUnavailable": N_("The service is unavailable for a moment; retry shortly."),
    "InternalError": N_(
        "Something went wrong on our side; retry, and if it persists give the operator the "
        "request id shown below."
    ),
}


def status_of(error: errors.RtcError) -> int:
    return http_status.status_of(error)


def size(count: int) -> str:
    """A size in bytes for people: `512 B`, `43.0 KiB`, `1.2 MiB` (units read alike in every
    language)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # invariant: the loop returns at GiB


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["names"] = names  # the name rules, for the inputs' patterns (domain/names.py)
    env.filters["size"] = size
    catalog = i18n.translations(language)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        catalog.gettext, catalog.ngettext, newstyle=True
    )
    return env


def language_of(request: Request) -> tuple[str, bool]:
    """(language, whether `?lang=` chose it and the cookie must be set)."""
    asked = i18n.normalize(request.query_params.get("lang"))
    if asked:
        return asked, True
    cookie = request.cookies.get(i18n.LANG_COOKIE)
    return i18n.negotiate(cookie, request.headers.get("accept-language")), False


def translator(request: Request) -> Callable[[str], str]:
    language, _ = language_of(request)
    return lambda message: i18n.gettext(language, message)


def message_of(request: Request, code: str, message: str) -> str:
    """An HTTP-level error in the page's language: English keeps the server's own message
    (it names what was wrong); other languages get the console's sentence for the code."""
    language, _ = language_of(request)
    known = HTTP_MESSAGES.get(code)
    if known is None or (language == i18n.ENGLISH and message):
        return message
    return i18n.gettext(language, known)


def error_link(code: str) -> tuple[str, str] | None:
    """Where the user fixes the cause of an error: (path, label), or None."""
    return error_links.of(code)


def error_message(request: Request, error: errors.RtcError) -> str:
    """A domain error's own sentence in the page's language."""
    language, _ = language_of(request)
    return error.text(language)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _single_tenant(request: Request) -> bool:
    platform = getattr(request.app.state, "platform", None)
    return bool(platform is not None and platform.settings.jobs.single_tenant)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    language, from_query = language_of(request)
    principal = getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "languages": i18n.LANGUAGE_NAMES,
        "principal": principal,
        "csrf_token": getattr(principal, "csrf_token", ""),
        "nav": navigation(request, NAV),
        "nav_account": navigation(request, NAV_ACCOUNT),
        "nav_operator": NAV_OPERATOR if getattr(principal, "is_operator", False) else (),
        "may_buy": may_buy(principal),
        "path": request.url.path,
        # the operator turned the sandbox off: every page says so (docs/security.md)
        "single_tenant": _single_tenant(request),
        **(context or {}),
    }
    html = environment(language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    if from_query:
        response.set_cookie(
            i18n.LANG_COOKIE,
            language,
            max_age=auth.YEAR_SECONDS,
            samesite="lax",
            secure=auth.is_https(request),
            path="/",
        )
    return response


class Notices(dict[str, str]):
    """An area's fixed list of what a write did (`?done=<key>` on the page it redirects
    to): never text from the query string, only a key of the list."""

    def see_other(self, request: Request, location: str, done: str | None = None) -> Response:
        """After a write: a redirect to the page that shows its result."""
        if done is not None:
            assert done in self, done
            location = f"{location}{'&' if '?' in location else '?'}done={done}"
        if is_htmx(request):
            return Response(status_code=200, headers={"HX-Redirect": location})
        return RedirectResponse(location, status_code=303)

    def of(self, request: Request) -> str | None:
        """The notice the page was redirected with, in the user's language."""
        key = request.query_params.get("done")
        message = self.get(key) if key else None
        return translator(request)(message) if message else None
