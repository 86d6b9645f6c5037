"""Hostile input to the RAM, project, order and cluster routes (both databases): odd path
parameters and bodies never answer 5xx, always the error body, and a refused call writes
nothing. Uses the odd strings and body strategies of test_bad_input.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from rtcompute.api import deps
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import PASSWORD
from tests.integration.test_bad_input import (
    JSON_VALUES,
    ODD_STRINGS,
    ODD_TEXT,
    assert_no_5xx,
    field_bodies,
    q,
    send_json,
)
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    authorize_service_role,
    create_group,
    create_policy,
    document,
    ok,
    shared_project,
)
from tests.integration.test_routes_declared import all_routes

COUNTED = (
    tables.Identity,
    tables.AccessKey,
    tables.Session,
    tables.RamGroup,
    tables.GroupMember,
    tables.RamPolicy,
    tables.RamPolicyVersion,
    tables.RamRole,
    tables.PolicyAttachment,
    tables.Project,
    capacity_tables.Order,
    capacity_tables.Cluster,
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
POLICY_TEXT = document(allow("stream:*", "acs:stream:*:*:analytics"))

# a valid body per route that takes one; the properties make one field odd at a time
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/ram/users"): {
        "name": "newuser",
        "display_name": "New",
        "comment": "c",
        "password": PASSWORD,
        "console_enabled": True,
    },
    ("PATCH", "/api/v1/ram/users/{user}"): {
        "new_name": "renamed",
        "display_name": "D",
        "comment": "c",
        "console_enabled": False,
    },
    ("PUT", "/api/v1/ram/users/{user}/password"): {"password": PASSWORD},
    ("PATCH", "/api/v1/ram/users/{user}/access-keys/{key_id}"): {"status": "Inactive"},
    ("POST", "/api/v1/ram/groups"): {"name": "newgroup", "display_name": "G", "comment": "c"},
    ("PATCH", "/api/v1/ram/groups/{group}"): {"new_name": "g2", "display_name": "G", "comment": ""},
    ("POST", "/api/v1/ram/policies"): {
        "name": "NewPolicy",
        "description": "d",
        "document": POLICY_TEXT,
    },
    ("POST", "/api/v1/ram/policies/validate"): {"document": POLICY_TEXT, "kind": "permission"},
    ("POST", "/api/v1/ram/policies/Custom/{name}/versions"): {
        "document": POLICY_TEXT,
        "set_as_default": True,
    },
    ("PUT", "/api/v1/ram/policies/Custom/{name}/default-version"): {"version_id": "v1"},
    ("POST", "/api/v1/ram/roles"): {"name": "newrole", "description": "d", "trust_policy": None},
    ("PATCH", "/api/v1/ram/roles/{role}"): {"description": "d"},
    ("POST", "/api/v1/ram/simulate"): {
        "principal": "user/dev",
        "action": "stream:ListProjects",
        "resource": "acs:stream:local:1:analytics",
        "context": {"acs:SourceIp": "10.0.0.1"},
    },
    ("POST", "/api/v1/projects"): {"name": "newproject", "description": "d", "order_id": "1"},
    ("PATCH", "/api/v1/projects/{project}"): {"description": "d"},
    ("POST", "/api/v1/projects/{project}/renew"): {"months": 1},
    ("POST", "/api/v1/projects/{project}/scale"): {"cu": 3},
    ("POST", "/api/v1/orders"): {
        "mode": "exclusive",
        "billing": "subscription",
        "region": "local",
        "months": 1,
        "master_type": "4c16g",
        "master_count": 1,
        "slave_type": "8c32g",
        "slave_count": 2,
        "agree_to_terms": True,
    },
    ("POST", "/api/v1/clusters"): {
        "order_id": "1",
        "name": "cluster1",
        "description": "d",
        "bucket": "bucket1",
        "network": "net1",
        "subnet": "sub1",
        "zone": "zone1",
    },
    ("PATCH", "/api/v1/clusters/{cluster}"): {"description": "d"},
    ("POST", "/api/v1/clusters/{cluster}/scale"): {"slave_count": 3},
}
# the capacity routes (orders, clusters) next to the RAM and project ones
CHECKED_PREFIXES = (f"{API}/ram/", f"{API}/projects", f"{API}/orders", f"{API}/clusters")


def counts(platform: platform_module.Platform) -> tuple[int, ...]:
    """The row count of every RAM table, in one query."""
    query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in COUNTED))
    with db.transaction(platform.sessions) as session:
        return tuple(session.execute(query).one())


def ram_routes(api: TestClient) -> list[tuple[str, str]]:
    """(method, template) of every declared RAM, project, order and cluster route."""
    found = []
    for route in all_routes(api.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute):
            continue
        if not route.path.startswith(CHECKED_PREFIXES):
            continue
        assert any(isinstance(d.call, deps.Requires) for d in route.dependant.dependencies)
        found.extend((method, route.path) for method in sorted(route.methods))
    return found


@pytest.fixture
def owner(api: TestClient) -> Owner:
    """One of everything, so that odd input meets real rows."""
    found = account(api)
    h = found.headers
    authorize_service_role(api, found)
    shared_project(api, found, "analytics")
    ok(api.post(f"{API}/ram/users", headers=h, json={"name": "dev"}), 201)
    create_group(api, found, "ops", members=["dev"])
    ok(api.post(f"{API}/ram/roles", headers=h, json={"name": "runner"}), 201)
    create_policy(api, found, "P", allow("stream:List*"))
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/P", headers=h), 204)
    return found


def call(api: TestClient, owner: Owner, method: str, path: str, body: Any) -> Any:
    if method in ("GET", "DELETE"):
        return api.request(method, path, headers=owner.headers)
    return send_json(api, method, path, body, headers=owner.headers)


class Checked:
    """Calls that must never answer 5xx, and whose refusals must leave every table as it
    was (the counts are taken again only after a call that succeeded)."""

    def __init__(self, api: TestClient, platform: platform_module.Platform, owner: Owner) -> None:
        self.api = api
        self.platform = platform
        self.owner = owner
        self.rows = counts(platform)

    def __call__(self, method: str, path: str, body: Any) -> None:
        response = call(self.api, self.owner, method, path, body)
        assert_no_5xx(response)
        now = counts(self.platform)
        if response.status_code >= 400:
            assert now == self.rows, (method, path, body, response.text[:300])
        self.rows = now


def filled(template: str, value: str) -> str:
    """Every path parameter set to `value`, quoted (a lone surrogate as its UTF-8 escape)."""
    parts = template.split("/")
    return "/".join(q(value) if p.startswith("{") else p for p in parts)


def test_odd_strings_in_every_path_parameter(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    routes = [(m, p) for m, p in ram_routes(api) if "{" in p]
    assert len(routes) >= 30
    checked = Checked(api, platform, owner)
    for value in ODD_STRINGS:
        for method, template in routes:
            checked(method, filled(template, value), BODIES.get((method, template), {}))
    # and the rows that were there are intact
    assert (
        ok(api.get(f"{API}/ram/users/dev/policies", headers=owner.headers))[0]["policy_name"] == "P"
    )
    assert ok(api.get(f"{API}/projects/analytics", headers=owner.headers))["name"] == "analytics"


def test_odd_strings_in_every_body_field(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    checked = Checked(api, platform, owner)
    for value in ODD_STRINGS:
        for (method, template), valid in BODIES.items():
            for field in valid:
                checked(method, at_rows(template), {**valid, field: value})


def at_rows(template: str) -> str:
    """A template's parameters set to the names of the fixture's rows."""
    return template.format(
        user="dev",
        group="ops",
        role="runner",
        name="P",
        project="analytics",
        key_id="x",
        cluster="cluster1",
    )


def test_odd_policy_documents(
    api: TestClient, platform: platform_module.Platform, owner: Owner
) -> None:
    odd_documents = [
        json.dumps({"Version": "1", "Statement": [allow(value, value)]}) for value in ODD_STRINGS
    ] + [
        '{"Version": "1", "Statement": [' * 50,
        "[" * 10_000,
        '{"Version": "1", "Statement": {"Effect": "Allow", "Action": "a:b", "Resource": "*",'
        ' "Condition": {"IpAddress": {"acs:SourceIp": "' + "9" * 500 + '"}}}}',
        '{"Version": "1", "Statement": [], "Statement": []}',
        '{"Version": 1.0e999, "Statement": NaN}',
        json.dumps(
            {"Version": "1", "Statement": [{"Effect": "Allow", "Action": [], "Resource": []}]}
        ),
    ]
    checked = Checked(api, platform, owner)
    for text in odd_documents:
        for method, path, body in (
            ("POST", f"{API}/ram/policies", {"name": "Odd", "document": text}),
            ("POST", f"{API}/ram/policies/Custom/P/versions", {"document": text}),
            ("POST", f"{API}/ram/policies/validate", {"document": text}),
            ("POST", f"{API}/ram/policies/validate", {"document": text, "kind": "trust"}),
            ("POST", f"{API}/ram/roles", {"name": "odd", "trust_policy": text}),
            ("PATCH", f"{API}/ram/roles/runner", {"trust_policy": text}),
            ("POST", f"{API}/ram/simulate", {"policies": [text], "action": "a:b", "resource": "*"}),
        ):
            checked(method, path, body)


@PROPERTY
@given(data=st.data())
def test_property_path_parameters(
    api: TestClient, platform: platform_module.Platform, owner: Owner, data: st.DataObject
) -> None:
    method, template = data.draw(st.sampled_from([(m, p) for m, p in ram_routes(api) if "{" in p]))
    parts = template.split("/")
    path = "/".join(q(data.draw(ODD_TEXT)) if p.startswith("{") else p for p in parts)
    body = data.draw(st.one_of(st.just(BODIES.get((method, template), {})), JSON_VALUES))
    Checked(api, platform, owner)(method, path, body)


@PROPERTY
@given(data=st.data())
def test_property_bodies(
    api: TestClient, platform: platform_module.Platform, owner: Owner, data: st.DataObject
) -> None:
    (method, template), valid = data.draw(st.sampled_from(list(BODIES.items())))
    path = at_rows(template)
    body = data.draw(field_bodies(valid))
    if isinstance(body, dict) and isinstance(body.get("password"), str):
        body["password"] = body["password"][:7]  # keep password hashing out of most examples
    Checked(api, platform, owner)(method, path, body)


@PROPERTY
@given(
    context=st.dictionaries(
        ODD_TEXT, st.one_of(ODD_TEXT, st.lists(ODD_TEXT, max_size=3)), max_size=5
    ),
    principal=st.one_of(
        st.none(), ODD_TEXT, st.sampled_from(["user/dev", "group/ops", "role/runner"])
    ),
    action=ODD_TEXT,
    resource=ODD_TEXT,
)
def test_property_simulate(
    api: TestClient,
    platform: platform_module.Platform,
    owner: Owner,
    context: dict[str, Any],
    principal: str | None,
    action: str,
    resource: str,
) -> None:
    body: dict[str, Any] = {"action": action, "resource": resource, "context": context}
    if principal is None:
        body["policies"] = [document(allow("stream:*", "*", StringLike={"stream:x": "a*"}))]
    else:
        body["principal"] = principal
    Checked(api, platform, owner)("POST", f"{API}/ram/simulate", body)


@pytest.mark.parametrize("kind", ["users", "groups", "roles", "policies"])
def test_a_trailing_newline_is_no_part_of_a_ram_name(
    api: TestClient, platform: platform_module.Platform, owner: Owner, kind: str
) -> None:
    """`^...$` lets "name\\n" through `re.match`; names are letters, digits, `.`, `_`, `@`, `-`."""
    body: dict[str, Any] = {"name": "newname\n"}
    if kind == "policies":
        body["document"] = POLICY_TEXT
    before = counts(platform)
    response = api.post(f"{API}/ram/{kind}", headers=owner.headers, json=body)
    assert response.status_code == 400, response.text[:300]
    assert counts(platform) == before
