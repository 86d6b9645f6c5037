"""Client calls for capacity: projects, catalog and sizing, orders, clusters, zones,
networks, buckets and objects."""

from __future__ import annotations

from typing import Any, BinaryIO

from rtcompute.client import base as client_base
from rtcompute.client import schemas

_seg = client_base.segment
_given = client_base.given


class CapacityCalls(client_base.Transport):
    # projects
    def list_projects(self) -> list[schemas.projects.Project]:
        return self.parsed_list(schemas.projects.Project, "GET", "/projects")

    def create_project(
        self,
        name: str,
        *,
        description: str = "",
        order_id: str | None = None,
        cluster: str | None = None,
        cu: int | None = None,
    ) -> schemas.projects.Project:
        """A shared project from a paid order (`order_id`), or `cu` CU in a `cluster`."""
        body: dict[str, Any] = {"name": name, "description": description}
        body |= _given(order_id=order_id, cluster=cluster, cu=cu)
        return self.parsed(schemas.projects.Project, "POST", "/projects", json=body)

    def get_project(self, name: str) -> schemas.projects.Project:
        return self.parsed(schemas.projects.Project, "GET", f"/projects/{_seg(name)}")

    def update_project(
        self, name: str, *, description: str | None = None, cu: int | None = None
    ) -> schemas.projects.Project:
        """Change the note, or resize a project in a cluster (`cu`)."""
        body = _given(description=description, cu=cu)
        return self.parsed(schemas.projects.Project, "PATCH", f"/projects/{_seg(name)}", json=body)

    def delete_project(self, name: str) -> None:
        self.request("DELETE", f"/projects/{_seg(name)}")

    def renew_project(self, name: str, months: int) -> schemas.orders.Order:
        """A renewal order for a shared project (pay it to extend the project)."""
        return self.parsed(
            schemas.orders.Order, "POST", f"/projects/{_seg(name)}/renew", json={"months": months}
        )

    def scale_project(self, name: str, cu: int) -> schemas.orders.Order:
        """A scale-out / scale-in order for a shared project (pay it to change the CU)."""
        return self.parsed(
            schemas.orders.Order, "POST", f"/projects/{_seg(name)}/scale", json={"cu": cu}
        )

    # catalog and sizing
    def get_catalog(self, *, region: str | None = None) -> schemas.orders.Catalog:
        params = {"region": region} if region else {}
        return self.parsed(schemas.orders.Catalog, "GET", "/catalog", params=params)

    def update_region(
        self, name: str, *, shared_cu_month_cents: int, display_name: str = ""
    ) -> schemas.orders.Region:
        body = {"display_name": display_name, "shared_cu_month_cents": shared_cu_month_cents}
        return self.parsed(
            schemas.orders.Region, "PUT", f"/catalog/regions/{_seg(name)}", json=body
        )

    def update_machine_type(
        self, role: str, name: str, *, month_cents: int, hour_cents: int, cu: int | None = None
    ) -> schemas.orders.MachineType:
        body = {"cu": cu, "month_cents": month_cents, "hour_cents": hour_cents}
        return self.parsed(
            schemas.orders.MachineType,
            "PUT",
            f"/catalog/machine-types/{_seg(role)}/{_seg(name)}",
            json=body,
        )

    def size_cu(self, qps: int, complexity: str = "simple") -> schemas.orders.CuEstimate:
        params = {"qps": qps, "complexity": complexity}
        return self.parsed(schemas.orders.CuEstimate, "GET", "/sizing/cu", params=params)

    def size_quote(
        self, cu: int, *, ha: bool = False, region: str | None = None
    ) -> schemas.orders.Quote:
        params: dict[str, Any] = {"cu": cu, "ha": "true" if ha else "false"}
        if region:
            params["region"] = region
        return self.parsed(schemas.orders.Quote, "GET", "/sizing/quote", params=params)

    # orders
    def create_order(
        self, mode: str, *, agree_to_terms: bool = False, **purchase: Any
    ) -> schemas.orders.Order:
        """Place an order: `mode` shared (cu, months) or exclusive (master_type, master_count,
        slave_type, slave_count, months or billing="payg"); unset fields are left out. The
        service refuses it unless `agree_to_terms` (the service agreement: `agreement()`)."""
        body = {"mode": mode, "agree_to_terms": agree_to_terms} | _given(**purchase)
        return self.parsed(schemas.orders.Order, "POST", "/orders", json=body)

    def agreement(self) -> schemas.orders.Agreement:
        """The service agreement an order accepts."""
        return self.parsed(schemas.orders.Agreement, "GET", "/catalog/agreement")

    def list_orders(self, *, unconsumed: bool = False) -> list[schemas.orders.Order]:
        params = {"unconsumed": "true"} if unconsumed else {}
        return self.parsed_list(schemas.orders.Order, "GET", "/orders", params=params)

    def order_counts(self) -> schemas.orders.OrderCounts:
        return self.parsed(schemas.orders.OrderCounts, "GET", "/orders/counts")

    def pending_orders(self) -> list[schemas.orders.Order]:
        return self.parsed_list(schemas.orders.Order, "GET", "/orders/pending")

    def get_order(self, order_id: str) -> schemas.orders.Order:
        return self.parsed(schemas.orders.Order, "GET", f"/orders/{_seg(order_id)}")

    def pay_order(self, order_id: str) -> schemas.orders.Order:
        return self.parsed(schemas.orders.Order, "POST", f"/orders/{_seg(order_id)}/pay")

    def cancel_order(self, order_id: str) -> schemas.orders.Order:
        return self.parsed(schemas.orders.Order, "POST", f"/orders/{_seg(order_id)}/cancel")

    def approve_order(self, order_id: str) -> schemas.orders.Order:
        return self.parsed(schemas.orders.Order, "POST", f"/orders/{_seg(order_id)}/approve")

    # exclusive clusters
    def list_clusters(self) -> list[schemas.clusters.Cluster]:
        return self.parsed_list(schemas.clusters.Cluster, "GET", "/clusters")

    def get_cluster(self, name: str) -> schemas.clusters.ClusterDetail:
        """The cluster with its nodes and their components."""
        return self.parsed(schemas.clusters.ClusterDetail, "GET", f"/clusters/{_seg(name)}")

    def create_cluster(
        self,
        name: str,
        *,
        order_id: str,
        bucket: str,
        network: str,
        subnet: str,
        zone: str,
        description: str = "",
    ) -> schemas.clusters.Cluster:
        body = {
            "name": name,
            "order_id": order_id,
            "description": description,
            "bucket": bucket,
            "network": network,
            "subnet": subnet,
            "zone": zone,
        }
        return self.parsed(schemas.clusters.Cluster, "POST", "/clusters", json=body)

    def update_cluster(self, name: str, *, description: str) -> schemas.clusters.Cluster:
        return self.parsed(
            schemas.clusters.Cluster,
            "PATCH",
            f"/clusters/{_seg(name)}",
            json={"description": description},
        )

    def release_cluster(self, name: str) -> schemas.clusters.Cluster:
        return self.parsed(schemas.clusters.Cluster, "DELETE", f"/clusters/{_seg(name)}")

    def scale_cluster(self, name: str, slave_count: int) -> schemas.orders.Order:
        """A scale order for the new slave count (pay it to start the scale)."""
        return self.parsed(
            schemas.orders.Order,
            "POST",
            f"/clusters/{_seg(name)}/scale",
            json={"slave_count": slave_count},
        )

    def renew_cluster(self, name: str, months: int) -> schemas.orders.Order:
        return self.parsed(
            schemas.orders.Order, "POST", f"/clusters/{_seg(name)}/renew", json={"months": months}
        )

    # zones (operator registers them; everyone lists them)
    def list_zones(self, *, region: str | None = None) -> list[schemas.zones.Zone]:
        params = {"region": region} if region else {}
        return self.parsed_list(schemas.zones.Zone, "GET", "/zones", params=params)

    def create_zone(
        self,
        name: str,
        capacity: dict[str, int],
        *,
        region: str | None = None,
        provider: str = "local",
    ) -> schemas.zones.Zone:
        body: dict[str, Any] = {"name": name, "capacity": capacity, "provider": provider}
        if region:
            body["region"] = region
        return self.parsed(schemas.zones.Zone, "POST", "/zones", json=body)

    def update_zone(
        self, name: str, capacity: dict[str, int], *, region: str | None = None
    ) -> schemas.zones.Zone:
        params = {"region": region} if region else {}
        return self.parsed(
            schemas.zones.Zone,
            "PUT",
            f"/zones/{_seg(name)}",
            json={"capacity": capacity},
            params=params,
        )

    def delete_zone(self, name: str, *, region: str | None = None) -> None:
        params = {"region": region} if region else {}
        self.request("DELETE", f"/zones/{_seg(name)}", params=params)

    # hosts (the operator's machines, joined through their node agents)
    def list_hosts(self, *, zone: str | None = None) -> list[schemas.hosts.Host]:
        params = {"zone": zone} if zone else {}
        return self.parsed_list(schemas.hosts.Host, "GET", "/hosts", params=params)

    def get_host(self, name: str) -> schemas.hosts.Host:
        return self.parsed(schemas.hosts.Host, "GET", f"/hosts/{_seg(name)}")

    def drain_host(self, name: str, draining: bool = True) -> schemas.hosts.Host:
        body = {"draining": draining}
        return self.parsed(schemas.hosts.Host, "PATCH", f"/hosts/{_seg(name)}", json=body)

    def remove_host(self, name: str) -> None:
        self.request("DELETE", f"/hosts/{_seg(name)}")

    def create_join_token(
        self, zone: str, *, ttl_seconds: int | None = None
    ) -> schemas.hosts.JoinTokenCreated:
        body: dict[str, Any] = {"zone": zone}
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        return self.parsed(schemas.hosts.JoinTokenCreated, "POST", "/hosts/join-tokens", json=body)

    # networks and subnets
    def list_networks(self) -> list[schemas.networks.Network]:
        return self.parsed_list(schemas.networks.Network, "GET", "/networks")

    def get_network(self, name: str) -> schemas.networks.Network:
        return self.parsed(schemas.networks.Network, "GET", f"/networks/{_seg(name)}")

    def create_network(
        self, name: str, cidr: str, *, description: str = ""
    ) -> schemas.networks.Network:
        body = {"name": name, "cidr": cidr, "description": description}
        return self.parsed(schemas.networks.Network, "POST", "/networks", json=body)

    def delete_network(self, name: str) -> None:
        self.request("DELETE", f"/networks/{_seg(name)}")

    def list_subnets(self, network: str) -> list[schemas.networks.Subnet]:
        return self.parsed_list(
            schemas.networks.Subnet, "GET", f"/networks/{_seg(network)}/subnets"
        )

    def create_subnet(
        self, network: str, name: str, cidr: str, zone: str
    ) -> schemas.networks.Subnet:
        body = {"name": name, "cidr": cidr, "zone": zone}
        return self.parsed(
            schemas.networks.Subnet, "POST", f"/networks/{_seg(network)}/subnets", json=body
        )

    def delete_subnet(self, network: str, name: str) -> None:
        self.request("DELETE", f"/networks/{_seg(network)}/subnets/{_seg(name)}")

    def placement_options(self, network: str, order_id: str) -> schemas.networks.PlacementOptions:
        """Which zones and subnets of `network` can hold the cluster of the paid exclusive
        order `order_id`, each with why not (the checks creation makes)."""
        return self.parsed(
            schemas.networks.PlacementOptions,
            "GET",
            f"/networks/{_seg(network)}/placement",
            params={"order_id": order_id},
        )

    # buckets and objects; an object key is one segment too (its slashes are encoded)
    def list_buckets(self) -> list[schemas.buckets.Bucket]:
        return self.parsed_list(schemas.buckets.Bucket, "GET", "/buckets")

    def get_bucket(self, name: str) -> schemas.buckets.Bucket:
        return self.parsed(schemas.buckets.Bucket, "GET", f"/buckets/{_seg(name)}")

    def create_bucket(
        self, name: str, *, storage_class: str = "standard", acl: str = "private"
    ) -> schemas.buckets.Bucket:
        body = {"name": name, "storage_class": storage_class, "acl": acl}
        return self.parsed(schemas.buckets.Bucket, "POST", "/buckets", json=body)

    def update_bucket(
        self, name: str, *, acl: str | None = None, storage_class: str | None = None
    ) -> schemas.buckets.Bucket:
        body = _given(acl=acl, storage_class=storage_class)
        return self.parsed(schemas.buckets.Bucket, "PATCH", f"/buckets/{_seg(name)}", json=body)

    def delete_bucket(self, name: str) -> None:
        self.request("DELETE", f"/buckets/{_seg(name)}")

    def list_objects(self, bucket: str, *, prefix: str = "") -> list[schemas.buckets.StoredObject]:
        params = {"prefix": prefix} if prefix else {}
        return self.parsed_list(
            schemas.buckets.StoredObject, "GET", f"/buckets/{_seg(bucket)}/objects", params=params
        )

    def put_object(self, bucket: str, key: str, content: bytes) -> schemas.buckets.StoredObject:
        """Upload `content` as the object `key` (an existing key is replaced)."""
        return self.parsed(
            schemas.buckets.StoredObject,
            "PUT",
            f"/buckets/{_seg(bucket)}/objects/{_seg(key)}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )

    def download_object(self, bucket: str, key: str, sink: BinaryIO) -> int:
        """Write the object's content to `sink` as it arrives; the number of bytes."""
        return self.download(f"/buckets/{_seg(bucket)}/objects/{_seg(key)}", sink)

    def delete_object(self, bucket: str, key: str) -> None:
        self.request("DELETE", f"/buckets/{_seg(bucket)}/objects/{_seg(key)}")
