"""Deny by default, checked (both databases): every route of the app declares an action (the
API's `Requires` / `Public`, the console's `guard` equivalents) unless it is one of the few
open ones; every `Requires` route refuses a caller without credentials with 401; and a
signed-in RAM user with no policies is refused with 403 `Forbidden.RAM` on every declared
route, API and console, but the self-service ones on its own identity.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.api import deps
from rtcompute.console import guard
from rtcompute.domain import operations
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD
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
    paid_order,
    shared_project,
)


def declared(dependant: Dependant) -> list[Any]:
    """Every Requires/Public instance among the route's dependencies, at any depth."""
    found = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, deps.Requires | deps.Public):
            found.append(sub.call)
        found.extend(declared(sub))
    return found


def all_routes(routes: list[Any]) -> list[Any]:
    """The app's routes, descending into included routers (FastAPI nests them)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found.extend(all_routes(included.routes))
        else:
            found.append(route)
    return found


def api_routes(api: TestClient) -> list[APIRoute]:
    return [
        route
        for route in all_routes(api.app.routes)  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1/")
    ]


def test_other_api_paths_are_only_the_documented_open_ones(api: TestClient) -> None:
    """Under /api/ but outside /api/v1: the OpenAPI document and its docs page, nothing else."""
    others = {
        route.path
        for route in all_routes(api.app.routes)  # type: ignore[attr-defined]
        if isinstance(route, APIRoute)
        and route.path.startswith("/api/")
        and not route.path.startswith("/api/v1/")
    }
    assert others <= app_module.UNDECLARED_OK
    assert "/api/docs" in others


def test_every_api_route_declares_its_action(api: TestClient) -> None:
    routes = api_routes(api)
    paths = {route.path for route in routes}
    assert {"/api/v1/signup", "/api/v1/me", "/api/v1/access-keys", "/api/v1/audit-events"} <= paths
    assert all(route.path.startswith("/api/v1/") for route in routes)
    undeclared = [
        f"{sorted(route.methods)} {route.path}" for route in routes if not declared(route.dependant)
    ]
    assert undeclared == []
    for route in routes:
        declarations = declared(route.dependant)
        assert len(declarations) == 1, (route.path, declarations)
        action = declarations[0].action
        assert re.fullmatch(r"[a-z]+:[A-Za-z]+", action), (route.path, action)


def test_public_routes_are_the_expected_few(api: TestClient) -> None:
    public = {
        (method, route.path)
        for route in api_routes(api)
        for method in route.methods
        if isinstance(declared(route.dependant)[0], deps.Public)
        and not isinstance(declared(route.dependant)[0], deps.AgentCall)
    }
    assert public == {
        ("POST", "/api/v1/signup"),
        ("POST", "/api/v1/sessions"),
        # a node agent joins with a join token (tests/integration/test_hosts.py)
        ("GET", "/api/v1/agent/join-probes/{token_id}"),
        ("POST", "/api/v1/agent/join"),
    }
    # and reports with its host's signature, nothing else
    signed = {
        (method, route.path)
        for route in api_routes(api)
        for method in route.methods
        if isinstance(declared(route.dependant)[0], deps.AgentCall)
    }
    assert signed == {("POST", "/api/v1/agent/hosts/{host_id}/heartbeat")}


def requires_calls(api: TestClient) -> list[tuple[str, str]]:
    calls = []
    for route in api_routes(api):
        if not any(isinstance(d, deps.Requires) for d in declared(route.dependant)):
            continue
        path = re.sub(r"\{[^}]+\}", "RTCAK0000000000000000000", route.path)
        calls.extend((method, path) for method in sorted(route.methods))
    return calls


@pytest.mark.parametrize(
    "authorization", [None, "Bearer rtcs_not-a-session", "Bearer RTCAKAAAAAAAAAAAAAAAAAAA:secret"]
)
def test_requires_routes_refuse_the_unauthenticated(
    api: TestClient, authorization: str | None
) -> None:
    calls = requires_calls(api)
    assert len(calls) >= 8
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in calls:
        response = api.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert set(response.json()) == {"code", "message", "request_id"}
        assert response.json()["code"] in {
            "MissingCredentials",
            "SessionExpired",
            "InvalidAccessKey",
        }


# ---------------------------------------------------------------- every route of the app


def test_every_route_of_the_app_is_declared_or_one_of_the_open_few(api: TestClient) -> None:
    """API and console alike; only health, metrics, the OpenAPI document and its page, and
    static files go without a declaration (and the console's public pages say they are)."""
    undeclared = []
    for route in all_routes(api.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, Mount):
            assert route.path == "/static", route.path
        elif isinstance(route, APIRoute):
            if declared(route.dependant) or guard.declaration_of(route) is not None:
                continue
            if route.path not in app_module.UNDECLARED_OK:
                undeclared.append(f"{sorted(route.methods)} {route.path}")
        else:
            assert isinstance(route, Route) and route.path in app_module.UNDECLARED_OK, route
    assert undeclared == []


# ---------------------------------------------------------------- a RAM user with no policies

# Path parameters filled with names that exist, so that a 404 cannot hide a missing check.
USER, GROUP, ROLE, POLICY, PROJECT = "target", "team", "runner", "Target", "analytics"
BUCKET, NETWORK, JOB = "bucket1", "network1", "orders_etl"
HOLDERS = {
    "users": USER,
    "groups": GROUP,
    "roles": ROLE,
    "policies": POLICY,
    "Custom": POLICY,
    "machine-types": "8c32g",
    "logs": "jobmanager-0.out",
}


def fill(path: str, values: dict[str, str]) -> str:
    """A route template with every parameter set to an existing entity's name."""
    template = path.split("/")
    parts = list(template)
    for index, part in enumerate(template):
        if not part.startswith("{"):
            continue
        # `{job}:validate`: the parameter, then a custom method
        name, _, verb = part[1:].partition("}")
        literal = next(p for p in reversed(template[:index]) if not p.startswith("{"))
        if name == "name":
            parts[index] = HOLDERS[literal]
        elif (literal, name) == ("machine-types", "role"):
            parts[index] = "slave"
        elif name == "key_id":
            parts[index] = values["user_key" if "/users/" in path else "own_key"]
        else:
            assert name in values, f"{path}: give the test a value for {{{name}}}"
            parts[index] = values[name]
        parts[index] += verb
    return "/".join(parts)


def counts(platform: platform_module.Platform) -> dict[str, int]:
    counted = (
        tables.Identity,
        tables.AccessKey,
        tables.RamGroup,
        tables.GroupMember,
        tables.RamPolicy,
        tables.RamPolicyVersion,
        tables.RamRole,
        tables.PolicyAttachment,
        tables.Project,
    )
    with db.transaction(platform.sessions) as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in counted
        }


