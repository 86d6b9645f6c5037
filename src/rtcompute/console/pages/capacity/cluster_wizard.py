"""Cluster creation in the guide's four steps (独享模式开通流程 > 创建集群):
choose the order -> basic information (name, note) -> configuration (bucket, network, zone,
subnet) -> confirm. Then the cluster exists and starts.

The wizard keeps its answers in the form (hidden fields), never in the session, so back,
reload and two tabs are harmless; each "Next" checks its own step and the service checks
everything again when "Create" is pressed. Step 1 checks what the account lacks for any
cluster of the chosen order (services/capacity/cluster_readiness.py: the service role and its
exclusive-mode actions, a usable bucket, a network with a subnet in a zone with room), with
a link to where each is fixed; "Next" is disabled while one is missing, and the server
sends any later step back to step 1 too. Step 3 offers the zones and subnets that can hold
the order, by the rules creation applies; the others are shown disabled with the reason.
A refusal of the service lands on its step (the order and the service role on step 1, the
name on step 2, placement on step 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from rtcompute import errors
from rtcompute.console import error_links, guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import buckets as bucket_domain
from rtcompute.domain import names, operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import (
    buckets,
    cluster_readiness,
    clusters,
    networks,
    orders,
    zones,
)
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/exclusive-clusters/new"
CREATE = "/console/exclusive-clusters"
STEPS = (N_("Choose the order"), N_("Basic information"), N_("Configuration"), N_("Confirm"))
Step = Annotated[int, Form(ge=1, le=4)]
Go = Annotated[Literal["next", "back", "refresh"], Form()]
# which step a refusal of the service belongs to
STEP_OF_CODE = {
    "ServiceRoleNotAuthorized": 1,
    "ServiceRoleMissingAction": 1,
    "OrderNotFound": 1,
    "OrderNotUsable": 1,
    "InvalidParameter.Order": 1,
    "InvalidParameter.ClusterName": 2,
    "ClusterAlreadyExists": 2,
    "InvalidParameter": 2,
    "NoSuchBucket": 3,
    "InvalidParameter.BucketStorageClass": 3,
    "InvalidParameter.BucketAcl": 3,
    "NetworkNotFound": 3,
    "SubnetNotFound": 3,
    "ZoneNotFound": 3,
    "InvalidParameter.Subnet": 3,
    "SubnetAddressesExhausted": 3,
    "ZoneCapacityExceeded": 3,
}
REFUSED = shared.REFUSED


# a bucket's storage class and ACL as the bucket choice shows them (values, not names)
BUCKET_WORDS = {
    "standard": N_("standard storage class"),
    "infrequent": N_("infrequent access storage class"),
    "archive": N_("archive storage class"),
    "private": N_("private ACL"),
    "public-read": N_("public-read ACL"),
}
# where each prerequisite of step 1 is fixed (the service role's codes: console/error_links.py)
PREREQUISITE_LINKS = {
    cluster_readiness.NO_USABLE_BUCKET: (error_links.BUCKETS_PAGE, N_("Create a bucket")),
    cluster_readiness.NO_NETWORK: (error_links.NETWORKS_PAGE, N_("Create a network")),
    cluster_readiness.NO_SUBNET_WITH_ROOM: (error_links.NETWORKS_PAGE, N_("Create a subnet")),
    cluster_readiness.NO_ZONE_WITH_ROOM: (error_links.NETWORKS_PAGE, N_("See the zones")),
}


@dataclass(frozen=True)
class Missing:
    """A prerequisite the account lacks, as step 1 shows it: what, and where it is fixed."""

    code: str
    message: str
    link: tuple[str, str] | None


def missing_of(request: Request, found: list[errors.RtcError]) -> list[Missing]:
    return [
        Missing(
            error.code,
            views.error_message(request, error),
            views.error_link(error.code) or PREREQUISITE_LINKS.get(error.code),
        )
        for error in found
    ]


async def choices_of(
    request: Request,
    principal: principals.Principal,
    values: dict[str, str],
    subnet_listing: guard.Listing | None = None,
) -> dict[str, Any]:
    """The dropdowns of every step, for this account and region (the subnets: those the
    caller may see, given a `subnet_listing`), each zone and subnet with whether it can
    hold the chosen order, and what the account still lacks for a cluster."""
    platform = guard.platform_of(request)
    account_id = principal.account_id
    found = await shared.run(orders.list_orders, platform, account_id, unconsumed=True)
    exclusive = [o for o in found if o.mode == order_rules.EXCLUSIVE]
    order = next((o for o in exclusive if o.id == values.get("order_id")), None)
    network_list = await shared.run(networks.list_networks, platform, account_id)
    subnets: list[networks.SubnetView] = []
    if values.get("network") in {n.name for n in network_list}:
        subnets = await shared.run(networks.list_subnets, platform, account_id, values["network"])
    if subnet_listing is not None:  # a caller allowed none of them is refused, as in the API
        subnets = await subnet_listing.visible(subnets, lambda subnet: subnet.arn)
    zone_list = await shared.run(lambda: zones.list_zones(platform))
    # step 1 checks the order the select shows: the chosen one, else the first
    checked = order or (exclusive[0] if exclusive else None)
    needs = cluster_readiness.needs_of(checked) if checked is not None else None
    lacking = await shared.run(cluster_readiness.missing, platform, account_id, checked)
    return {
        "orders": exclusive,
        "order": order,
        "needs": needs,
        "missing": missing_of(request, lacking),
        "buckets": await shared.run(buckets.list_buckets, platform, account_id),
        "networks": network_list,
        "subnets": subnets,
        "zones": zone_list,
        "zone_fits": cluster_readiness.zone_fits(zone_list, needs),
        "subnet_fits": cluster_readiness.subnet_fits(subnets, zone_list, needs),
        "region": platform.settings.region,
        "standard": bucket_domain.STANDARD,
        "public_read": bucket_domain.PUBLIC_READ,
        "bucket_words": BUCKET_WORDS,
    }


def step_problem(
    request: Request, step: int, values: dict[str, str], chosen: dict[str, Any]
) -> str | None:
    """What stops the user leaving `step`, in their language; None when it is complete."""
    say = views.translator(request)
    order = chosen["order"]
    if order is None:
        return say(N_("Choose a paid exclusive-mode order that has no cluster yet."))
    if chosen["missing"]:  # step 1's prerequisites, whichever step was posted
        return say(N_("Complete what is missing below before you continue."))
    if step == 1:
        return None
    try:
        names.CLUSTER.check(values.get("name", ""))
    except errors.Invalid as refused:
        return views.error_message(request, refused)
    if step == 2:
        return None
    bucket = next((b for b in chosen["buckets"] if b.name == values.get("bucket")), None)
    subnet = next((s for s in chosen["subnet_fits"] if s.subnet.name == values.get("subnet")), None)
    zone = next((z for z in chosen["zone_fits"] if z.zone.name == values.get("zone")), None)
    if bucket is None or subnet is None or zone is None:
        return say(N_("Choose a bucket, a network, a zone and a subnet."))
    try:  # the service's own rule and words: a class and a public ACL are different fixes
        bucket_domain.check_for_cluster(bucket.name, bucket.storage_class, bucket.acl)
    except errors.Invalid as refused:
        return views.error_message(request, refused)
    if subnet.subnet.zone != zone.zone.name:
        return say(N_("Subnet %(subnet)s lies in zone %(other)s, not %(zone)s.")) % {
            "subnet": subnet.subnet.name,
            "other": subnet.subnet.zone,
            "zone": zone.zone.name,
        }
    # the rules creation applies (domain.networks), in their own words
    refusal = subnet.refusal or zone.refusal
    return views.error_message(request, refusal) if refusal is not None else None


async def render_step(
    request: Request,
    principal: principals.Principal,
    step: int,
    values: dict[str, str],
    status: int = 200,
    refused: shared.Refusal | None = None,
    problem: str | None = None,
    chosen: dict[str, Any] | None = None,
) -> Response:
    if chosen is None:
        chosen = await choices_of(request, principal, values)
    return shared.render(
        request,
        "capacity/cluster_new.html",
        "exclusive-clusters",
        status,
        step=step,
        steps=STEPS,
        values=values,
        refused=refused,
        problem=problem,
        **chosen,
    )


@router.get(PAGE)
async def first_step(
    request: Request,
    order: Annotated[str, Query(max_length=20)] = "",
    order_id: Annotated[str, Query(max_length=20)] = "",
    principal: principals.Principal = guard.requires(operations.LIST_EVERY_ORDER),
) -> Response:
    """Step 1; `order_id` is the order select's own name (htmx re-checks on its change)."""
    return await render_step(request, principal, 1, {"order_id": order or order_id})


