"""The decision cache (issue 3 §5): with a RAM user's decision cached, every change to a
policy, version, attachment or membership changes the very next decision; another process
on the same database follows within its credential cache's time to live (both databases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD, FakeClock, RecordingNotifier, make_settings
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    create_group,
    create_policy,
    deny,
    detach,
    document,
    expect,
    ok,
    ram_user,
)

USERS = f"{API}/ram/users"
POLICY = f"{API}/ram/policies/Custom"
Change = Callable[[TestClient, Owner], None]


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


def allowed(api: TestClient, headers: dict[str, str]) -> bool:
    """Whether the user may list users; 200 or a RAM 403, nothing else."""
    response = api.get(USERS, headers=headers)
    if response.status_code == 200:
        return True
    expect(response, 403, "Forbidden.RAM")
    return False


def warm(
    api: TestClient, platform: platform_module.Platform, owner: Owner, headers: dict[str, str]
) -> bool:
    """Ask twice, so that the second answer comes from the cache; check that it did."""
    first = allowed(api, headers)
    assert allowed(api, headers) is first
    entry = platform.decisions.entry(ram_users.user_id(platform, owner.account_id, "dev"), 0)
    assert entry is not None and entry.decisions, "the decision was not cached"
    return first


def set_up(api: TestClient, owner: Owner) -> dict[str, str]:
    """dev may list users through `Lister` (direct) and `Readers` (a group) until changed."""
    create_policy(api, owner, "Lister", allow("ram:ListUsers"))
    create_policy(api, owner, "Other", allow("stream:List*"))
    key = ram_user(api, owner, "dev")
    create_group(api, owner, "readers")
    create_group(api, owner, "empty")
    return key


# each: (how dev is set up, the change, whether dev may list users after it)
def via_direct(api: TestClient, owner: Owner) -> None:
    attach(api, owner, "users/dev", "Lister")


def via_group(api: TestClient, owner: Owner) -> None:
    ok(api.put(f"{API}/ram/groups/readers/users/dev", headers=owner.headers), 204)
    attach(api, owner, "groups/readers", "Lister")


def nothing(api: TestClient, owner: Owner) -> None:
    del api, owner


def detach_direct(api: TestClient, owner: Owner) -> None:
    detach(api, owner, "users/dev", "Lister")


def attach_direct(api: TestClient, owner: Owner) -> None:
    attach(api, owner, "users/dev", "Lister")


def attach_deny(api: TestClient, owner: Owner) -> None:
    create_policy(api, owner, "NoList", deny("ram:ListUsers"))
    attach(api, owner, "users/dev", "NoList")


def default_without(api: TestClient, owner: Owner) -> None:
    version = {"document": document(allow("stream:List*"))}
    ok(api.post(f"{POLICY}/Lister/versions", headers=owner.headers, json=version), 201)
    ok(
        api.put(
            f"{POLICY}/Lister/default-version", headers=owner.headers, json={"version_id": "v2"}
        ),
        204,
    )


def new_default_version(api: TestClient, owner: Owner) -> None:
    version = {"document": document(allow("stream:List*")), "set_as_default": True}
    ok(api.post(f"{POLICY}/Lister/versions", headers=owner.headers, json=version), 201)


def back_to_v1_deleting_v2(api: TestClient, owner: Owner) -> None:
    """Set up with v2 (no ListUsers) as default: v1 becomes the default, v2 goes."""
    ok(
        api.put(
            f"{POLICY}/Lister/default-version", headers=owner.headers, json={"version_id": "v1"}
        ),
        204,
    )
    ok(api.delete(f"{POLICY}/Lister/versions/v2", headers=owner.headers), 204)


def via_direct_on_v2(api: TestClient, owner: Owner) -> None:
    via_direct(api, owner)
    new_default_version(api, owner)


def remove_from_group(api: TestClient, owner: Owner) -> None:
    ok(api.delete(f"{API}/ram/groups/readers/users/dev", headers=owner.headers), 204)


def add_to_group(api: TestClient, owner: Owner) -> None:
    attach(api, owner, "groups/readers", "Lister")
    ok(api.put(f"{API}/ram/groups/readers/users/dev", headers=owner.headers), 204)


def add_to_group_with_policy(api: TestClient, owner: Owner) -> None:
    ok(api.put(f"{API}/ram/groups/readers/users/dev", headers=owner.headers), 204)


def readers_hold_lister(api: TestClient, owner: Owner) -> None:
    attach(api, owner, "groups/readers", "Lister")


def delete_group(api: TestClient, owner: Owner) -> None:
    ok(api.delete(f"{API}/ram/groups/readers", headers=owner.headers), 204)
    # the group's attachment went with it: the policy is free to delete
    ok(api.delete(f"{POLICY}/Lister", headers=owner.headers), 204)


def detach_from_group(api: TestClient, owner: Owner) -> None:
    detach(api, owner, "groups/readers", "Lister")


def attach_to_group(api: TestClient, owner: Owner) -> None:
    attach(api, owner, "groups/readers", "Lister")


def in_group(api: TestClient, owner: Owner) -> None:
    ok(api.put(f"{API}/ram/groups/readers/users/dev", headers=owner.headers), 204)


def other_changes(api: TestClient, owner: Owner) -> None:
    """Changes that do not concern dev's rights leave the answer as it was."""
    attach(api, owner, "users/dev", "Other")
    ok(api.put(f"{API}/ram/groups/empty/users/dev", headers=owner.headers), 204)
    ok(api.post(f"{API}/ram/roles", headers=owner.headers, json={"name": "r"}), 201)
    attach(api, owner, "roles/r", "Lister")


