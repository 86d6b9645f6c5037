"""Every console route declares an operation, or says it is public.

The same rule as the API's `deps.py`, with the same operations (`domain/operations.py`: the
page for an operation and its API route name the same one), for cookie sessions: the
dependency resolves the principal from the session cookie, checks CSRF on state-changing
methods, then asks `authz.decide_request` about the operation's action and resource, and
leaves what the audit middleware needs on `request.state`. `declarations()` lists what each
route declared, so a test can fail on a route that declares nothing.
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
from rtcompute.domain import credentials, operations, policies
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals, sessions


def platform_of(request: Request) -> platform_module.Platform:
    platform: platform_module.Platform = request.app.state.platform
    return platform


async def parameters(
    request: Request, operation: operations.Operation, fallbacks: Mapping[str, str]
) -> dict[str, str]:
    """The operation's parameters: the path's, else the form's field of the name (else, for
    a name in `fallbacks`, the file name of that upload field). Made storable first (what
    the audit trail can hold); a name changed that way names nothing that exists, so the
    service refuses it as unknown."""
    values = {k: str(v) for k, v in request.path_params.items() if k in operation.parameters}
    missing = operation.parameters - values.keys()
    if missing and request.method in auth.STATE_CHANGING:
        form = await request.form()
        for name in missing:
            value = form.get(name)
            if (not isinstance(value, str) or not value.strip()) and name in fallbacks:
                upload = form.get(fallbacks[name])
                value = getattr(upload, "filename", None) or ""
            if isinstance(value, str):
                values[name] = value.strip()
    return {key: fields.for_audit(value) for key, value in values.items()}


def render(
    request: Request,
    principal: principals.Principal,
    operation: operations.Operation,
    params: Mapping[str, str],
) -> str:
    """The operation's resource for this caller (`params` already storable)."""
    return authz.resource_of(platform_of(request), principal, operation, params)


def source_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def context_of(request: Request) -> principals.RequestContext:
    return principals.RequestContext(
        source_ip=source_ip(request),
        secure_transport=request.url.scheme == "https",
        request_id=getattr(request.state, "request_id", ""),
    )


async def decision(
    request: Request, principal: principals.Principal, action: str, resource: str
) -> policies.Verdict:
    context = context_of(request)
    return await authz.decide_request(platform_of(request), principal, action, resource, context)


async def refused(
    request: Request,
    principal: principals.Principal,
    action: str,
    resource: str,
    verdict: policies.Verdict,
) -> errors.Forbidden:
    """The 403 of a denied call, its denied read audited as the API's is (authz.refused)."""
    return await authz.refused(
        platform_of(request),
        principal,
        action,
        resource,
        verdict,
        context_of(request),
        read=request.method not in auth.STATE_CHANGING,
    )


async def allowed_or_raise(
    request: Request, principal: principals.Principal, action: str, resource: str
) -> None:
    verdict = await decision(request, principal, action, resource)
    if verdict.decision is not policies.Decision.ALLOW:
        raise await refused(request, principal, action, resource, verdict)


async def signed_in(request: Request) -> principals.Principal:
    """The principal of the session cookie; only console sessions, never access keys."""
    token = auth.session_token(request)
    if token is None or not token.startswith(credentials.SESSION_PREFIX):
        raise errors.Unauthenticated("sign in first", "请先登录", code="MissingCredentials")
    principal = await anyio.to_thread.run_sync(sessions.authenticate, platform_of(request), token)
    request.state.principal = principal
    return principal


class Requires:
    """A signed-in route: its operation decided, CSRF checked on writes.

    `audited=False` marks a POST that changes nothing (live validation of a document typed
    in an editor): its refusals are audited like any other, its successes are not, so the
    trail does not fill with one event per keystroke. `fallbacks` names, for a parameter
    the form may leave empty, the upload field whose file name stands in for it.
    """

    def __init__(
        self,
        operation: operations.Operation,
        *,
        audited: bool = True,
        fallbacks: Mapping[str, str] | None = None,
    ) -> None:
        self.operation = operation
        self.action = operation.action
        self.audited = audited
        self.fallbacks = dict(fallbacks or {})

    async def resource(self, request: Request, principal: principals.Principal) -> str:
        params = await parameters(request, self.operation, self.fallbacks)
        return render(request, principal, self.operation, params)

    async def __call__(self, request: Request) -> principals.Principal:
        request.state.audit_action = self.action
        principal = await signed_in(request)
        resource = await self.resource(request, principal)
        request.state.audit_resource = resource
        if request.method in auth.STATE_CHANGING:
            await auth.check_session_csrf(request, principal.csrf_token)
        await allowed_or_raise(request, principal, self.action, resource)
        if not self.audited:
            del request.state.audit_action
        request.state.audit_allowed = True  # what the page writes now is the change
        return principal


T = TypeVar("T")


class Allowed:
    """What the caller may do on a page, by section: `may["attach"]`, `may.attach` in a
    template (a plain dict would answer `may.update` and `may.keys` with its own methods)."""

    def __init__(self, sections: Mapping[str, bool]) -> None:
        self._sections = dict(sections)

    def __getitem__(self, section: str) -> bool:
        return self._sections[section]

    def __getattr__(self, section: str) -> bool:
        if section.startswith("_"):
            raise AttributeError(section)
        try:
            return self._sections[section]
        except KeyError:
            raise AttributeError(section) from None


async def may(
    request: Request,
    principal: principals.Principal,
    sections: Mapping[str, operations.Operation],
    **params: str,
) -> Allowed:
    """For each section of a page (a button, a list): may the caller do its operation on
    the resource `params` name, as the operation's own route would decide."""
    safe = {key: fields.for_audit(value) for key, value in params.items()}
    result = {}
    for section, operation in sections.items():
        resource = render(request, principal, operation, safe)
        verdict = await decision(request, principal, operation.action, resource)
        result[section] = verdict.decision is policies.Decision.ALLOW
    return Allowed(result)


async def require(
    request: Request,
    principal: principals.Principal,
    operation: operations.Operation,
    **params: str,
) -> None:
    """Inside a page: the operation on the resource `params` name, or its 403."""
    safe = {key: fields.for_audit(value) for key, value in params.items()}
    resource = render(request, principal, operation, safe)
    await allowed_or_raise(request, principal, operation.action, resource)


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
            raise await refused(self.request, self.principal, self.action, resource, verdict)
        return shown


class RequiresListing(Requires):
    """A list page: the action on the collection, or else on each item shown."""

    async def __call__(self, request: Request) -> Listing:  # type: ignore[override]
        request.state.audit_action = self.action
        principal = await signed_in(request)
        resource = await self.resource(request, principal)
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
            request.state.audit_allowed = True
        if request.method in auth.STATE_CHANGING:
            await auth.check_presession_csrf(request)


def requires(
    operation: operations.Operation,
    *,
    audited: bool = True,
    fallbacks: Mapping[str, str] | None = None,
) -> Any:
    """The page's operation: a listing one gives the page a `Listing`, else the caller."""
    kind = RequiresListing if operation.listing else Requires
    return Depends(kind(operation, audited=audited, fallbacks=fallbacks))


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