@router.get(PAGE + "/placement")
async def placement_fragment(
    request: Request,
    network: Annotated[str, Query(max_length=64)] = "",
    zone: Annotated[str, Query(max_length=64)] = "",
    subnet: Annotated[str, Query(max_length=64)] = "",
    order_id: Annotated[str, Query(max_length=20)] = "",
    listing: guard.Listing = guard.requires(operations.DESCRIBE_V_SWITCHES),
) -> Response:
    """The zone and subnet choices of a network (htmx, when the network changes)."""
    values = {"network": network, "zone": zone, "subnet": subnet, "order_id": order_id}
    chosen = await choices_of(request, listing.principal, values, listing)
    return shared.render(
        request,
        "capacity/cluster_new_placement.html",
        "exclusive-clusters",
        values=values,
        **chosen,
    )


@router.post(PAGE)
async def next_step(
    request: Request,
    step: Step,
    go: Go = "next",
    order_id: shared.OrderField = "",
    name: shared.NameField = "",
    description: shared.TextField = "",
    bucket: shared.NameField = "",
    network: shared.NameField = "",
    zone: shared.NameField = "",
    subnet: shared.NameField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_CLUSTER, audited=False),
) -> Response:
    """Leave a step: back, refresh (a new network's subnets), or next once it is complete."""
    values = {
        "order_id": order_id,
        "name": name.strip(),
        "description": description.strip(),
        "bucket": bucket,
        "network": network,
        "zone": zone,
        "subnet": subnet,
    }
    if go == "back":
        return await render_step(request, principal, max(step - 1, 1), values)
    if go == "refresh" or step == 4:
        return await render_step(request, principal, step, values)
    chosen = await choices_of(request, principal, values)
    problem = step_problem(request, step, values, chosen)
    if problem is not None:  # a missing prerequisite belongs to step 1, whatever was posted
        stay = 1 if chosen["order"] is None or chosen["missing"] else step
        return await render_step(
            request, principal, stay, values, 400, problem=problem, chosen=chosen
        )
    return await render_step(request, principal, step + 1, values, chosen=chosen)