@pytest.fixture
def world(api: TestClient) -> tuple[Owner, dict[str, str]]:
    """An account with one of everything, and `wall`, a RAM user with no policy at all."""
    owner = account(api)
    h = owner.headers
    authorize_service_role(api, owner)
    shared_project(api, owner, PROJECT)
    ok(api.post(f"{API}/projects/{PROJECT}/jobs", headers=h, json={"name": JOB}), 201)
    order = paid_order(api, owner)["id"]
    ok(api.post(f"{API}/buckets", headers=h, json={"name": BUCKET}), 201)
    ok(api.post(f"{API}/networks", headers=h, json={"name": NETWORK, "cidr": "10.0.0.0/16"}), 201)
    ok(api.post(f"{API}/ram/users", headers=h, json={"name": USER}), 201)
    create_group(api, owner, GROUP, members=[USER])
    ok(api.post(f"{API}/ram/roles", headers=h, json={"name": ROLE}), 201)
    create_policy(api, owner, POLICY, allow("stream:List*"))
    version = {"document": document(allow("a:b"))}
    ok(api.post(f"{API}/ram/policies/Custom/{POLICY}/versions", headers=h, json=version), 201)
    for holder in (f"users/{USER}", f"groups/{GROUP}", f"roles/{ROLE}"):
        ok(api.put(f"{API}/ram/{holder}/policies/Custom/{POLICY}", headers=h), 204)
    user_key = ok(api.post(f"{API}/ram/users/{USER}/access-keys", headers=h), 201)["id"]
    wall = {"name": "wall", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=h, json=wall), 201)
    own = ok(api.post(f"{API}/ram/users/wall/access-keys", headers=h), 201)
    values = {
        "user": USER,
        "group": GROUP,
        "role": ROLE,
        "project": PROJECT,
        "order_id": order,
        "bucket": BUCKET,
        "key:path": "udfs/a.jar",
        "network": NETWORK,
        # zones are the operator's and a cluster needs one: these two names do not exist
        "subnet": "subnet1",
        "zone": "zone1",
        "host": "host1",
        "cluster": "cluster1",
        "region": "local",
        "policy_type": "Custom",
        "policy_name": POLICY,
        "version_id": "v2",
        "version": "flink-2.2.1",
        "job": JOB,
        "revision": "1",
        "user_key": user_key,
        "own_key": own["id"],
        "authorization": f"Bearer {own['id']}:{own['secret']}",
    }
    return owner, values


