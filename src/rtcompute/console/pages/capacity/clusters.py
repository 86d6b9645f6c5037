"""An exclusive cluster's page: state, CU, components (the guide's 组件), projects, and the
guide's actions: create a project in it, resize, scale out / in, renew, release.

While the cluster moves (starting, scaling, releasing) the live part of the page polls
itself every two seconds with htmx and stops once the state settles, so the user watches
the reconciler bring nodes up without reloading. Scale and renew make orders; paying the
order (on its page) is what starts the change, as the guide's purchase flow does.

The messages of the cluster and of its components are stored in English and in Chinese by
the reconciler (domain/cluster_events.py); the page shows them in its own language.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from rtcompute import errors
from rtcompute.console import guard, i18n, views
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import clusters, costs, hosts, projects, zones
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/clusters/{cluster}"
MOVING = frozenset(
    {
        cluster_rules.STARTING,
        cluster_rules.SCALING_OUT,
        cluster_rules.SCALING_IN,
        cluster_rules.RELEASING,
        cluster_rules.DEPLOYING,
    }
)
REFUSED = shared.REFUSED


def components_by_node(detail: clusters.ClusterDetail) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for component in detail.components:
        found.setdefault(component.node_id, []).append(component)
    return found


async def host_names(
    request: Request, principal: principals.Principal, detail: clusters.ClusterDetail
) -> tuple[bool, dict[str, str]]:
    """Whether the cluster's zone is backed by joined hosts (each node's address is then its
    host's), and, for the operator alone (the machines are the operator's), the name of the
    host each node runs on, by node name."""
    platform = guard.platform_of(request)
    every = await shared.run(lambda: zones.list_zones(platform))
    zone = next((z for z in every if z.name == detail.zone), None)
    if zone is None or zone.provider != host_rules.HOSTS:
        return False, {}
    may = await guard.may(request, principal, {"hosts": operations.LIST_HOSTS})
    if not may.hosts:
        return True, {}
    joined = await shared.run(lambda: hosts.list_hosts(platform, zone=detail.zone))
    addresses = {node.address: node.name for node in detail.nodes}
    return True, {
        addresses[host.address]: host.name
        for host in joined
        if host.cluster == detail.cluster.name
        and host.address in addresses
        and host.node == addresses[host.address]
    }


async def live_context(
    request: Request, principal: principals.Principal, name: str
) -> dict[str, Any]:
    platform = guard.platform_of(request)
    detail = await shared.run(clusters.read_cluster, platform, principal.account_id, name)
    language = "zh" if views.language_of(request)[0] == i18n.CHINESE else "en"
    on_hosts, names_of_hosts = await host_names(request, principal, detail)
    return {
        "on_hosts": on_hosts,
        "host_names": names_of_hosts,
        # a cluster's or a component's message in the page's language
        "message_in": lambda row: clusters.message_in(row, language),
        "detail": detail,
        "cluster": detail.cluster,
        "components": components_by_node(detail),
        "moving": detail.cluster.state in MOVING,
    }


async def cluster_page_response(
    request: Request,
    principal: principals.Principal,
    name: str,
    status: int = 200,
    refused: shared.Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    platform = guard.platform_of(request)
    context = await live_context(request, principal, name)
    cluster = context["cluster"]
    held: list[Any] = []
    role_missing = False
    try:
        every = await shared.run(projects.list_projects, platform, principal.account_id)
        held = [p for p in every if p.cluster_id == cluster.id]
    except errors.Forbidden as exc:
        if exc.code != "ServiceRoleNotAuthorized":
            raise
        role_missing = True
    cost = await shared.run(costs.cluster_cost, platform, cluster)
    return shared.render(
        request,
        "capacity/cluster.html",
        "exclusive-clusters",
        status,
        cost=cost,
        money=costs.currency(platform).amount,
        projects=held,
        role_missing=role_missing,
        refused=refused,
        values=values or {},
        max_months=order_rules.MAX_MONTHS,
        **context,
    )


@router.get(PAGE)
async def cluster_page(
    request: Request,
    cluster: shared.Name,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CLUSTER),
) -> Response:
    return await cluster_page_response(request, principal, cluster)


@router.get(PAGE + "/live")
async def live(
    request: Request,
    cluster: shared.Name,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CLUSTER),
) -> Response:
    """The state, CU and components part of the page (htmx polling while it moves)."""
    context = await live_context(request, principal, cluster)
    return shared.render(request, "capacity/cluster_live.html", "exclusive-clusters", **context)


@router.post(PAGE + "/projects")
async def create_project(
    request: Request,
    cluster: shared.Name,
    name: shared.NameField,
    cu: shared.IntField = 0,
    description: shared.TextField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_PROJECT),
) -> Response:
    """A project with `cu` CU inside this (running) cluster."""
    platform = guard.platform_of(request)
    try:
        project = await shared.run(
            lambda: projects.create_project(
                platform,
                principal,
                name.strip(),
                description=description.strip(),
                cluster=cluster,
                cu=cu,
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        values = {"name": name, "cu": str(cu), "description": description}
        return await cluster_page_response(
            request, principal, cluster, refused.status, refused, values
        )
    return shared.see_other(request, shared.path_of("/console/projects", project.name), "created")


async def _follow_up(
    request: Request, principal: principals.Principal, cluster: str, **change: int
) -> Response:
    async def refused(why: shared.Refusal) -> Response:
        return await cluster_page_response(request, principal, cluster, why.status, why)

    return await shared.follow_up(
        request, principal, kind="cluster", target=cluster, refused=refused, **change
    )


@router.post(PAGE + "/scale")
async def scale(
    request: Request,
    cluster: shared.Name,
    slave_count: shared.IntField = 0,
    principal: principals.Principal = guard.requires(operations.SCALE_CLUSTER),
) -> Response:
    """A scale-out / scale-in order: the new slave count, in units of the slave type."""
    return await _follow_up(request, principal, cluster, slave_count=slave_count)


@router.post(PAGE + "/renew")
async def renew(
    request: Request,
    cluster: shared.Name,
    months: shared.IntField = 0,
    principal: principals.Principal = guard.requires(operations.RENEW_CLUSTER),
) -> Response:
    return await _follow_up(request, principal, cluster, months=months)


@router.post(PAGE + "/release")
async def release(
    request: Request,
    cluster: shared.Name,
    principal: principals.Principal = guard.requires(operations.RELEASE_CLUSTER),
) -> Response:
    """Release: processes stop and nodes go (refused while projects remain)."""
    platform = guard.platform_of(request)
    try:
        await shared.run(clusters.release_cluster, platform, principal.account_id, cluster)
    except errors.Conflict as exc:
        refused = shared.refusal(request, exc)
        return await cluster_page_response(request, principal, cluster, refused.status, refused)
    return shared.see_other(request, shared.path_of("/console/clusters", cluster), "releasing")
