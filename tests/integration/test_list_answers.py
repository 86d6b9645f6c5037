"""List answers kept in memory (api/answers.py): never older than a write of this process,
never a caller's filtered list given to another, and a write elsewhere seen within the ttl."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rtcompute.api.routes import projects as project_routes
from rtcompute.services.kernel import leadership
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import projects as project_store
from tests.conftest import FakeClock
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    authorize_service_role,
    create_policy,
    detach,
    ok,
    ram_user,
    shared_project,
)

PROJECTS = f"{API}/projects"


@pytest.fixture
def owner(api: TestClient) -> Owner:
    found = account(api)
    authorize_service_role(api, found)
    return found


def names(api: TestClient, headers: dict[str, str]) -> list[str]:
    return [p["name"] for p in ok(api.get(PROJECTS, headers=headers))]


def test_a_list_is_answered_again_from_memory_until_a_write(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    shared_project(api, owner, "alpha", cu=1)
    first = api.get(PROJECTS, headers=owner.headers)
    kept = api.app.state.answers.get(  # type: ignore[attr-defined]
        (owner.account_id, PROJECTS, ""),
        db.committed_writes(platform.engine, project_routes.PROJECT_TABLES),
        platform.now(),
    )
    assert kept == first.content  # the answer is kept, as it was sent
    assert api.get(PROJECTS, headers=owner.headers).content == first.content
    shared_project(api, owner, "beta", cu=1)  # a write through this process
    assert names(api, owner.headers) == ["alpha", "beta"]
    api.delete(f"{PROJECTS}/beta", headers=owner.headers)
    assert names(api, owner.headers) == ["alpha"]


def test_a_kept_answer_is_the_answer_a_fresh_one_would_be(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    shared_project(api, owner, "alpha", cu=1, description="数据 \u00e9t\u00e9")
    kept = [api.get(PROJECTS, headers=owner.headers).content for _ in range(2)]
    api.app.state.answers.ttl = 0  # type: ignore[attr-defined]
    fresh = api.get(PROJECTS, headers=owner.headers)
    assert kept[0] == kept[1] == fresh.content
    assert fresh.headers["content-type"] == "application/json"


def test_a_write_by_another_server_shows_within_the_ttl(
    api: TestClient, owner: Owner, platform: platform_module.Platform, clock: FakeClock
) -> None:
    shared_project(api, owner, "alpha", cu=1)
    assert names(api, owner.headers) == ["alpha"]
    # another `rtc up` on the same database: its own engine, so this process counts no write
    other = platform_module.build_platform(platform.settings, clock=clock)
    try:
        with db.transaction(other.sessions) as session:
            row = project_store.read_project(
                session=session, account_id=owner.account_id, name="alpha"
            )
            assert row is not None
            row.description = "changed elsewhere"
    finally:
        other.engine.dispose()
    described = ok(api.get(PROJECTS, headers=owner.headers))[0]["description"]
    assert described == ""  # still the kept answer: at most `ttl` old
    clock.advance(seconds=platform.settings.answer_cache_seconds)
    assert ok(api.get(PROJECTS, headers=owner.headers))[0]["description"] == "changed elsewhere"


def test_a_filtered_list_is_neither_kept_nor_given_to_another_caller(
    api: TestClient, owner: Owner
) -> None:
    for name in ("alpha", "beta"):
        shared_project(api, owner, name, cu=1)
    create_policy(api, owner, "One", allow("stream:*", ["acs:stream:*:*:alpha"]))
    dev = ram_user(api, owner, "dev", custom=["One"])
    assert names(api, dev) == ["alpha"]
    assert names(api, owner.headers) == ["alpha", "beta"]
    assert names(api, dev) == ["alpha"]  # not the account's kept list
    everything = ram_user(api, owner, "ops", system=["AdministratorAccess"])
    assert names(api, everything) == ["alpha", "beta"]


def test_authorization_is_decided_before_a_kept_answer_is_served(
    api: TestClient, owner: Owner
) -> None:
    shared_project(api, owner, "alpha", cu=1)
    ops = ram_user(api, owner, "ops", system=["AdministratorAccess"])
    assert names(api, ops) == ["alpha"]  # kept for the account
    detach(api, owner, "users/ops", "AdministratorAccess", "System")
    refused = api.get(PROJECTS, headers=ops)
    assert refused.status_code == 403, refused.text


def test_one_tenant_never_gets_another_s_kept_list(api: TestClient, owner: Owner) -> None:
    shared_project(api, owner, "alpha", cu=1)
    assert names(api, owner.headers) == ["alpha"]  # kept for the first account
    other = account(api, "globex")
    authorize_service_role(api, other)
    assert names(api, other.headers) == []
    shared_project(api, other, "beta", cu=1)
    assert names(api, other.headers) == ["beta"]
    assert names(api, owner.headers) == ["alpha"]


def test_a_write_elsewhere_keeps_a_list_a_write_of_its_tables_retires_it(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    """The leader's lease (renewed twice a second) does not retire a project list."""
    shared_project(api, owner, "alpha", cu=1)
    first = api.get(PROJECTS, headers=owner.headers).content
    tables = project_routes.PROJECT_TABLES
    before = db.committed_writes(platform.engine, tables)
    leadership.hold(platform, name="bench", holder="h1", seconds=15)
    assert db.committed_writes(platform.engine, tables) == before
    assert db.committed_writes(platform.engine) > before
    assert api.get(PROJECTS, headers=owner.headers).content == first
    kept = api.app.state.answers.get(  # type: ignore[attr-defined]
        (owner.account_id, PROJECTS, ""), before, platform.now()
    )
    assert kept == first  # still kept after the lease write
    with db.transaction(platform.sessions) as session:
        row = project_store.read_project(session=session, account_id=owner.account_id, name="alpha")
        assert row is not None
        row.description = "changed here"
    assert db.committed_writes(platform.engine, tables) > before
    assert ok(api.get(PROJECTS, headers=owner.headers))[0]["description"] == "changed here"
