"""Cluster creation in the guide's four steps (独享模式开通流程 > 创建集群):
choose the order -> basic information (name, note) -> configuration (bucket, network, zone,
subnet) -> confirm. Then the cluster exists and starts.

The wizard keeps its answers in the form (hidden fields), never in the session, so back,
reload and two tabs are harmless; each "Next" checks its own step and the service checks
everything again when "Create" is pressed. A refusal is shown on the step it belongs to
(the order on step 1, the name on step 2, placement on step 3, the service role on step 4
with a link to authorize it). Empty choices say what to do: no zone (the operator registers
zones), no network or subnet (create one), no suitable bucket (create a standard private one).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, Response

from rtcompute import errors
from rtcompute.console import guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import buckets as bucket_domain
from rtcompute.domain import names, operations
from rtcompute.domain import orders as order_rules
from rtcompute.services.capacity import buckets, clusters, networks, orders, zones
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/exclusive-clusters/new"
CREATE = "/console/exclusive-clusters"
STEPS = (N_("Choose the order"), N_("Basic information"), N_("Configuration"), N_("Confirm"))
Step = Annotated[int, Form(ge=1, le=4)]
Go = Annotated[Literal["next", "back", "refresh"], Form()]
# which step a refusal of the service belongs to
STEP_OF_CODE = {
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


async def choices_of(
    request: Request,
    principal: principals.Principal,
    values: dict[str, str],
    subnet_listing: guard.Listing | None = None,
) -> dict[str, Any]:
    """The dropdowns of every step, for this account and region (the subnets: those the
    caller may see, given a `subnet_listing`)."""
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
    return {
        "orders": exclusive,
        "order": order,
        "buckets": await shared.run(buckets.list_buckets, platform, account_id),
        "networks": network_list,
        "subnets": subnets,
        "zones": await shared.run(lambda: zones.list_zones(platform)),
        "region": platform.settings.region,
        "standard": bucket_domain.STANDARD,
        "public_read": bucket_domain.PUBLIC_READ,
    }


def needed_nodes(order: Any) -> dict[str, int]:
    needed: dict[str, int] = {}
    pairs = ((order.master_type, order.master_count), (order.slave_type, order.slave_count))
    for name, count in pairs:
        needed[name] = needed.get(name, 0) + count
    return needed


def step_problem(
    request: Request, step: int, values: dict[str, str], chosen: dict[str, Any]
) -> str | None:
    """What stops the user leaving `step`, in their language; None when it is complete."""
    say = views.translator(request)
    order = chosen["order"]
    if order is None:
        return say(N_("Choose a paid exclusive-mode order that has no cluster yet."))
    if step == 1:
        return None
    try:
        names.CLUSTER.check(values.get("name", ""))
    except errors.Invalid as refused:
        return views.error_message(request, refused)
    if step == 2:
        return None
    bucket = next((b for b in chosen["buckets"] if b.name == values.get("bucket")), None)
    subnet = next((s for s in chosen["subnets"] if s.name == values.get("subnet")), None)
    zone = next((z for z in chosen["zones"] if z.name == values.get("zone")), None)
    if bucket is None or subnet is None or zone is None:
        return say(N_("Choose a bucket, a network, a zone and a subnet."))
    try:  # the service's own rule and words: a class and a public ACL are different fixes
        bucket_domain.check_for_cluster(bucket.name, bucket.storage_class, bucket.acl)
    except errors.Invalid as refused:
        return views.error_message(request, refused)
    if subnet.zone != zone.name:
        return say(N_("Subnet %(subnet)s lies in zone %(other)s, not %(zone)s.")) % {
            "subnet": subnet.name,
            "other": subnet.zone,
            "zone": zone.name,
        }
    nodes = order.master_count + order.slave_count
    if subnet.free_addresses < nodes:
        return say(
            N_(
                "Subnet %(subnet)s has %(free)s free addresses but the cluster needs "
                "%(nodes)s, one per node."
            )
        ) % {"subnet": subnet.name, "free": subnet.free_addresses, "nodes": nodes}
    for machine_type, count in sorted(needed_nodes(order).items()):
        left = zone.remaining.get(machine_type, 0)
        if count > left:
            return say(
                N_(
                    "Zone %(zone)s can place %(left)s more %(type)s nodes but %(count)s are "
                    "needed: pick another zone or ask the operator for more capacity."
                )
            ) % {"zone": zone.name, "left": left, "type": machine_type, "count": count}
    return None


async def render_step(
    request: Request,
    principal: principals.Principal,
    step: int,
    values: dict[str, str],
    status: int = 200,
    refused: shared.Refusal | None = None,
    problem: str | None = None,
) -> Response:
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
    principal: principals.Principal = guard.requires(operations.LIST_EVERY_ORDER),
) -> Response:
    return await render_step(request, principal, 1, {"order_id": order})


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
    if problem is not None:
        return await render_step(request, principal, step, values, 400, problem=problem)
    return await render_step(request, principal, step + 1, values)


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