@router.post(CREATE)
async def create(
    request: Request,
    order_id: shared.OrderField = "",
    name: shared.NameField = "",
    description: shared.TextField = "",
    bucket: shared.NameField = "",
    network: shared.NameField = "",
    zone: shared.NameField = "",
    subnet: shared.NameField = "",
    principal: principals.Principal = guard.requires(operations.CREATE_CLUSTER),
) -> Response:
    """The confirm step's "Create": the cluster exists and starts."""
    platform = guard.platform_of(request)
    values = {
        "order_id": order_id,
        "name": name.strip(),
        "description": description.strip(),
        "bucket": bucket,
        "network": network,
        "zone": zone,
        "subnet": subnet,
    }
    placement = clusters.Placement(bucket=bucket, network=network, subnet=subnet, zone=zone)
    try:
        cluster = await shared.run(
            lambda: clusters.create_cluster(
                platform,
                principal,
                order_id=order_id,
                name=values["name"],
                description=values["description"],
                placement=placement,
            )
        )
    except REFUSED as exc:
        refused = shared.refusal(request, exc)
        step = STEP_OF_CODE.get(exc.code, 4)
        return await render_step(request, principal, step, values, refused.status, refused)
    return shared.see_other(request, shared.path_of("/console/clusters", cluster.name), "starting")
