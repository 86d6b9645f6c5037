"""Client calls for capacity: projects, catalog and sizing, orders, clusters, zones,
networks, buckets and objects."""

from __future__ import annotations

from typing import Any, BinaryIO

import httpx

from rtcompute.client import base as client_base

ApiError = client_base.ApiError
_seg = client_base.segment


class CapacityCalls(client_base.Transport):
    # projects
    def list_projects(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/projects")
        return result

    def create_project(
        self,
        name: str,
        *,
        description: str = "",
        order_id: str | None = None,
        cluster: str | None = None,
        cu: int | None = None,
    ) -> dict[str, Any]:
        """A shared project from a paid order (`order_id`), or `cu` CU in a `cluster`."""
        body: dict[str, Any] = {"name": name, "description": description}
        extra = {"order_id": order_id, "cluster": cluster, "cu": cu}
        body |= {k: v for k, v in extra.items() if v is not None}
        result: dict[str, Any] = self.request("POST", "/projects", json=body)
        return result

    def get_project(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/projects/{_seg(name)}")
        return result

    def update_project(
        self, name: str, *, description: str | None = None, cu: int | None = None
    ) -> dict[str, Any]:
        """Change the note, or resize a project in a cluster (`cu`)."""
        change = {"description": description, "cu": cu}
        body = {k: v for k, v in change.items() if v is not None}
        result: dict[str, Any] = self.request("PATCH", f"/projects/{_seg(name)}", json=body)
        return result

    def delete_project(self, name: str) -> None:
        self.request("DELETE", f"/projects/{_seg(name)}")

    def renew_project(self, name: str, months: int) -> dict[str, Any]:
        """A renewal order for a shared project (pay it to extend the project)."""
        result: dict[str, Any] = self.request(
            "POST", f"/projects/{_seg(name)}/renew", json={"months": months}
        )
        return result

    def scale_project(self, name: str, cu: int) -> dict[str, Any]:
        """A scale-out / scale-in order for a shared project (pay it to change the CU)."""
        result: dict[str, Any] = self.request(
            "POST", f"/projects/{_seg(name)}/scale", json={"cu": cu}
        )
        return result

    # catalog and sizing
    def get_catalog(self, *, region: str | None = None) -> dict[str, Any]:
        params = {"region": region} if region else {}
        result: dict[str, Any] = self.request("GET", "/catalog", params=params)
        return result

    def update_region(
        self, name: str, *, shared_cu_month_cents: int, display_name: str = ""
    ) -> dict[str, Any]:
        body = {"display_name": display_name, "shared_cu_month_cents": shared_cu_month_cents}
        result: dict[str, Any] = self.request("PUT", f"/catalog/regions/{_seg(name)}", json=body)
        return result

    def update_machine_type(
        self, role: str, name: str, *, month_cents: int, hour_cents: int, cu: int | None = None
    ) -> dict[str, Any]:
        body = {"cu": cu, "month_cents": month_cents, "hour_cents": hour_cents}
        result: dict[str, Any] = self.request(
            "PUT", f"/catalog/machine-types/{_seg(role)}/{_seg(name)}", json=body
        )
        return result

    def size_cu(self, qps: int, complexity: str = "simple") -> dict[str, Any]:
        params = {"qps": qps, "complexity": complexity}
        result: dict[str, Any] = self.request("GET", "/sizing/cu", params=params)
        return result

    def size_quote(self, cu: int, *, ha: bool = False, region: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"cu": cu, "ha": "true" if ha else "false"}
        if region:
            params["region"] = region
        result: dict[str, Any] = self.request("GET", "/sizing/quote", params=params)
        return result

    # orders
    def create_order(self, mode: str, **purchase: Any) -> dict[str, Any]:
        """Place an order: `mode` shared (cu, months) or exclusive (master_type, master_count,
        slave_type, slave_count, months or billing="payg"); unset fields are left out."""
        body = {"mode": mode} | {k: v for k, v in purchase.items() if v is not None}
        result: dict[str, Any] = self.request("POST", "/orders", json=body)
        return result

    def list_orders(self, *, unconsumed: bool = False) -> list[dict[str, Any]]:
        params = {"unconsumed": "true"} if unconsumed else {}
        result: list[dict[str, Any]] = self.request("GET", "/orders", params=params)
        return result

    def order_counts(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/orders/counts")
        return result

    def pending_orders(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/orders/pending")
        return result

    def get_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/orders/{_seg(order_id)}")
        return result

    def pay_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/orders/{_seg(order_id)}/pay")
        return result

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/orders/{_seg(order_id)}/cancel")
        return result

    def approve_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/orders/{_seg(order_id)}/approve")
        return result

    # exclusive clusters
    def list_clusters(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/clusters")
        return result

    def get_cluster(self, name: str) -> dict[str, Any]:
        """The cluster with its nodes and their components."""
        result: dict[str, Any] = self.request("GET", f"/clusters/{_seg(name)}")
        return result

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
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "order_id": order_id,
            "description": description,
            "bucket": bucket,
            "network": network,
            "subnet": subnet,
            "zone": zone,
        }
        result: dict[str, Any] = self.request("POST", "/clusters", json=body)
        return result

    def update_cluster(self, name: str, *, description: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH", f"/clusters/{_seg(name)}", json={"description": description}
        )
        return result

    def release_cluster(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("DELETE", f"/clusters/{_seg(name)}")
        return result

    def scale_cluster(self, name: str, slave_count: int) -> dict[str, Any]:
        """A scale order for the new slave count (pay it to start the scale)."""
        result: dict[str, Any] = self.request(
            "POST", f"/clusters/{_seg(name)}/scale", json={"slave_count": slave_count}
        )
        return result

    def renew_cluster(self, name: str, months: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", f"/clusters/{_seg(name)}/renew", json={"months": months}
        )
        return result

    # zones (operator registers them; everyone lists them)
    def list_zones(self, *, region: str | None = None) -> list[dict[str, Any]]:
        params = {"region": region} if region else {}
        result: list[dict[str, Any]] = self.request("GET", "/zones", params=params)
        return result

    def create_zone(
        self, name: str, capacity: dict[str, int], *, region: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "capacity": capacity}
        if region:
            body["region"] = region
        result: dict[str, Any] = self.request("POST", "/zones", json=body)
        return result

    def update_zone(
        self, name: str, capacity: dict[str, int], *, region: str | None = None
    ) -> dict[str, Any]:
        params = {"region": region} if region else {}
        result: dict[str, Any] = self.request(
            "PUT", f"/zones/{_seg(name)}", json={"capacity": capacity}, params=params
        )
        return result

    def delete_zone(self, name: str, *, region: str | None = None) -> None:
        params = {"region": region} if region else {}
        self.request("DELETE", f"/zones/{_seg(name)}", params=params)

    # networks and subnets
    def list_networks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/networks")
        return result

    def get_network(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/networks/{_seg(name)}")
        return result

    def create_network(self, name: str, cidr: str, *, description: str = "") -> dict[str, Any]:
        body = {"name": name, "cidr": cidr, "description": description}
        result: dict[str, Any] = self.request("POST", "/networks", json=body)
        return result

    def delete_network(self, name: str) -> None:
        self.request("DELETE", f"/networks/{_seg(name)}")

    def list_subnets(self, network: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/networks/{_seg(network)}/subnets")
        return result

    def create_subnet(self, network: str, name: str, cidr: str, zone: str) -> dict[str, Any]:
        body = {"name": name, "cidr": cidr, "zone": zone}
        result: dict[str, Any] = self.request(
            "POST", f"/networks/{_seg(network)}/subnets", json=body
        )
        return result

    def delete_subnet(self, network: str, name: str) -> None:
        self.request("DELETE", f"/networks/{_seg(network)}/subnets/{_seg(name)}")

    # buckets and objects; an object key is one segment too (its slashes are encoded)
    def list_buckets(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/buckets")
        return result

    def get_bucket(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/buckets/{_seg(name)}")
        return result

    def create_bucket(
        self, name: str, *, storage_class: str = "standard", acl: str = "private"
    ) -> dict[str, Any]:
        body = {"name": name, "storage_class": storage_class, "acl": acl}
        result: dict[str, Any] = self.request("POST", "/buckets", json=body)
        return result

    def update_bucket(
        self, name: str, *, acl: str | None = None, storage_class: str | None = None
    ) -> dict[str, Any]:
        change = {"acl": acl, "storage_class": storage_class}
        body = {k: v for k, v in change.items() if v is not None}
        result: dict[str, Any] = self.request("PATCH", f"/buckets/{_seg(name)}", json=body)
        return result

    def delete_bucket(self, name: str) -> None:
        self.request("DELETE", f"/buckets/{_seg(name)}")

    def list_objects(self, bucket: str, *, prefix: str = "") -> list[dict[str, Any]]:
        params = {"prefix": prefix} if prefix else {}
        result: list[dict[str, Any]] = self.request(
            "GET", f"/buckets/{_seg(bucket)}/objects", params=params
        )
        return result

    def put_object(self, bucket: str, key: str, content: bytes) -> dict[str, Any]:
        """Upload `content` as the object `key` (an existing key is replaced)."""
        result: dict[str, Any] = self.request(
            "PUT",
            f"/buckets/{_seg(bucket)}/objects/{_seg(key)}",
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
        return result

    def download_object(self, bucket: str, key: str, sink: BinaryIO) -> int:
        """Write the object's content to `sink` as it arrives; the number of bytes."""
        path = f"/api/v1/buckets/{_seg(bucket)}/objects/{_seg(key)}"
        written = 0
        try:
            with self.http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise(response)
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.endpoint}: {exc}"
            raise ApiError(0, "ConnectionFailed", message, "", None) from None
        return written

    def delete_object(self, bucket: str, key: str) -> None:
        self.request("DELETE", f"/buckets/{_seg(bucket)}/objects/{_seg(key)}")

    def _raise(self, response: httpx.Response) -> None:
        """Raise the ApiError of an error answer (as `request` does)."""
        try:
            body = response.json()
        except ValueError:
            body = {"code": f"Http{response.status_code}", "message": response.text[:500]}
        raise ApiError(
            response.status_code,
            str(body.get("code", "Error")),
            str(body.get("message", "")),
            str(body.get("request_id", response.headers.get("x-request-id", ""))),
            body,
        )
