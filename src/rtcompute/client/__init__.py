"""Typed HTTP client of the REST API, used by the CLI, SDK users and end-to-end tests.

Names given by people (users, groups, policies, roles, projects) are quoted as one path segment
each, so a name can never reach another route.
"""

from __future__ import annotations

from typing import Any

from rtcompute.client import base as client_base
from rtcompute.client import capacity as client_capacity
from rtcompute.client import engines as client_engines
from rtcompute.client import jobs as client_jobs

ApiError = client_base.ApiError
Transport = client_base.Transport
_seg = client_base.segment


class Client(client_capacity.CapacityCalls, client_engines.EngineCalls, client_jobs.JobCalls):
    """Every call of the REST API; capacity calls live in `client/capacity.py`, engine
    versions and SQL checks in `client/engines.py`, jobs in `client/jobs.py`."""

    def __enter__(self) -> Client:
        return self

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
