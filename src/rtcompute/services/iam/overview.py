"""What the RAM overview shows: how many of each, against the vendor's limits."""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute.domain import policies, ram
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import groups as group_store
from rtcompute.store import identities as identity_store
from rtcompute.store import policies as policy_store
from rtcompute.store import roles as role_store

LIMITS = {
    "users": ram.MAX_USERS,
    "groups": ram.MAX_GROUPS,
    "roles": ram.MAX_ROLES,
    "custom_policies": ram.MAX_CUSTOM_POLICIES,
    "groups_per_user": ram.MAX_GROUPS_PER_USER,
    "system_policies_per_holder": ram.MAX_SYSTEM_ATTACHMENTS,
    "custom_policies_per_holder": ram.MAX_CUSTOM_ATTACHMENTS,
    "versions_per_policy": ram.MAX_POLICY_VERSIONS,
    "policy_document_characters": policies.MAX_DOCUMENT_CHARS,
    "name_characters": ram.MAX_NAME,
}


@dataclass(frozen=True)
class Counts:
    users: int
    groups: int
    roles: int
    custom_policies: int


def counts(platform: platform_module.Platform, account_id: str) -> Counts:
    with db.transaction(platform.sessions) as session:
        return Counts(
            users=identity_store.count_ram_users(session=session, account_id=account_id),
            groups=group_store.count_groups(session=session, account_id=account_id),
            roles=role_store.count_roles(session=session, account_id=account_id),
            custom_policies=policy_store.count_policies(session=session, account_id=account_id),
        )
