"""Request dependencies: the platform, the caller, and the one authorization check.

Every route declares `requires(operation)` (an operation of `domain/operations.py`, the one
the console's page for it names too) or `public(action)`; a test walks the app and fails on
any route that declares neither (deny by default, checked, not hoped).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request

from rtcompute import errors
from rtcompute.api.schemas import base as base_schemas
from rtcompute.console import guard
from rtcompute.domain import credentials, operations, policies, signatures
from rtcompute.services.capacity import hosts as host_service
from rtcompute.services.iam import authz
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals, sessions

# Every API route path starts with this. The route modules put it in their own router's
# prefix: FastAPI keeps an included router's prefix out of `APIRoute.path`, and that path
# is the route template of the metrics and of the declared-routes test.
API_PREFIX = "/api/v1"
T = TypeVar("T")


# Every error answer has this body; documented on every route, so that generated clients
# and the docs page show it (FastAPI would otherwise document 422 as its own shape).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": base_schemas.ErrorBody, "description": description}
    for status, description in (
        (400, "bad input: the code says which rule"),
        (401, "missing, wrong or expired credentials; or a sign-in code is needed"),
        (403, "not allowed"),
        (404, "not found"),
        (409, "conflict or limit reached"),
        (
            413,
            "body over the limit (1 MiB; object uploads: RTC_STORAGE__MAX_OBJECT_BYTES; "
            "anonymous, to sign-in and sign-up: 16 KiB)",
        ),
        (422, "a field is missing, of the wrong type, unknown or too long"),
    )
}


def get_platform(request: Request) -> platform_module.Platform:
    platform: platform_module.Platform = request.app.state.platform
    return platform


async def _platform(request: Request) -> platform_module.Platform:
    """As a dependency: async, so that FastAPI calls it on the event loop (a plain function
    would cost a worker-thread hop on every request)."""
    return get_platform(request)


PlatformDep = Annotated[platform_module.Platform, Depends(_platform)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthenticated(
            "sign in first: send `Authorization: Bearer <access-key-id>:<secret>` or use "
            "`rtc login`",
            "请先登录：发送 `Authorization: Bearer <access-key-id>:<secret>` 请求头，或使用 "
            "`rtc login`",
            code="MissingCredentials",
        )
    return token.strip()


async def current_principal(request: Request) -> principals.Principal:
    platform = get_platform(request)
    token = bearer_token(request)
    # a credential verified moments ago is answered from memory, on the event loop; only a
    # miss pays the thread hop and the database read
    principal = sessions.cached(platform, token)
    if principal is None:
        principal = await authenticate_once(request, platform, token)
    request.state.principal = principal
    return principal


async def authenticate_once(
    request: Request, platform: platform_module.Platform, token: str
) -> principals.Principal:
    """Verify a token in a worker thread; concurrent requests with the same token share one
    verification. Without this, every in-flight request of a busy client misses the cache
    at the same moment when its entry expires, and the pile of thread hops stalls the loop."""
    inflight: dict[str, asyncio.Future[principals.Principal]] = request.app.state.inflight_auth
    key = credentials.digest(token)
    pending = inflight.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future: asyncio.Future[principals.Principal] = asyncio.get_running_loop().create_future()
    inflight[key] = future
    try:
        principal = await anyio.to_thread.run_sync(sessions.authenticate, platform, token)
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited
        raise
    finally:
        del inflight[key]
    future.set_result(principal)
    return principal


# source IP, TLS and request id: what policies' conditions and the audit need (the console's
# own, the same for both)
request_context = guard.context_of


async def parameters(request: Request, operation: operations.Operation) -> dict[str, str]:
    """The operation's parameters: the path's, else the JSON body's text field of the name
    (FastAPI has read and cached the body)."""
    values = {k: str(v) for k, v in request.path_params.items() if k in operation.parameters}
    if operation.parameters - values.keys():
        try:
            parsed = await request.json()
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            for name in operation.parameters - values.keys():
                if isinstance(parsed.get(name), str):
                    values[name] = parsed[name]
    return values


async def render_resource(
    operation: operations.Operation, principal: principals.Principal, request: Request
) -> str:
    params = await parameters(request, operation)
    return authz.resource_of(get_platform(request), principal, operation, params)


# the decision on one action and resource for this request's caller and context, and the
# 403 of a denied one with its denied read audited: the console's, the same for both
check = guard.decision
refusal = guard.refused


class Requires:
    """The declared operation of a route, checked against the caller."""

    def __init__(self, operation: operations.Operation) -> None:
        self.operation = operation
        self.action = operation.action

    async def decide(self, request: Request) -> tuple[principals.Principal, str, policies.Verdict]:
        """The caller, the rendered resource and the decision; the audit fields set on the way."""
        request.state.audit_action = self.action
        request.state.audit_resource = self.operation.resource
        principal = await current_principal(request)
        resource = await render_resource(self.operation, principal, request)
        request.state.audit_resource = resource
        return principal, resource, await check(request, principal, self.action, resource)

    async def __call__(self, request: Request) -> principals.Principal:
        principal, resource, verdict = await self.decide(request)
        if verdict.decision is not policies.Decision.ALLOW:
            raise await refusal(request, principal, self.action, resource, verdict)
        request.state.audit_allowed = True  # what the route writes now is the change
        return principal


class Listing:
    """What a list route may show: everything, or the items the caller may see one by one.

    Guide: a sub-account granted one project (`acs:stream:*:*:projectname`) lists that project
    and nothing else. A caller allowed none of the items is refused, as for any other route.
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
    def owner(self) -> str | None:
        """Whose list this is when the caller sees the whole collection (its account: the
        answer is the same for every identity of it); None when it sees part of it."""
        return self.principal.account_id if self.denied is None else None

    async def visible(self, items: list[T], resource_of: Callable[[T], str]) -> list[T]:
        if self.denied is None:
            return items
        shown = [
            item
            for item in items
            if (await check(self.request, self.principal, self.action, resource_of(item))).decision
            is policies.Decision.ALLOW
        ]
        if not shown:
            resource, verdict = self.denied
            raise await refusal(self.request, self.principal, self.action, resource, verdict)
        return shown


