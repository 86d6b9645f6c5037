"""Exclusive clusters: create from a paid order, read with nodes and components, scale,
renew, release. Requests only write desired state; the cluster reconciler acts.

The messages of a cluster and of its components are the platform's own sentences, stored
in English and in Chinese (domain/cluster_events.py): they are answered in the
Accept-Language language, as errors are."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter

from rtcompute import errors
from rtcompute.api import answers, deps
from rtcompute.api.routes import orders as order_routes
from rtcompute.api.schemas import clusters as schemas
from rtcompute.api.schemas import orders as order_schemas
from rtcompute.api.schemas import projects as project_schemas
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import operations
from rtcompute.services.capacity import clusters, orders
from rtcompute.services.kernel import principals
from rtcompute.store.tables import capacity as capacity_tables

router = APIRouter(
    prefix=f"{deps.API_PREFIX}/clusters", tags=["clusters"], responses=deps.ERROR_RESPONSES
)
CLUSTERS = "acs:stream:{region}:{account_id}:cluster/*"
CLUSTER = "acs:stream:{region}:{account_id}:cluster/{cluster}"
CLUSTER_LIST = TypeAdapter(list[schemas.Cluster])
# what a cluster list is read from (answers.answer)
CLUSTER_TABLES = ("accounts", "clusters", "cluster_nodes", "cluster_components", "projects")


def cluster_fields(
    cluster: capacity_tables.Cluster, language: str = errors.ENGLISH
) -> dict[str, object]:
    return {
        "name": cluster.name,
        "region": cluster.region,
        "description": cluster.description,
        "order_id": cluster.order_id,
        "billing": cluster.billing,
        "master_type": cluster.master_type,
        "master_count": cluster.master_count,
        "slave_type": cluster.slave_type,
        "slave_count": cluster.slave_count,
        "state": cluster.state,
        "message": clusters.message_in(cluster, language),
        "expires_at": cluster.expires_at,
        "created_by": cluster.created_by,
        "created_at": cluster.created_at,
        "state_since": cluster.state_since,
        "arn": clusters.resource_of(cluster),
    }


def cluster_out(
    cluster: capacity_tables.Cluster, language: str = errors.ENGLISH
) -> schemas.Cluster:
    return schemas.Cluster.model_validate(cluster_fields(cluster, language))


def detail_out(
    detail: clusters.ClusterDetail, language: str = errors.ENGLISH
) -> schemas.ClusterDetail:
    by_node: dict[int, list[schemas.Component]] = {}
    for component in detail.components:
        by_node.setdefault(component.node_id, []).append(
            schemas.Component.model_validate(component).model_copy(
                update={"message": clusters.message_in(component, language)}
            )
        )
    nodes = [
        schemas.Node(
            name=node.name,
            role=node.role,
            machine_type=node.machine_type,
            address=node.address,
            port_base=node.port_base,
            state=node.state,
            since=node.since,
            components=by_node.get(node.id, []),
        )
        for node in detail.nodes
    ]
    return schemas.ClusterDetail.model_validate(
        cluster_fields(detail.cluster, language)
        | {
            "usable_cu": detail.usable_cu,
            "project_cu": detail.project_cu,
            "bucket": detail.bucket,
            "network": detail.network,
            "subnet": detail.subnet,
            "zone": detail.zone,
            "nodes": nodes,
        }
    )


@router.get("", response_model=list[schemas.Cluster])
async def list_clusters(
    request: Request,
    platform: deps.PlatformDep,
    listing: deps.Listing = deps.requires(operations.LIST_CLUSTERS),
) -> Response:
    """The account's clusters, their messages in the Accept-Language language."""
    language = deps.language(request)

    async def produce() -> list[schemas.Cluster]:
        found = await anyio.to_thread.run_sync(
            clusters.list_clusters, platform, listing.principal.account_id
        )
        visible = await listing.visible(found, clusters.resource_of)
        return [cluster_out(c, language) for c in visible]

    # an answer is kept per language too: its messages are in the reader's
    owner = None if listing.owner is None else f"{listing.owner}/{language}"
    return await answers.answer(request, platform, owner, produce, CLUSTER_LIST, CLUSTER_TABLES)


