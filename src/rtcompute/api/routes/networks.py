"""A tenant's networks and their subnets (the guide's VPC and VSwitch).

Actions and resources carry the cloud's names (`vpc:CreateVpc`, `.../vswitch/<name>`) so
that the guide's policies work unchanged.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response, status

from rtcompute import errors
from rtcompute.api import deps
from rtcompute.api.schemas import networks as schemas
from rtcompute.domain import operations
from rtcompute.services.capacity import cluster_readiness, networks
from rtcompute.services.kernel import principals

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/networks", tags=["networks"], responses=deps.ERROR_RESPONSES
)
NETWORKS = "acs:vpc:{region}:{account_id}:vpc/*"
NETWORK = "acs:vpc:{region}:{account_id}:vpc/{network}"
SUBNETS = "acs:vpc:{region}:{account_id}:vswitch/*"
SUBNET = "acs:vpc:{region}:{account_id}:vswitch/{subnet}"


def network_out(network: networks.NetworkView) -> schemas.Network:
    return schemas.Network(
        name=network.name,
        region=network.region,
        cidr=network.cidr,
        description=network.description,
        subnets=network.subnets,
        created_at=network.created_at,
        arn=network.arn,
    )


def subnet_out(subnet: networks.SubnetView) -> schemas.Subnet:
    return schemas.Subnet(
        network=subnet.network,
        name=subnet.name,
        cidr=subnet.cidr,
        zone=subnet.zone,
        usable_addresses=subnet.usable_addresses,
        free_addresses=subnet.free_addresses,
        created_at=subnet.created_at,
        arn=subnet.arn,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=schemas.Network)
async def create_network(
    platform: deps.PlatformDep,
    body: schemas.NetworkCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_VPC),
) -> schemas.Network:
    """Create a network: a private IPv4 block from /8 to /24."""
    network = await anyio.to_thread.run_sync(
        lambda: networks.create_network(
            platform, principal, body.name, body.cidr, description=body.description
        )
    )
    return network_out(network)


@router.get("", response_model=list[schemas.Network])
async def list_networks(
    platform: deps.PlatformDep,
    listing: deps.Listing = deps.requires(operations.DESCRIBE_VPCS),
) -> list[schemas.Network]:
    found = await anyio.to_thread.run_sync(
        networks.list_networks, platform, listing.principal.account_id
    )
    shown = await listing.visible(found, lambda network: network.arn)
    return [network_out(network) for network in shown]


@router.get("/{network}", response_model=schemas.Network)
async def get_network(
    platform: deps.PlatformDep,
    network: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_VPC),
) -> schemas.Network:
    found = await anyio.to_thread.run_sync(
        networks.describe_network, platform, principal.account_id, network
    )
    return network_out(found)


@router.delete("/{network}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_network(
    platform: deps.PlatformDep,
    network: str,
    principal: principals.Principal = deps.requires(operations.DELETE_VPC),
) -> Response:
    """Delete a network that has no subnets left."""
    await anyio.to_thread.run_sync(networks.delete_network, platform, principal.account_id, network)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{network}/subnets", status_code=status.HTTP_201_CREATED, response_model=schemas.Subnet
)
async def create_subnet(
    platform: deps.PlatformDep,
    network: str,
    body: schemas.SubnetCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_V_SWITCH),
) -> schemas.Subnet:
    """Create a subnet in a zone: a block inside the network overlapping no other subnet."""
    subnet = await anyio.to_thread.run_sync(
        lambda: networks.create_subnet(
            platform, principal.account_id, network, body.name, body.cidr, body.zone
        )
    )
    return subnet_out(subnet)


@router.get("/{network}/subnets", response_model=list[schemas.Subnet])
async def list_subnets(
    platform: deps.PlatformDep,
    network: str,
    listing: deps.Listing = deps.requires(operations.DESCRIBE_V_SWITCHES),
) -> list[schemas.Subnet]:
    """The network's subnets with their usable and free addresses."""
    found = await anyio.to_thread.run_sync(
        networks.list_subnets, platform, listing.principal.account_id, network
    )
    shown = await listing.visible(found, lambda subnet: subnet.arn)
    return [subnet_out(subnet) for subnet in shown]


@router.get("/{network}/placement", response_model=schemas.PlacementOptions)
async def placement_options(
    request: Request,
    platform: deps.PlatformDep,
    network: str,
    order_id: Annotated[str, Query(max_length=20)] = "",
    listing: deps.Listing = deps.requires(operations.DESCRIBE_V_SWITCHES),
) -> schemas.PlacementOptions:
    """Which zones and subnets of the network can hold a paid exclusive order's cluster
    (the cluster wizard's step 3): the checks creation makes, asked before creating."""
    account_id = listing.principal.account_id
    found = await anyio.to_thread.run_sync(networks.list_subnets, platform, account_id, network)
    shown = await listing.visible(found, lambda subnet: subnet.arn)
    if not order_id:  # after the authorization: who may list nothing is refused first
        raise errors.Invalid(
            "order_id is required: the paid exclusive order whose cluster is to be placed",
            "须提供 order_id：要放置其集群的已支付独享模式订单",
            code="InvalidParameter.OrderId",
        )
    order = await anyio.to_thread.run_sync(
        cluster_readiness.usable_order, platform, account_id, order_id
    )
    zone_fits, subnet_fits = await anyio.to_thread.run_sync(
        cluster_readiness.placement_options, platform, order, shown
    )
    needs = cluster_readiness.needs_of(order)
    language = deps.language(request)
    return schemas.PlacementOptions(
        order_id=order.id,
        network=network,
        addresses_needed=needs.addresses,
        nodes_needed=needs.nodes,
        zones=[
            schemas.PlacementZone(
                name=fit.zone.name,
                remaining=fit.zone.remaining,
                fits=fit.refusal is None,
                code=fit.refusal.code if fit.refusal else None,
                reason=fit.refusal.text(language) if fit.refusal else None,
            )
            for fit in zone_fits
        ],
        subnets=[
            schemas.PlacementSubnet(
                name=fit.subnet.name,
                zone=fit.subnet.zone,
                cidr=fit.subnet.cidr,
                free_addresses=fit.subnet.free_addresses,
                fits=fit.refusal is None,
                code=fit.refusal.code if fit.refusal else None,
                reason=fit.refusal.text(language) if fit.refusal else None,
            )
            for fit in subnet_fits
        ],
    )


@router.delete("/{network}/subnets/{subnet}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_subnet(
    platform: deps.PlatformDep,
    network: str,
    subnet: str,
    principal: principals.Principal = deps.requires(operations.DELETE_V_SWITCH),
) -> Response:
    """Delete a subnet in which no cluster node holds an address."""
    await anyio.to_thread.run_sync(
        networks.delete_subnet, platform, principal.account_id, network, subnet
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
