"""Every console route declares an action and a resource, or says it is public.

The same rule as the API's `deps.py`, for cookie sessions: the dependency resolves the
principal from the session cookie, checks CSRF on state-changing methods, then asks
`authz.decide_request` about the declared action and resource, and leaves what the audit
middleware needs on `request.state`. `declarations()` lists what each route declared, so a
test can fail on a route that declares nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.routing import APIRoute

from rtcompute import errors
from rtcompute.console import auth, fields
from rtcompute.domain import credentials, policies, resources
from rtcompute.services import authz, principals, sessions
from rtcompute.services import platform as platform_module

ResourceOf = Callable[[platform_module.Platform, principals.Principal], str]


def platform_of(request: Request) -> platform_module.Platform:
    platform: platform_module.Platform = request.app.state.platform
    return platform


def own_identity(platform: platform_module.Platform, principal: principals.Principal) -> str:
    del platform
    return authz.own_resource(principal)


def own_trail(platform: platform_module.Platform, principal: principals.Principal) -> str:
    return resources.audit_trail(platform.settings.region, principal.account_id)


def in_account(service: str, relative_id: str, *, regional: bool = True) -> ResourceOf:
    """Resources of the caller's account, e.g. `acs:rtc:<region>:<account>:order/*`."""

    def resource(platform: platform_module.Platform, principal: principals.Principal) -> str:
        region = platform.settings.region if regional else ""
        return str(resources.ResourceName(service, region, principal.account_id, relative_id))

    return resource


@dataclass(frozen=True)
class PathResource:
    """A resource named by the route's path, e.g. `acs:ram::<account>:user/{user}`.

    The path parameters are made storable first (what the audit trail can hold); a name
    changed that way names nothing that exists, so the service refuses it as unknown.
    """

    service: str
    template: str
    regional: bool = False

    def render(
        self,
        platform: platform_module.Platform,
        principal: principals.Principal,
        params: Mapping[str, str],
    ) -> str:
        safe = {key: fields.for_audit(str(value)) for key, value in params.items()}
        region = platform.settings.region if self.regional else ""
        relative_id = self.template.format(**safe)
        return str(resources.ResourceName(self.service, region, principal.account_id, relative_id))


def at_path(service: str, template: str, *, regional: bool = False) -> PathResource:
    """A resource of the caller's account named by path parameters: `user/{user}`."""
    return PathResource(service, template, regional)


def source_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def decision(
    request: Request, principal: principals.Principal, action: str, resource: str
) -> policies.Verdict:
    context = principals.RequestContext(
        source_ip=source_ip(request), secure_transport=request.url.scheme == "https"
    )
    return await authz.decide_request(platform_of(request), principal, action, resource, context)


async def allowed_or_raise(
    request: Request, principal: principals.Principal, action: str, resource: str
) -> None:
    verdict = await decision(request, principal, action, resource)
    if verdict.decision is not policies.Decision.ALLOW:
        raise authz.denied(principal, action, resource, verdict)


async def signed_in(request: Request) -> principals.Principal:
    """The principal of the session cookie; only console sessions, never access keys."""
    token = auth.session_token(request)
    if token is None or not token.startswith(credentials.SESSION_PREFIX):
        raise errors.Unauthenticated("sign in first", code="MissingCredentials")
    principal = await anyio.to_thread.run_sync(sessions.authenticate, platform_of(request), token)
    request.state.principal = principal
    return principal