@router.post("", status_code=201, response_model=schemas.Cluster)
async def create_cluster(
    platform: deps.PlatformDep,
    body: schemas.ClusterCreate,
    principal: principals.Principal = deps.requires(operations.CREATE_CLUSTER),
) -> schemas.Cluster:
    """Create from a paid exclusive order: basic information + configuration; it starts."""
    placement = clusters.Placement(
        bucket=body.bucket, network=body.network, subnet=body.subnet, zone=body.zone
    )
    cluster = await anyio.to_thread.run_sync(
        lambda: clusters.create_cluster(
            platform,
            principal,
            order_id=body.order_id,
            name=body.name,
            description=body.description,
            placement=placement,
        )
    )
    return cluster_out(cluster)


@router.get("/{cluster}", response_model=schemas.ClusterDetail)
async def get_cluster(
    request: Request,
    platform: deps.PlatformDep,
    cluster: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CLUSTER),
) -> schemas.ClusterDetail:
    """The cluster with its nodes and their components (the guide's 组件 view); its and
    their messages in the Accept-Language language."""
    detail = await anyio.to_thread.run_sync(
        clusters.read_cluster, platform, principal.account_id, cluster
    )
    return detail_out(detail, deps.language(request))


@router.patch("/{cluster}", response_model=schemas.Cluster)
async def update_cluster(
    platform: deps.PlatformDep,
    cluster: str,
    body: schemas.ClusterUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_CLUSTER),
) -> schemas.Cluster:
    found = await anyio.to_thread.run_sync(
        lambda: clusters.update_cluster(
            platform, principal.account_id, cluster, description=body.description
        )
    )
    return cluster_out(found)


@router.delete("/{cluster}", response_model=schemas.Cluster)
async def release_cluster(
    platform: deps.PlatformDep,
    cluster: str,
    principal: principals.Principal = deps.requires(operations.RELEASE_CLUSTER),
) -> schemas.Cluster:
    """Release: its processes stop and its nodes are freed (refused while it has projects)."""
    found = await anyio.to_thread.run_sync(
        clusters.release_cluster, platform, principal.account_id, cluster
    )
    return cluster_out(found)


@router.post("/{cluster}/scale", status_code=201, response_model=order_schemas.Order)
async def scale_cluster(
    platform: deps.PlatformDep,
    cluster: str,
    body: schemas.ClusterScale,
    principal: principals.Principal = deps.requires(operations.SCALE_CLUSTER),
) -> order_schemas.Order:
    """A scale-out / scale-in order (new slave count); paying it starts the scale."""
    order = await anyio.to_thread.run_sync(
        lambda: orders.follow_up(
            platform, principal, kind="cluster", target=cluster, slave_count=body.slave_count
        )
    )
    return await order_routes.one_out(platform, order)


@router.post("/{cluster}/renew", status_code=201, response_model=order_schemas.Order)
async def renew_cluster(
    platform: deps.PlatformDep,
    cluster: str,
    body: project_schemas.Renew,
    principal: principals.Principal = deps.requires(operations.RENEW_CLUSTER),
) -> order_schemas.Order:
    """A renewal order; paying it extends the cluster (and restarts an expired one)."""
    order = await anyio.to_thread.run_sync(
        lambda: orders.follow_up(
            platform, principal, kind="cluster", target=cluster, months=body.months
        )
    )
    return await order_routes.one_out(platform, order)


@router.get("/{cluster}/usage", response_model=list[schemas.UsageRecord])
async def cluster_usage(
    platform: deps.PlatformDep,
    cluster: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CLUSTER),
) -> list[schemas.UsageRecord]:
    """Metered hours of a pay-as-you-go cluster, newest first (empty for subscriptions)."""
    records = await anyio.to_thread.run_sync(
        clusters.usage, platform, principal.account_id, cluster
    )
    return [
        schemas.UsageRecord(
            hour_start=r.hour_start,
            master_type=r.master_type,
            master_count=r.master_count,
            slave_type=r.slave_type,
            slave_count=r.slave_count,
            amount=catalog_domain.money(r.amount_cents),
            amount_cents=r.amount_cents,
        )
        for r in records
    ]