class RequiresListing(Requires):
    """A list route: the action on the collection, or else on each item shown."""

    async def __call__(self, request: Request) -> Listing:  # type: ignore[override]
        principal, resource, verdict = await self.decide(request)
        if verdict.decision is policies.Decision.ALLOW:
            return Listing(request, principal, self.action, None)
        if verdict.decision is policies.Decision.EXPLICIT_DENY:
            raise await refusal(request, principal, self.action, resource, verdict)
        return Listing(request, principal, self.action, (resource, verdict))


class Public:
    """A route anyone may call (sign-in, sign-up, health); the action names it in the audit."""

    def __init__(self, action: str) -> None:
        self.action = action

    async def __call__(self, request: Request) -> None:
        request.state.audit_action = self.action
        request.state.audit_allowed = True


class AgentCall(Public):
    """A call a node agent signs with its host's key (domain/signatures.py): the route's
    `host_id` names the host, whose stored public key must verify the request. The gate sees
    it as public (small bodies); the route runs only for the host's own agent. A heartbeat
    is not audited (`audited=False`): a report every few seconds is no change anyone made."""

    replays = signatures.Replays()

    def __init__(self, action: str, *, audited: bool = True) -> None:
        super().__init__(action)
        self.audited = audited

    async def __call__(self, request: Request) -> None:
        if self.audited:
            request.state.audit_action = self.action
            request.state.audit_allowed = True
        host_id = str(request.path_params.get("host_id", ""))
        if (
            not host_id.isdigit()
            or len(host_id) > 12
            or request.headers.get(signatures.KEY_HEADER) != f"host-{host_id}"
        ):
            raise errors.Unauthenticated(
                "this call is not signed by the host's agent",
                "此调用未由该主机的代理签名",
                code="Agent.BadSignature",
            )
        platform = get_platform(request)
        public = await anyio.to_thread.run_sync(
            lambda: host_service.public_key_of(platform, int(host_id))
        )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            nonce = signatures.verify_request(
                public,
                request.headers,
                request.method,
                target,
                await request.body(),
                now=time.time(),
                replays=self.replays,
            )
        except signatures.BadSignature as exc:
            raise errors.Unauthenticated(
                f"the agent's signature does not hold: {exc}",
                f"代理的签名无效：{exc}",
                code="Agent.BadSignature",
            ) from None
        request.state.agent_nonce = nonce


def agent_call(action: str, *, audited: bool = True) -> Any:
    return Depends(AgentCall(action, audited=audited))


def requires(operation: operations.Operation) -> Any:
    """The route's operation: a listing one gives the route a `Listing`, else the caller."""
    return Depends(RequiresListing(operation) if operation.listing else Requires(operation))


def public(action: str) -> Any:
    return Depends(Public(action))


def audit_claim(request: Request, *, account_id: str | None, claimed: str, resource: str) -> None:
    """For public calls: who the caller claimed to be, for the audit trail."""
    request.state.audit_account_id = account_id
    request.state.audit_claimed = claimed
    request.state.audit_resource = resource


async def _context(request: Request) -> principals.RequestContext:
    return request_context(request)


ContextDep = Annotated[principals.RequestContext, Depends(_context)]


def language(request: Request) -> str:
    """The Accept-Language language, `zh` or `en`: the platform's own texts, job and cluster
    messages and reasons are answered in it, as errors are (errors.accepted_language)."""
    return errors.accepted_language(request.headers.get("accept-language"))
