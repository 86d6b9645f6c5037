"""The management console of the guide's chapter 管理控制台: the console's first page.

`/console` shows one region's orders (a list), shared projects, exclusive clusters and
Kubernetes clusters (empty until that release) with their states and the guide's actions:
create from an uninitialized (paid, unused) order, enter a project or cluster, renew, scale
out, scale in. Each list also has its own page under the navigation's addresses.

It needs nothing beyond being signed in, so that every principal lands somewhere that works:
a section is shown when the caller may list it whole, or holds the items it may see one by
one (a RAM user granted one project, `acs:stream:*:*:name`, sees that project and nothing
else), as the API's lists answer.

Regions: orders, projects and clusters each belong to a region (the regions the operator
added to the catalog, and this installation's own, `settings.region`). With more than one
the page has a switch (`?region=`) and shows the chosen region's orders, projects and
clusters; with one it names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import operations, policies
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import clusters, costs, machine_types, orders, projects
from rtcompute.services.kernel import principals
from rtcompute.store.tables import capacity as capacity_tables

router = APIRouter(include_in_schema=False)
OVERVIEW = "/console"
OLD_OVERVIEW = "/console/capacity"  # its address before it became the first page
SECTIONS = ("orders", "shared", "exclusive", "kubernetes")
RegionQuery = Annotated[str, Query(max_length=32)]
T = TypeVar("T")


def uninitialized(found: list[capacity_tables.Order], mode: str) -> list[capacity_tables.Order]:
    """Paid new orders not yet made into a project or cluster (the guide's 未初始化)."""
    return [
        o
        for o in found
        if o.mode == mode and o.purpose == order_rules.NEW and o.state == order_rules.PAID
    ]


async def sections_of(
    request: Request,
    principal: principals.Principal,
    wanted: tuple[str, ...],
    *,
    project_listing: guard.Listing | None = None,
    cluster_listing: guard.Listing | None = None,
) -> dict[str, Any]:
    """What each wanted section shows, each only when the caller may list it (the one
    section of a list page: also the items it may see one by one, given its listing)."""
    platform = guard.platform_of(request)
    account_id = principal.account_id
    may = await guard.may(
        request,
        principal,
        {
            "orders": operations.LIST_EVERY_ORDER,
            "projects": operations.LIST_PROJECTS,
            "clusters": operations.LIST_CLUSTERS,
        },
    )
    context: dict[str, Any] = {
        "sections": wanted,
        "may": may,
        "money": costs.currency(platform).amount,
        "hour_rates": {},
        "region": platform.settings.region,
        "regions": [],
        "role_missing": False,
        "counts": {order_rules.SHARED: 0, order_rules.EXCLUSIVE: 0},
        "orders": [],
        "projects": [],
        "clusters": [],
        "uninitialized_shared": [],
        "uninitialized_exclusive": [],
    }
    if may.orders:
        found = await shared.run(orders.list_orders, platform, account_id)
        context["orders"] = found
        context["counts"] = await shared.run(orders.unconsumed_counts, platform, account_id)
        context["uninitialized_shared"] = uninitialized(found, order_rules.SHARED)
        context["uninitialized_exclusive"] = uninitialized(found, order_rules.EXCLUSIVE)
    if (may.projects or project_listing is not None) and "shared" in wanted:
        try:
            found_projects = await shared.run(projects.list_projects, platform, account_id)
        except errors.Forbidden as exc:
            if exc.code != "ServiceRoleNotAuthorized":
                raise
            context["role_missing"] = True
        else:
            if project_listing is not None and not project_listing.whole:
                found_projects = await project_listing.visible(found_projects, projects.resource_of)
                context["may"] = guard.Allowed(
                    {"orders": may.orders, "projects": True, "clusters": may.clusters}
                )
            context["projects"] = [p for p in found_projects if p.mode == order_rules.SHARED]
    if (may.clusters or cluster_listing is not None) and "exclusive" in wanted:
        found_clusters = await shared.run(clusters.list_clusters, platform, account_id)
        if cluster_listing is not None and not cluster_listing.whole:
            found_clusters = await cluster_listing.visible(found_clusters, clusters.resource_of)
            context["may"] = guard.Allowed(
                {"orders": may.orders, "projects": may.projects, "clusters": True}
            )
        context["clusters"] = found_clusters
    return context


async def visible(
    request: Request,
    principal: principals.Principal,
    operation: operations.Operation,
    items: list[T],
    resource_of: Callable[[T], str],
) -> tuple[bool, list[T]]:
    """(may list the whole collection, the items shown): all of them, or those the caller's
    policies name one by one (none: the section is not shown)."""
    whole = (await guard.may(request, principal, {"whole": operation})).whole
    if whole:
        return True, items
    shown = []
    for item in items:
        verdict = await guard.decision(request, principal, operation.action, resource_of(item))
        if verdict.decision is policies.Decision.ALLOW:
            shown.append(item)
    return False, shown


# the installation's own region, when the operator gave it no display name
N_("Local (this installation)")


async def regions_of(request: Request) -> tuple[list[machine_types.RegionInfo], str]:
    """The regions (sorted by name) and the one chosen (`?region=`, else this installation's)."""
    platform = guard.platform_of(request)
    found = await shared.run(machine_types.list_regions, platform)
    asked = request.query_params.get("region", "")
    names = {r.name for r in found}
    return found, asked if asked in names else platform.settings.region


@router.get(OVERVIEW)
async def overview(
    request: Request,
    region: RegionQuery = "",
    principal: principals.Principal = guard.requires(operations.GET_CALLER_IDENTITY),
) -> Response:
    """The management console: one region's orders, projects and clusters."""
    del region  # read by regions_of; declared for its length limit
    platform = guard.platform_of(request)
    account_id = principal.account_id
    regions, chosen = await regions_of(request)

    def in_region(items: list[T]) -> list[T]:
        return [i for i in items if getattr(i, "region", None) == chosen]

    all_orders = in_region(await shared.run(orders.list_orders, platform, account_id))
    whole_orders, shown_orders = await visible(
        request, principal, operations.LIST_ORDERS, all_orders, orders.resource_of
    )
    role_missing = False
    try:
        all_projects = in_region(await shared.run(projects.list_projects, platform, account_id))
    except errors.Forbidden as exc:
        if exc.code != "ServiceRoleNotAuthorized":
            raise
        role_missing, all_projects = True, []
    whole_projects, shown_projects = await visible(
        request, principal, operations.LIST_PROJECTS, all_projects, projects.resource_of
    )
    all_clusters = in_region(await shared.run(clusters.list_clusters, platform, account_id))
    whole_clusters, shown_clusters = await visible(
        request, principal, operations.LIST_CLUSTERS, all_clusters, clusters.resource_of
    )
    kubernetes = await guard.may(
        request, principal, {"kubernetes": operations.LIST_KUBERNETES_CLUSTERS}
    )
    sections = tuple(
        section
        for section, shown in (
            ("orders", whole_orders or shown_orders),
            ("shared", whole_projects),
            ("granted", not whole_projects and shown_projects),
            ("exclusive", whole_clusters or shown_clusters),
            ("kubernetes", kubernetes.kubernetes),
        )
        if shown
    )
    paid_new = [o for o in shown_orders if whole_orders]
    context: dict[str, Any] = {
        "sections": sections,
        "may": guard.Allowed(
            {"orders": whole_orders, "projects": whole_projects, "clusters": whole_clusters}
        ),
        "money": costs.currency(platform).amount,
        "hour_rates": await shared.run(costs.hour_rates, platform, shown_orders),
        "region": chosen,
        "regions": regions,
        "role_missing": role_missing,
        "counts": {
            mode: len(uninitialized(paid_new, mode))
            for mode in (order_rules.SHARED, order_rules.EXCLUSIVE)
        },
        "orders": shown_orders,
        "projects": [p for p in shown_projects if p.mode == order_rules.SHARED],
        "granted_projects": shown_projects,
        "clusters": shown_clusters,
        "uninitialized_shared": uninitialized(paid_new, order_rules.SHARED),
        "uninitialized_exclusive": uninitialized(paid_new, order_rules.EXCLUSIVE),
    }
    return shared.render(request, "capacity/capacity.html", "overview", **context)


@router.get(OLD_OVERVIEW)
async def old_overview(
    request: Request,
    principal: principals.Principal = guard.requires(operations.GET_CALLER_IDENTITY),
) -> Response:
    """The management console's old address (bookmarks) goes to its new one."""
    del principal
    query = request.url.query
    return RedirectResponse(OVERVIEW + (f"?{query}" if query else ""), status_code=307)


@router.get("/console/shared-projects")
async def shared_projects(
    request: Request,
    listing: guard.Listing = guard.requires(operations.LIST_PROJECTS),
) -> Response:
    """The shared projects: all, or those the caller's policies name one by one."""
    context = await sections_of(request, listing.principal, ("shared",), project_listing=listing)
    return shared.render(request, "capacity/capacity.html", "shared-projects", **context)


@router.get("/console/exclusive-clusters")
async def exclusive_clusters(
    request: Request,
    listing: guard.Listing = guard.requires(operations.LIST_CLUSTERS),
) -> Response:
    """The exclusive clusters: all, or those the caller's policies name one by one."""
    context = await sections_of(request, listing.principal, ("exclusive",), cluster_listing=listing)
    return shared.render(request, "capacity/capacity.html", "exclusive-clusters", **context)


@router.get("/console/kubernetes-clusters")
async def kubernetes_clusters(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_KUBERNETES_CLUSTERS),
) -> Response:
    """Flink on Kubernetes arrives with a later release: the list exists, empty."""
    context = await sections_of(request, principal, ("kubernetes",))
    return shared.render(request, "capacity/capacity.html", "kubernetes-clusters", **context)
