"""Typed HTTP client of the REST API, used by the CLI, SDK users and end-to-end tests.

Names given by people (users, groups, policies, roles, projects) are quoted as one path segment
each, so a name can never reach another route.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import quote

import httpx


class ApiError(Exception):
    """An error answer of the API: its stable code, message and request id."""

    def __init__(self, status: int, code: str, message: str, request_id: str, body: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body


def _seg(value: str) -> str:
    """One path segment: a name never changes which route is called. `..` would (URL
    normalization turns `.../versions/..` into the policy itself), so dots-only names are
    percent-encoded, and an empty name is refused."""
    if not value:
        raise ApiError(0, "InvalidParameter", "a name or id must not be empty", "", None)
    if set(value) == {"."}:
        return "%2E" * len(value)
    return quote(value, safe="")


class Client:
    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        language: str | None = None,
    ):
        headers = {"User-Agent": "rtc-cli"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if language:  # error messages that have a translation come in this language
            headers["Accept-Language"] = language
        self.endpoint = endpoint.rstrip("/")
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, "/api/v1" + path, **kwargs)
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.endpoint}: {exc}"
            raise ApiError(0, "ConnectionFailed", message, "", None) from None
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = {"code": f"Http{response.status_code}", "message": response.text[:500]}
        if response.status_code >= 400:
            raise ApiError(
                response.status_code,
                str(body.get("code", "Error")),
                str(body.get("message", "")),
                str(body.get("request_id", response.headers.get("x-request-id", ""))),
                body,
            )
        return body

    # sessions and identity
    def login(
        self, account: str, password: str, *, user: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"account": account, "password": password}
        if user:
            body["user"] = user
        if code:
            body["code"] = code
        result: dict[str, Any] = self.request("POST", "/sessions", json=body)
        return result

    def logout(self) -> None:
        self.request("DELETE", "/sessions/current")

    def signup(self, alias: str, password: str, **fields: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", "/signup", json={"alias": alias, "password": password, **fields}
        )
        return result

    def whoami(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/me")
        return result

    def change_password(self, old: str, new: str) -> None:
        self.request("PUT", "/me/password", json={"old_password": old, "new_password": new})

    # access keys
    def list_access_keys(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/access-keys")
        return result

    def create_access_key(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/access-keys")
        return result

    def update_access_key(self, key_id: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH", f"/access-keys/{_seg(key_id)}", json={"status": status}
        )
        return result

    def delete_access_key(self, key_id: str) -> None:
        self.request("DELETE", f"/access-keys/{_seg(key_id)}")

    # audit and accounts
    def list_audit_events(self, **params: Any) -> dict[str, Any]:
        clean = {k: v for k, v in params.items() if v is not None and v is not False}
        result: dict[str, Any] = self.request("GET", "/audit-events", params=clean)
        return result

    def create_account(self, alias: str, password: str, **fields: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", "/accounts", json={"alias": alias, "password": password, **fields}
        )
        return result

    def list_accounts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/accounts")
        return result

    # RAM users
    def list_ram_users(self, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", "/ram/users", params={"limit": limit, "offset": offset}
        )
        return result

    def create_ram_user(
        self,
        name: str,
        *,
        display_name: str = "",
        comment: str = "",
        password: str | None = None,
        console_enabled: bool = False,
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "display_name": display_name,
            "comment": comment,
            "password": password,
            "console_enabled": console_enabled,
        }
        result: dict[str, Any] = self.request("POST", "/ram/users", json=body)
        return result

    def get_ram_user(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/ram/users/{_seg(name)}")
        return result

    def update_ram_user(
        self,
        name: str,
        *,
        new_name: str | None = None,
        display_name: str | None = None,
        comment: str | None = None,
        console_enabled: bool | None = None,
    ) -> dict[str, Any]:
        change = {
            "new_name": new_name,
            "display_name": display_name,
            "comment": comment,
            "console_enabled": console_enabled,
        }
        body = {k: v for k, v in change.items() if v is not None}
        result: dict[str, Any] = self.request("PATCH", f"/ram/users/{_seg(name)}", json=body)
        return result

    def delete_ram_user(self, name: str) -> None:
        self.request("DELETE", f"/ram/users/{_seg(name)}")

    def set_ram_user_password(self, name: str, password: str) -> None:
        self.request("PUT", f"/ram/users/{_seg(name)}/password", json={"password": password})

    def unbind_ram_user_mfa(self, name: str) -> None:
        self.request("DELETE", f"/ram/users/{_seg(name)}/mfa")

    def list_groups_for_ram_user(self, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/ram/users/{_seg(name)}/groups")
        return result

    def list_ram_user_access_keys(self, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/ram/users/{_seg(name)}/access-keys")
        return result

    def create_ram_user_access_key(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/ram/users/{_seg(name)}/access-keys")
        return result

    def update_ram_user_access_key(self, name: str, key_id: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH",
            f"/ram/users/{_seg(name)}/access-keys/{_seg(key_id)}",
            json={"status": status},
        )
        return result

    def delete_ram_user_access_key(self, name: str, key_id: str) -> None:
        self.request("DELETE", f"/ram/users/{_seg(name)}/access-keys/{_seg(key_id)}")

    # RAM groups
    def list_ram_groups(self, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", "/ram/groups", params={"limit": limit, "offset": offset}
        )
        return result

    def create_ram_group(
        self, name: str, *, display_name: str = "", comment: str = ""
    ) -> dict[str, Any]:
        body = {"name": name, "display_name": display_name, "comment": comment}
        result: dict[str, Any] = self.request("POST", "/ram/groups", json=body)
        return result

    def get_ram_group(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/ram/groups/{_seg(name)}")
        return result

    def update_ram_group(
        self,
        name: str,
        *,
        new_name: str | None = None,
        display_name: str | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        change = {"new_name": new_name, "display_name": display_name, "comment": comment}
        body = {k: v for k, v in change.items() if v is not None}
        result: dict[str, Any] = self.request("PATCH", f"/ram/groups/{_seg(name)}", json=body)
        return result

    def delete_ram_group(self, name: str) -> None:
        self.request("DELETE", f"/ram/groups/{_seg(name)}")

    def list_ram_group_members(self, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/ram/groups/{_seg(name)}/users")
        return result

    def add_ram_group_member(self, group: str, user: str) -> None:
        self.request("PUT", f"/ram/groups/{_seg(group)}/users/{_seg(user)}")

    def remove_ram_group_member(self, group: str, user: str) -> None:
        self.request("DELETE", f"/ram/groups/{_seg(group)}/users/{_seg(user)}")

    # RAM policies and their versions
    def list_ram_policies(
        self, policy_type: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if policy_type:
            params["policy_type"] = policy_type
        result: dict[str, Any] = self.request("GET", "/ram/policies", params=params)
        return result

    def create_ram_policy(
        self, name: str, document: str, *, description: str = ""
    ) -> dict[str, Any]:
        body = {"name": name, "document": document, "description": description}
        result: dict[str, Any] = self.request("POST", "/ram/policies", json=body)
        return result

    def validate_ram_policy(self, document: str, *, trust: bool = False) -> dict[str, Any]:
        body = {"document": document, "kind": "trust" if trust else "permission"}
        result: dict[str, Any] = self.request("POST", "/ram/policies/validate", json=body)
        return result

    def get_ram_policy(self, policy_type: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", f"/ram/policies/{_seg(policy_type)}/{_seg(name)}"
        )
        return result

    def delete_ram_policy(self, name: str) -> None:
        self.request("DELETE", f"/ram/policies/Custom/{_seg(name)}")

    def list_ram_policy_versions(self, policy_type: str, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request(
            "GET", f"/ram/policies/{_seg(policy_type)}/{_seg(name)}/versions"
        )
        return result

    def create_ram_policy_version(
        self, name: str, document: str, *, set_as_default: bool = False
    ) -> dict[str, Any]:
        body = {"document": document, "set_as_default": set_as_default}
        result: dict[str, Any] = self.request(
            "POST", f"/ram/policies/Custom/{_seg(name)}/versions", json=body
        )
        return result

    def set_ram_policy_default_version(self, name: str, version_id: str) -> None:
        self.request(
            "PUT",
            f"/ram/policies/Custom/{_seg(name)}/default-version",
            json={"version_id": version_id},
        )

    def delete_ram_policy_version(self, name: str, version_id: str) -> None:
        self.request("DELETE", f"/ram/policies/Custom/{_seg(name)}/versions/{_seg(version_id)}")

    def list_ram_policy_attachments(self, policy_type: str, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request(
            "GET", f"/ram/policies/{_seg(policy_type)}/{_seg(name)}/attachments"
        )
        return result

    # attachments: `holder` is "users", "groups" or "roles"
    def list_attached_ram_policies(self, holder: str, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request(
            "GET", f"/ram/{_seg(holder)}/{_seg(name)}/policies"
        )
        return result

    def attach_ram_policy(self, holder: str, name: str, policy_type: str, policy: str) -> None:
        self.request(
            "PUT", f"/ram/{_seg(holder)}/{_seg(name)}/policies/{_seg(policy_type)}/{_seg(policy)}"
        )

    def detach_ram_policy(self, holder: str, name: str, policy_type: str, policy: str) -> None:
        self.request(
            "DELETE",
            f"/ram/{_seg(holder)}/{_seg(name)}/policies/{_seg(policy_type)}/{_seg(policy)}",
        )

    # RAM roles
    def list_ram_roles(self, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", "/ram/roles", params={"limit": limit, "offset": offset}
        )
        return result

    def create_ram_role(
        self, name: str, *, description: str = "", trust_policy: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "description": description, "trust_policy": trust_policy}
        result: dict[str, Any] = self.request("POST", "/ram/roles", json=body)
        return result

    def get_ram_role(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/ram/roles/{_seg(name)}")
        return result

    def update_ram_role(
        self, name: str, *, description: str | None = None, trust_policy: str | None = None
    ) -> dict[str, Any]:
        change = {"description": description, "trust_policy": trust_policy}
        body = {k: v for k, v in change.items() if v is not None}
        result: dict[str, Any] = self.request("PATCH", f"/ram/roles/{_seg(name)}", json=body)
        return result

    def delete_ram_role(self, name: str) -> None:
        self.request("DELETE", f"/ram/roles/{_seg(name)}")

    # simulator, service role, overview
    def simulate_ram(
        self,
        action: str,
        resource: str,
        *,
        principal: str | None = None,
        policies: list[str] | None = None,
        context: dict[str, str | list[str]] | None = None,
    ) -> dict[str, Any]:
        """Give `principal` (`user/NAME`, `group/NAME`, `role/NAME`) or inline `policies`."""
        body: dict[str, Any] = {"action": action, "resource": resource, "context": context or {}}
        if principal is not None:
            body["principal"] = principal
        if policies is not None:
            body["policies"] = policies
        result: dict[str, Any] = self.request("POST", "/ram/simulate", json=body)
        return result

    def get_service_role(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/ram/service-role")
        return result

    def authorize_service_role(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/ram/service-role")
        return result

    def reinitialize_service_role(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("DELETE", "/ram/service-role")
        return result

    def ram_overview(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/ram/overview")
        return result

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
