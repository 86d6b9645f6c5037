"""Resource names: `acs:<service>:<region>:<account-id>:<relative-id>` (the guide's format).

The RAM issue adds the policy language; here the names are built so that every route can
declare the action and the resource it needs from day one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceName:
    service: str
    region: str
    account_id: str
    relative_id: str

    def __str__(self) -> str:
        return f"acs:{self.service}:{self.region}:{self.account_id}:{self.relative_id}"


def parse(name: str) -> ResourceName | None:
    """Split a resource name; None when it does not have the five parts."""
    parts = name.split(":", 4)
    if len(parts) != 5 or parts[0] != "acs" or not parts[1]:
        return None
    return ResourceName(parts[1], parts[2], parts[3], parts[4])


def ram_user(account_id: str, user: str) -> str:
    return str(ResourceName("ram", "", account_id, f"user/{user}"))


def account_root(account_id: str) -> str:
    return str(ResourceName("ram", "", account_id, "root"))


def platform_account(account_id: str) -> str:
    """An account as a resource of the platform operator."""
    return str(ResourceName("rtc", "", "*", f"account/{account_id}"))


def audit_trail(region: str, account_id: str) -> str:
    return str(ResourceName("actiontrail", region, account_id, "*"))


def ram_role(account_id: str, role: str) -> str:
    return str(ResourceName("ram", "", account_id, f"role/{role}"))


def ram_group(account_id: str, group: str) -> str:
    return str(ResourceName("ram", "", account_id, f"group/{group}"))


def ram_policy(account_id: str, policy: str) -> str:
    return str(ResourceName("ram", "", account_id, f"policy/{policy}"))


def project(region: str, account_id: str, name: str) -> str:
    """A project: the bare name, so that the guide's `acs:stream:*:*:projectname` grants it.

    Deeper stream resources get names below it (`<project>/job/<name>`, ...); project names
    cannot hold `/`, so they never collide with those or with `cluster/<id>`.
    """
    return str(ResourceName("stream", region, account_id, name))


def cluster(region: str, account_id: str, name: str) -> str:
    """An exclusive cluster: `cluster/<name>`, apart from project names (no `/` in those)."""
    return str(ResourceName("stream", region, account_id, f"cluster/{name}"))


def order(region: str, account_id: str, order_id: str) -> str:
    return str(ResourceName("stream", region, account_id, f"order/{order_id}"))
