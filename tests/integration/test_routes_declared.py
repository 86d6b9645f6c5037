"""Deny by default, checked: every /api/v1 route declares `Requires` or `Public`, and every
`Requires` route refuses a caller without credentials with 401 (both databases).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.api import deps


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
    }
    assert public == {("POST", "/api/v1/signup"), ("POST", "/api/v1/sessions")}


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
