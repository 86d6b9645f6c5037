"""One declaration of who may do what (domain/operations.py), used by the API and the console.

Every route of either side names an operation of the registry; a console page never names
one no API route has; every parameter of an operation's resource comes from the route's
path or its body or form; a listing operation hands its route a `Listing`. A console page
that built its own resource (the console once checked `stream:CreateJob` on `.../job/*`, so
a deny on `job/secret*` held in the API only) fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from rtcompute.api import app as app_module
from rtcompute.api import deps
from rtcompute.console import guard
from rtcompute.console import routes as console_routes
from rtcompute.domain import operations

# pages with no API route of their own, and why
CONSOLE_ONLY = {
    operations.GET_OWN_LOGIN_PROFILE: "the settings page shows whether the caller signs in",
    operations.GET_POLICY_VERSION: "a policy version's page (the API lists versions whole)",
    operations.LIST_KUBERNETES_CLUSTERS: "the guide's list, empty until Flink on Kubernetes",
}
REQUIRES = (deps.Requires, guard.Requires)


def requirement(dependant: Dependant) -> tuple[Any, str | None] | None:
    """The route's Requires (API or console) and the parameter it fills, at any depth."""
    for sub in dependant.dependencies:
        if isinstance(sub.call, REQUIRES):
            return sub.call, sub.name
        found = requirement(sub)
        if found is not None:
            return found
    return None


def body_names(route: APIRoute) -> set[str]:
    """The JSON body's fields (a model's) or the form's fields of a route."""
    names: set[str] = set()
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        fields = getattr(annotation, "model_fields", None)
        names |= set(fields) if fields else {param.alias}
    return names


def problems(side: str, routes: Iterable[Any], registry: set[int]) -> list[str]:
    found = []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        declared = requirement(route.dependant)
        if declared is None:
            continue  # public routes: tests/integration/test_routes_declared.py
        requires, name = declared
        where = f"{side} {sorted(route.methods)} {route.path}"
        operation = requires.operation
        if id(operation) not in registry:
            found.append(f"{where}: {operation} is not an operation of domain/operations.py")
            continue
        supplied = set(route.param_convertors) | body_names(route)
        supplied |= set(getattr(requires, "fallbacks", {}))
        missing = operation.parameters - supplied
        if missing:
            found.append(f"{where}: {operation.action} needs {sorted(missing)} it never gets")
        annotation = inspect.signature(route.endpoint).parameters[str(name)].annotation
        gets_listing = "Listing" in str(annotation)
        if gets_listing != operation.listing:
            hands = "Listing" if operation.listing else "Principal"
            found.append(f"{where}: {operation.action} hands a {hands}, it takes {annotation}")
    return found


def api_routes() -> list[Any]:
    return [route for module in app_module.API_MODULES for route in module.router.routes]


def console_pages() -> list[Any]:
    return [route for router in console_routes.ROUTERS for route in router.routes]


def used(routes: Iterable[Any]) -> set[operations.Operation]:
    return {
        declared[0].operation
        for route in routes
        if isinstance(route, APIRoute) and (declared := requirement(route.dependant))
    }


def registry() -> set[int]:
    return {id(op) for op in operations.every()}


def test_every_route_of_the_api_and_the_console_names_an_operation_it_can_fill() -> None:
    assert problems("API", api_routes(), registry()) == []
    assert problems("console", console_pages(), registry()) == []


def test_a_console_page_names_only_operations_an_api_route_has() -> None:
    only_console = used(console_pages()) - used(api_routes())
    assert only_console == set(CONSOLE_ONLY), sorted(op.action for op in only_console)
    # and the API declares nothing outside the registry either way
    assert used(api_routes()) <= set(operations.every())


def test_a_page_that_builds_its_own_resource_or_misses_a_parameter_is_caught() -> None:
    router = APIRouter()
    own = operations.Operation("stream:CreateJob", operations.PROJECT + "/job/*")

    @router.post("/console/projects/{project}/jobs")
    async def rogue(principal: Any = guard.requires(own)) -> None:
        del principal

    @router.post("/console/clusters/{cluster}/versions")
    async def unfilled(principal: Any = guard.requires(operations.INSTALL_ENGINE_VERSION)) -> None:
        del principal

    @router.get("/console/buckets")
    async def unlisted(principal: Any = guard.requires(operations.LIST_BUCKETS)) -> None:
        del principal

    found = problems("console", router.routes, registry())
    assert len(found) == 3, found
    assert "not an operation of domain/operations.py" in found[0]
    assert "needs ['version']" in found[1]
    assert "hands a Listing" in found[2]


def test_an_operation_renders_its_resource_from_the_route_and_the_caller() -> None:
    job = operations.CREATE_JOB
    assert job.parameters == {"project", "name"}
    rendered = job.render(
        region="cn-hangzhou",
        account_id="1234",
        own="acs:ram::1234:user/dev",
        params={"project": "p1", "name": "secret-1", "other": "x"},
    )
    assert rendered == "acs:stream:cn-hangzhou:1234:p1/job/secret-1"
    assert (
        operations.GET_CALLER_IDENTITY.render(
            region="r", account_id="1", own="acs:ram::1:user/dev", params={}
        )
        == "acs:ram::1:user/dev"
    )
    # a parameter the request left out names nothing
    assert job.render(region="r", account_id="1", own="", params={"project": "p"}).endswith(
        ":p/job/"
    )