class Requires:
    """A signed-in route: declared action on a resource, CSRF checked on writes.

    `audited=False` marks a POST that changes nothing (live validation of a document typed
    in an editor): its refusals are audited like any other, its successes are not, so the
    trail does not fill with one event per keystroke.
    """

    def __init__(
        self, action: str, resource: ResourceOf | PathResource, *, audited: bool = True
    ) -> None:
        self.action = action
        self.resource = resource
        self.audited = audited

    async def __call__(self, request: Request) -> principals.Principal:
        request.state.audit_action = self.action
        principal = await signed_in(request)
        platform = platform_of(request)
        if isinstance(self.resource, PathResource):
            resource = self.resource.render(platform, principal, request.path_params)
        else:
            resource = self.resource(platform, principal)
        request.state.audit_resource = resource
        if request.method in auth.STATE_CHANGING:
            await auth.check_session_csrf(request, principal.csrf_token)
        await allowed_or_raise(request, principal, self.action, resource)
        if not self.audited:
            del request.state.audit_action
        return principal


T = TypeVar("T")


class Listing:
    """What a console list may show: everything, or the items the caller may see one by one.

    The API's rule (api/deps.py): a sub-account granted one project (`acs:stream:*:*:name`)
    lists that project and nothing else; a caller allowed none of the items is refused.
    """

    def __init__(
        self,
        request: Request,
        principal: principals.Principal,
        action: str,
        denied: tuple[str, policies.Verdict] | None,
    ) -> None:
        self.request = request
        self.principal = principal
        self.action = action
        self.denied = denied  # the collection's resource and verdict, when not allowed

    @property
    def whole(self) -> bool:
        return self.denied is None

    async def visible(self, items: list[T], resource_of: Callable[[T], str]) -> list[T]:
        if self.denied is None:
            return items
        shown = [
            item
            for item in items
            if (
                await decision(self.request, self.principal, self.action, resource_of(item))
            ).decision
            is policies.Decision.ALLOW
        ]
        if not shown:
            resource, verdict = self.denied
            raise authz.denied(self.principal, self.action, resource, verdict)
        return shown


class RequiresListing(Requires):
    """A list page: the action on the collection, or else on each item shown."""

    async def __call__(self, request: Request) -> Listing:  # type: ignore[override]
        request.state.audit_action = self.action
        principal = await signed_in(request)
        platform = platform_of(request)
        if isinstance(self.resource, PathResource):
            resource = self.resource.render(platform, principal, request.path_params)
        else:
            resource = self.resource(platform, principal)
        request.state.audit_resource = resource
        verdict = await decision(request, principal, self.action, resource)
        allowed = verdict.decision is policies.Decision.ALLOW
        return Listing(request, principal, self.action, None if allowed else (resource, verdict))


class Public:
    """A route anyone may use (sign-in, sign-up); writes still need the double-submit token."""

    def __init__(self, action: str | None) -> None:
        self.action = action

    async def __call__(self, request: Request) -> None:
        if self.action is not None:
            request.state.audit_action = self.action
            request.state.audit_resource = ""
        if request.method in auth.STATE_CHANGING:
            await auth.check_presession_csrf(request)


def requires(action: str, resource: ResourceOf | PathResource, *, audited: bool = True) -> Any:
    return Depends(Requires(action, resource, audited=audited))


def requires_listing(action: str, resource: ResourceOf | PathResource) -> Any:
    return Depends(RequiresListing(action, resource))


def public(action: str | None = None) -> Any:
    return Depends(Public(action))


@dataclass(frozen=True)
class Declaration:
    path: str
    methods: frozenset[str]
    action: str | None
    public: bool


def declaration_of(route: APIRoute) -> Declaration | None:
    """What a route declared, found among its dependencies; None when it declared nothing."""
    methods = frozenset(route.methods or ())
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        call = dependant.call
        if isinstance(call, Requires):
            return Declaration(route.path, methods, call.action, public=False)
        if isinstance(call, Public):
            return Declaration(route.path, methods, call.action, public=True)
        pending.extend(dependant.dependencies)
    return None


def declarations(routes: Iterable[Any]) -> list[Declaration]:
    """The declaration of every route; a route that declared nothing raises at import."""
    found = []
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        declared = declaration_of(route)
        if declared is None:
            raise TypeError(f"console route {route.path} declares no action and is not public")
        found.append(declared)
    return found