def is_self_service(action: str | None, operation: operations.Operation) -> bool:
    return (action or "").lower() in authz.SELF_SERVICE and operation.resource == "{self}"


def test_a_ram_user_without_policies_is_refused_on_every_api_route(
    api: TestClient, platform: platform_module.Platform, world: tuple[Owner, dict[str, str]]
) -> None:
    _, values = world
    wall = {"Authorization": values["authorization"]}
    before = counts(platform)
    refused, exempt = [], []
    for route in api_routes(api):
        declaration = declared(route.dependant)[0]
        if isinstance(declaration, deps.Public):
            continue
        path = fill(route.path, values)
        for method in sorted(route.methods):
            if is_self_service(declaration.action, declaration.operation):
                exempt.append((method, route.path))
                continue
            response = api.request(method, path, headers=wall, json={})
            assert response.status_code == 403, (method, path, response.text[:300])
            body = response.json()
            assert body["code"] == "Forbidden.RAM", (method, path, body)
            assert declaration.action in body["message"], (method, path, body)
            refused.append((method, route.path))
    assert len(refused) >= 60
    assert counts(platform) == before
    # the exceptions are exactly the self-service actions, and they do work
    assert sorted(exempt) == [
        ("DELETE", "/api/v1/sessions/current"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/me/mfa"),
        ("PUT", "/api/v1/me/mfa"),
        ("PUT", "/api/v1/me/password"),
    ]
    assert ok(api.get(f"{API}/me", headers=wall))["name"] == "wall"
    assert ok(api.post(f"{API}/me/mfa", headers=wall))["secret"]


def console_routes(api: TestClient) -> list[tuple[APIRoute, guard.Declaration]]:
    found = []
    for route in all_routes(api.app.routes):  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and not route.path.startswith("/api/"):
            declaration = guard.declaration_of(route)
            if declaration is not None:
                found.append((route, declaration))
    return found


def console_requires(route: APIRoute) -> guard.Requires:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, guard.Requires):
            return dependant.call
        pending.extend(dependant.dependencies)
    raise AssertionError(route.path)


def test_a_ram_user_without_policies_is_refused_on_every_console_route(
    api: TestClient, platform: platform_module.Platform, world: tuple[Owner, dict[str, str]]
) -> None:
    owner, values = world
    page = api.get(f"/login/{owner.alias}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    signed_in = api.post(
        f"/login/{owner.alias}",
        data={"csrf_token": token.group(1), "user": "wall", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text[:300]
    with db.transaction(platform.sessions) as session:
        wall = session.scalars(select(tables.Identity).where(tables.Identity.name == "wall")).one()
        csrf = session.scalars(
            select(tables.Session.csrf_token).where(tables.Session.identity_id == wall.id)
        ).one()
    before = counts(platform)
    refused, exempt = [], []
    for route, declaration in console_routes(api):
        if declaration.public:
            continue
        requires = console_requires(route)
        path = fill(route.path, values)
        for method in sorted(route.methods):
            if is_self_service(declaration.action, requires.operation):
                exempt.append(declaration.action)
                continue
            response = api.request(
                method,
                path,
                headers={"X-CSRF-Token": csrf},
                data={"csrf_token": csrf} if method != "GET" else None,
                follow_redirects=False,
            )
            assert response.status_code == 403, (method, path, response.text[:300])
            assert "Forbidden.RAM" in response.text, (method, path)
            refused.append((method, route.path))
    assert len(refused) >= 10
    assert counts(platform) == before
    assert {action.lower() for action in exempt} <= authz.SELF_SERVICE
    assert {"sts:GetCallerIdentity", "rtc:SignOut", "ram:ChangePassword"} <= set(exempt)
    assert api.get("/console", follow_redirects=False).status_code == 200
