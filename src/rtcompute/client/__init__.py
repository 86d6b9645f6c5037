"""Typed HTTP client of the REST API, used by the CLI, SDK users and end-to-end tests.

Every call returns its route's own response model (`client/schemas.py`), so callers read
attributes (`client.get_job(p, j).revision`). Names given by people (users, groups, policies,
roles, projects) are quoted as one path segment each, so a name can never reach another route.
"""

from __future__ import annotations

from typing import Any

from rtcompute.client import base as client_base
from rtcompute.client import capacity as client_capacity
from rtcompute.client import engines as client_engines
from rtcompute.client import jobs as client_jobs
from rtcompute.client import schemas

ApiError = client_base.ApiError
Transport = client_base.Transport
_seg = client_base.segment
_given = client_base.given
_CUSTOM = "Custom"  # the policy type of an account's own policies


def _user_path(name: str) -> str:
    return f"/ram/users/{_seg(name)}"


def _policy_path(policy_type: str, name: str) -> str:
    """A policy's route: `policy_type` System or Custom."""
    return f"/ram/policies/{_seg(policy_type)}/{_seg(name)}"


class Client(client_capacity.CapacityCalls, client_engines.EngineCalls, client_jobs.JobCalls):
    """Every call of the REST API; capacity calls live in `client/capacity.py`, engine
    versions and SQL checks in `client/engines.py`, jobs in `client/jobs.py`."""

    def __enter__(self) -> Client:
        return self

    # sessions and identity
    def login(
        self, account: str, password: str, *, user: str | None = None, code: str | None = None
    ) -> schemas.auth.LoginResponse:
        body: dict[str, Any] = {"account": account, "password": password}
        if user:
            body["user"] = user
        if code:
            body["code"] = code
        return self.parsed(schemas.auth.LoginResponse, "POST", "/sessions", json=body)

    def logout(self) -> None:
        self.request("DELETE", "/sessions/current")

    def signup(self, alias: str, password: str, **fields: str) -> schemas.accounts.Account:
        return self.parsed(
            schemas.accounts.Account,
            "POST",
            "/signup",
            json={"alias": alias, "password": password, **fields},
        )

    def whoami(self) -> schemas.auth.Whoami:
        return self.parsed(schemas.auth.Whoami, "GET", "/me")

    def change_password(self, old: str, new: str) -> None:
        self.request("PUT", "/me/password", json={"old_password": old, "new_password": new})

    # access keys
    def list_access_keys(self) -> list[schemas.access_keys.AccessKey]:
        return self.parsed_list(schemas.access_keys.AccessKey, "GET", "/access-keys")

    def create_access_key(self) -> schemas.access_keys.AccessKeyCreated:
        return self.parsed(schemas.access_keys.AccessKeyCreated, "POST", "/access-keys")

    def update_access_key(self, key_id: str, status: str) -> schemas.access_keys.AccessKey:
        return self.parsed(
            schemas.access_keys.AccessKey,
            "PATCH",
            f"/access-keys/{_seg(key_id)}",
            json={"status": status},
        )

    def delete_access_key(self, key_id: str) -> None:
        self.request("DELETE", f"/access-keys/{_seg(key_id)}")

    # audit and accounts
    def list_audit_events(self, **params: Any) -> schemas.audit_events.AuditEventPage:
        clean = {k: v for k, v in params.items() if v is not None and v is not False}
        return self.parsed(
            schemas.audit_events.AuditEventPage, "GET", "/audit-events", params=clean
        )

    def create_account(self, alias: str, password: str, **fields: str) -> schemas.accounts.Account:
        return self.parsed(
            schemas.accounts.Account,
            "POST",
            "/accounts",
            json={"alias": alias, "password": password, **fields},
        )

    def list_accounts(self) -> list[schemas.accounts.Account]:
        return self.parsed_list(schemas.accounts.Account, "GET", "/accounts")

    # RAM users
    def list_ram_users(self, *, limit: int = 100, offset: int = 0) -> schemas.ram.UserPage:
        return self.parsed(
            schemas.ram.UserPage, "GET", "/ram/users", params={"limit": limit, "offset": offset}
        )

    def create_ram_user(
        self,
        name: str,
        *,
        display_name: str = "",
        comment: str = "",
        password: str | None = None,
        console_enabled: bool = False,
    ) -> schemas.ram.User:
        body = {
            "name": name,
            "display_name": display_name,
            "comment": comment,
            "password": password,
            "console_enabled": console_enabled,
        }
        return self.parsed(schemas.ram.User, "POST", "/ram/users", json=body)

    def get_ram_user(self, name: str) -> schemas.ram.User:
        return self.parsed(schemas.ram.User, "GET", _user_path(name))

    def update_ram_user(
        self,
        name: str,
        *,
        new_name: str | None = None,
        display_name: str | None = None,
        comment: str | None = None,
        console_enabled: bool | None = None,
    ) -> schemas.ram.User:
        body = _given(
            new_name=new_name,
            display_name=display_name,
            comment=comment,
            console_enabled=console_enabled,
        )
        return self.parsed(schemas.ram.User, "PATCH", _user_path(name), json=body)

    def delete_ram_user(self, name: str) -> None:
        self.request("DELETE", _user_path(name))

    def set_ram_user_password(self, name: str, password: str) -> None:
        self.request("PUT", f"{_user_path(name)}/password", json={"password": password})

    def unbind_ram_user_mfa(self, name: str) -> None:
        self.request("DELETE", f"{_user_path(name)}/mfa")

    def list_groups_for_ram_user(self, name: str) -> list[schemas.ram.Group]:
        return self.parsed_list(schemas.ram.Group, "GET", f"{_user_path(name)}/groups")

    def list_ram_user_access_keys(self, name: str) -> list[schemas.access_keys.AccessKey]:
        return self.parsed_list(
            schemas.access_keys.AccessKey, "GET", f"{_user_path(name)}/access-keys"
        )

    def create_ram_user_access_key(self, name: str) -> schemas.access_keys.AccessKeyCreated:
        return self.parsed(
            schemas.access_keys.AccessKeyCreated, "POST", f"{_user_path(name)}/access-keys"
        )

    def update_ram_user_access_key(
        self, name: str, key_id: str, status: str
    ) -> schemas.access_keys.AccessKey:
        return self.parsed(
            schemas.access_keys.AccessKey,
            "PATCH",
            f"{_user_path(name)}/access-keys/{_seg(key_id)}",
            json={"status": status},
        )

    def delete_ram_user_access_key(self, name: str, key_id: str) -> None:
        self.request("DELETE", f"{_user_path(name)}/access-keys/{_seg(key_id)}")

    # RAM groups
    def list_ram_groups(self, *, limit: int = 100, offset: int = 0) -> schemas.ram.GroupPage:
        return self.parsed(
            schemas.ram.GroupPage, "GET", "/ram/groups", params={"limit": limit, "offset": offset}
        )

    def create_ram_group(
        self, name: str, *, display_name: str = "", comment: str = ""
    ) -> schemas.ram.Group:
        body = {"name": name, "display_name": display_name, "comment": comment}
        return self.parsed(schemas.ram.Group, "POST", "/ram/groups", json=body)

    def get_ram_group(self, name: str) -> schemas.ram.Group:
        return self.parsed(schemas.ram.Group, "GET", f"/ram/groups/{_seg(name)}")

    def update_ram_group(
        self,
        name: str,
        *,
        new_name: str | None = None,
        display_name: str | None = None,
        comment: str | None = None,
    ) -> schemas.ram.Group:
        body = _given(new_name=new_name, display_name=display_name, comment=comment)
        return self.parsed(schemas.ram.Group, "PATCH", f"/ram/groups/{_seg(name)}", json=body)

    def delete_ram_group(self, name: str) -> None:
        self.request("DELETE", f"/ram/groups/{_seg(name)}")

    def list_ram_group_members(self, name: str) -> list[schemas.ram.User]:
        return self.parsed_list(schemas.ram.User, "GET", f"/ram/groups/{_seg(name)}/users")

    def add_ram_group_member(self, group: str, user: str) -> None:
        self.request("PUT", f"/ram/groups/{_seg(group)}/users/{_seg(user)}")

    def remove_ram_group_member(self, group: str, user: str) -> None:
        self.request("DELETE", f"/ram/groups/{_seg(group)}/users/{_seg(user)}")

    # RAM policies and their versions
    def list_ram_policies(
        self, policy_type: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> schemas.ram.PolicyPage:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if policy_type:
            params["policy_type"] = policy_type
        return self.parsed(schemas.ram.PolicyPage, "GET", "/ram/policies", params=params)

    def create_ram_policy(
        self, name: str, document: str, *, description: str = ""
    ) -> schemas.ram.Policy:
        body = {"name": name, "document": document, "description": description}
        return self.parsed(schemas.ram.Policy, "POST", "/ram/policies", json=body)

    def validate_ram_policy(
        self, document: str, *, trust: bool = False
    ) -> schemas.ram.ValidationResult:
        body = {"document": document, "kind": "trust" if trust else "permission"}
        return self.parsed(
            schemas.ram.ValidationResult, "POST", "/ram/policies/validate", json=body
        )

    def get_ram_policy(self, policy_type: str, name: str) -> schemas.ram.Policy:
        return self.parsed(schemas.ram.Policy, "GET", _policy_path(policy_type, name))

    def delete_ram_policy(self, name: str) -> None:
        self.request("DELETE", _policy_path(_CUSTOM, name))

    def list_ram_policy_versions(
        self, policy_type: str, name: str
    ) -> list[schemas.ram.PolicyVersion]:
        return self.parsed_list(
            schemas.ram.PolicyVersion,
            "GET",
            f"{_policy_path(policy_type, name)}/versions",
        )

    def create_ram_policy_version(
        self, name: str, document: str, *, set_as_default: bool = False
    ) -> schemas.ram.PolicyVersion:
        body = {"document": document, "set_as_default": set_as_default}
        return self.parsed(
            schemas.ram.PolicyVersion,
            "POST",
            f"{_policy_path(_CUSTOM, name)}/versions",
            json=body,
        )

    def set_ram_policy_default_version(self, name: str, version_id: str) -> None:
        self.request(
            "PUT",
            f"{_policy_path(_CUSTOM, name)}/default-version",
            json={"version_id": version_id},
        )

    def delete_ram_policy_version(self, name: str, version_id: str) -> None:
        self.request("DELETE", f"{_policy_path(_CUSTOM, name)}/versions/{_seg(version_id)}")

    def list_ram_policy_attachments(
        self, policy_type: str, name: str
    ) -> list[schemas.ram.AttachedEntity]:
        return self.parsed_list(
            schemas.ram.AttachedEntity,
            "GET",
            f"{_policy_path(policy_type, name)}/attachments",
        )

    # attachments: `holder` is "users", "groups" or "roles"
    def list_attached_ram_policies(self, holder: str, name: str) -> list[schemas.ram.Attachment]:
        return self.parsed_list(
            schemas.ram.Attachment, "GET", f"/ram/{_seg(holder)}/{_seg(name)}/policies"
        )

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
    def list_ram_roles(self, *, limit: int = 100, offset: int = 0) -> schemas.ram.RolePage:
        return self.parsed(
            schemas.ram.RolePage, "GET", "/ram/roles", params={"limit": limit, "offset": offset}
        )

    def create_ram_role(
        self, name: str, *, description: str = "", trust_policy: str | None = None
    ) -> schemas.ram.Role:
        body = {"name": name, "description": description, "trust_policy": trust_policy}
        return self.parsed(schemas.ram.Role, "POST", "/ram/roles", json=body)

    def get_ram_role(self, name: str) -> schemas.ram.Role:
        return self.parsed(schemas.ram.Role, "GET", f"/ram/roles/{_seg(name)}")

    def update_ram_role(
        self, name: str, *, description: str | None = None, trust_policy: str | None = None
    ) -> schemas.ram.Role:
        body = _given(description=description, trust_policy=trust_policy)
        return self.parsed(schemas.ram.Role, "PATCH", f"/ram/roles/{_seg(name)}", json=body)

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
    ) -> schemas.ram.SimulationResult:
        """Give `principal` (`user/NAME`, `group/NAME`, `role/NAME`) or inline `policies`."""
        body: dict[str, Any] = {"action": action, "resource": resource, "context": context or {}}
        if principal is not None:
            body["principal"] = principal
        if policies is not None:
            body["policies"] = policies
        return self.parsed(schemas.ram.SimulationResult, "POST", "/ram/simulate", json=body)

    def get_service_role(self) -> schemas.ram.ServiceRole:
        return self.parsed(schemas.ram.ServiceRole, "GET", "/ram/service-role")

    def authorize_service_role(self) -> schemas.ram.ServiceRole:
        return self.parsed(schemas.ram.ServiceRole, "POST", "/ram/service-role")

    def reinitialize_service_role(self) -> schemas.ram.ServiceRole:
        return self.parsed(schemas.ram.ServiceRole, "DELETE", "/ram/service-role")

    def ram_overview(self) -> schemas.ram.Overview:
        return self.parsed(schemas.ram.Overview, "GET", "/ram/overview")
