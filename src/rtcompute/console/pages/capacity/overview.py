"""The management console of the guide's chapter 管理控制台, for this installation's region.

One overview shows orders, shared projects, exclusive clusters and Kubernetes clusters
(empty until that release) with their states and the guide's actions: create from an
uninitialized (paid, unused) order, enter a project or cluster, renew, scale out, scale in.
Each list also has its own page under the navigation's existing addresses. A section is
shown only when the caller may list it, as the API would answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import clusters, orders, projects
from rtcompute.services.kernel import principals
from rtcompute.store.tables import capacity as capacity_tables

router = APIRouter(include_in_schema=False)
OVERVIEW = "/console/capacity"
SECTIONS = ("orders", "shared", "exclusive", "kubernetes")


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
        "money": catalog_domain.money,
        "region": platform.settings.region,
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


@router.get(OVERVIEW)
async def overview(
    request: Request,
    principal: principals.Principal = guard.requires(operations.LIST_EVERY_ORDER),
) -> Response:
    context = await sections_of(request, principal, SECTIONS)
    return shared.render(request, "capacity/capacity.html", "capacity", **context)


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
