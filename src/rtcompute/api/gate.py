"""Who may send a request body, and how much: decided from the headers, before any of it.

The middleware reads a body before the route runs (FastAPI parses JSON and forms before it
calls the route's dependencies, authentication among them), so an anonymous client could make
the server hold a whole 64 MiB upload per request: eight of them took a server from 198 MB
to 911 MB. The gate decides first:

- a public route (sign-in, sign-up: the routes that declare `public`) may be sent a small
  body, `ANONYMOUS_MAX_BODY`, whoever sends it: its forms hold a few hundred bytes;
- any other route needs a valid credential, the one its route will check (the bearer token
  on `/api/`, the session cookie on the console), verified the route's way: a token verified
  moments ago is a SHA-256 and a dict lookup in the credential cache, on the event loop; a
  miss is the database read the route would have made anyway (and, the cache on, the
  route's lookup is then a hit);
- without one, the route runs with an empty body and answers as it always does (401, or the
  console's sign-in page; the audit event of a refused write included); the body is never
  read and the connection is closed after the answer.

A verified caller then gets its route's limit: object uploads their own, larger one, passed
on as the body arrives (the routes spool them to disk), every other body up to
`max_body_bytes`, read whole first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Scope

from rtcompute import errors
from rtcompute.api import deps, middleware
from rtcompute.console import auth as console_auth
from rtcompute.console import guard
from rtcompute.domain import credentials
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import sessions

# what an anonymous caller may send to a public route: a sign-up form with every field at its
# longest is under 8 KiB, even URL-encoded
ANONYMOUS_MAX_BODY = 16 * 1024
# object uploads carry the object itself: their own, larger body limit
OBJECT_UPLOAD = re.compile(r"^/api/v1/buckets/[^/]+/objects/.")
# the console's multipart upload form: the object plus a few form fields
CONSOLE_UPLOAD = re.compile(r"^/console/buckets/[^/]+/objects$")
CONSOLE_FORM_OVERHEAD = 64 * 1024


def is_public(route: APIRoute) -> bool:
    """Whether the route declared itself public (`deps.public` or `guard.public`)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, deps.Public | guard.Public):
            return True
        pending.extend(dependant.dependencies)
    return False


def declared_action(route: APIRoute) -> tuple[str, str] | None:
    """The action and resource a route declares for the audit (`requires` or `public`, the
    API's or the console's), None when it audits nothing."""
    pending = list(route.dependant.dependencies)
    while pending:
        call = (dependant := pending.pop()).call
        if isinstance(call, deps.Requires):
            return call.action, call.operation.resource
        if isinstance(call, guard.Requires):
            return (call.action, call.operation.resource) if call.audited else None
        if isinstance(call, deps.AgentCall) and not call.audited:
            return None
        if isinstance(call, deps.Public | guard.Public):
            return (call.action, "") if call.action else None
        pending.extend(dependant.dependencies)
    return None


def credential(request: Request) -> str | None:
    """The credential the request's route will check: a bearer token on the API, the session
    cookie on the console; None when there is none."""
    if request.url.path.startswith("/api/"):
        try:
            return deps.bearer_token(request)
        except errors.Unauthenticated:
            return None
    token = console_auth.session_token(request)
    return token if token and token.startswith(credentials.SESSION_PREFIX) else None


class Gate:
    def __init__(self, platform: platform_module.Platform, routes: Iterable[Any]) -> None:
        self.platform = platform
        api_routes = [r for r in routes if isinstance(r, APIRoute)]
        self.public_routes = [r for r in api_routes if is_public(r)]
        self.declaring = [
            (route, found) for route in api_routes if (found := declared_action(route))
        ]
        self.max_body = platform.settings.max_body_bytes
        self.max_object = platform.settings.storage.max_object_bytes

    def declared(self, scope: Scope) -> tuple[str, str] | None:
        """The action and resource the request's route declares: for the audit event of a
        request refused before its route ran (a body that is not JSON, too large)."""
        for route, found in self.declaring:
            if route.matches(scope)[0] is Match.FULL:
                return found
        return None

    async def admit(self, scope: Scope) -> middleware.Allowance:
        """The body this state-changing request may send."""
        if any(route.matches(scope)[0] is Match.FULL for route in self.public_routes):
            return middleware.Allowance(min(ANONYMOUS_MAX_BODY, self.max_body))
        if not await self.authenticated(Request(scope)):
            return middleware.Allowance(None)
        method, path = scope["method"], scope["path"]
        if method == "PUT" and OBJECT_UPLOAD.match(path):
            return middleware.Allowance(self.max_object, streamed=True)
        if method == "POST" and CONSOLE_UPLOAD.match(path):
            return middleware.Allowance(self.max_object + CONSOLE_FORM_OVERHEAD, streamed=True)
        return middleware.Allowance(self.max_body)

    async def authenticated(self, request: Request) -> bool:
        """Whether the request carries a valid credential (its route checks it again, from
        the cache this fills)."""
        token = credential(request)
        if token is None:
            return False
        if sessions.cached(self.platform, token) is not None:
            return True
        try:
            await deps.authenticate_once(request, self.platform, token)
        except errors.Unavailable:
            raise  # the database, not the credential: 503, never a body dropped as anonymous
        except errors.RtcError:
            return False
        return True