CASES: list[tuple[Change, Change, bool]] = [
    (via_direct, detach_direct, False),
    (nothing, attach_direct, True),
    (via_direct, attach_deny, False),
    (via_direct, default_without, False),
    (via_direct, new_default_version, False),
    (via_direct_on_v2, back_to_v1_deleting_v2, True),
    (via_group, remove_from_group, False),
    (nothing, add_to_group, True),
    (readers_hold_lister, add_to_group_with_policy, True),
    (via_group, delete_group, False),
    (via_group, detach_from_group, False),
    (in_group, attach_to_group, True),
    (via_direct, other_changes, True),
]


@pytest.mark.parametrize(
    ("before", "change", "after"), CASES, ids=[change.__name__ for _, change, _ in CASES]
)
def test_a_change_applies_to_the_very_next_decision(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    before: Change,
    change: Change,
    after: bool,
) -> None:
    dev = set_up(api, owner)
    before(api, owner)
    expected_before = change is other_changes or not after
    assert warm(api, platform, owner, dev) is expected_before
    change(api, owner)
    assert allowed(api, dev) is after


def test_deleting_the_user_ends_it_at_once(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    dev = set_up(api, owner)
    via_direct(api, owner)
    assert warm(api, platform, owner, dev)
    ok(api.delete(f"{USERS}/dev", headers=owner.headers), 204)
    expect(api.get(USERS, headers=dev), 401, "InvalidAccessKey")


def test_another_accounts_change_does_not_drop_this_accounts_cache(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    dev = set_up(api, owner)
    via_direct(api, owner)
    assert warm(api, platform, owner, dev)
    other = account(api, "other")
    ok(api.post(USERS, headers=other.headers, json={"name": "someone"}), 201)
    entry = platform.decisions.entry(ram_users.user_id(platform, owner.account_id, "dev"), 0)
    assert entry is not None and entry.decisions


# ---------------------------------------------------------------- two processes, one database


@pytest.fixture
def second_process(
    database_url: str, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[platform_module.Platform, TestClient]]:
    """Another `rtc up` on the same database: its own caches, the same (fake) clock."""
    settings = make_settings(database_url, tmp_path / "second")
    built = platform_module.build_platform(settings, notifier=RecordingNotifier(), clock=clock)
    with TestClient(app_module.create_app(built), raise_server_exceptions=False) as client:
        yield built, client
    built.engine.dispose()


@pytest.mark.parametrize("credential", ["access_key", "session"])
def test_another_process_follows_within_the_credential_ttl(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    clock: FakeClock,
    second_process: tuple[platform_module.Platform, TestClient],
    credential: str,
) -> None:
    other, other_api = second_process
    ttl = platform.settings.auth.credential_cache_seconds
    assert ttl > 0 and other.settings.auth.credential_cache_seconds == ttl
    dev = set_up(api, owner)
    via_group(api, owner)
    if credential == "session":
        ok(
            api.put(f"{USERS}/dev/password", headers=owner.headers, json={"password": PASSWORD}),
            204,
        )
        signed = other_api.post(
            f"{API}/sessions", json={"account": owner.alias, "user": "dev", "password": PASSWORD}
        )
        dev = {"Authorization": f"Bearer {ok(signed, 201)['token']}"}
    assert warm(other_api, other, owner, dev)
    detach_from_group(api, owner)  # through the first process
    assert allowed(api, dev) is False  # at once here
    clock.advance(seconds=ttl)
    assert allowed(other_api, dev) is False  # there, once its credential cache expired
    # and back: a change made through the second process reaches the first the same way
    assert allowed(api, dev) is False
    attach(other_api, owner, "groups/readers", "Lister")
    assert allowed(other_api, dev) is True
    clock.advance(seconds=ttl)
    assert allowed(api, dev) is True
