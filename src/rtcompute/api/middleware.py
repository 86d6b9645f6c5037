"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task per request).

One pass gives every request an id and the security headers, caps its body, times it for
/metrics, logs one line for each request that failed on the server's side, and, for
state-changing calls, keeps the audit event: written with the change, completed before the
answer goes out (services/kernel/audit.py).

How much body a request may send is asked of `admit` (api/gate.py) before any of it is read:
a caller that is not authenticated sends none, or a small one to a public route.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rtcompute import errors
from rtcompute.api import security_headers
from rtcompute.console import routes as console_routes
from rtcompute.services.capacity import buckets
from rtcompute.services.kernel import audit, principals
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db

log = logging.getLogger("rtcompute.api")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDIT_LOST = "; its audit event could not be written or completed"


@dataclass(frozen=True)
class Allowance:
    """What a request may send: at most `limit` bytes, or nothing (None: the body is not
    read and the route runs with an empty one); passed on as it arrives when `streamed`,
    else read whole before the route runs."""

    limit: int | None
    streamed: bool = False


Admit = Callable[[Scope], Awaitable[Allowance]]


class BodyTooLarge(HTTPException):
    """A streamed body passed its limit while the route was reading it: a 413 (FastAPI lets
    an HTTPException raised while reading the body through, and app.py maps it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rtc_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rtc_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        # labelled children, looked up once per label set instead of once per request
        self._counts: dict[tuple[str, str, str], Any] = {}
        self._latencies: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        count_key = (method, route, str(status))
        count = self._counts.get(count_key)
        if count is None:
            count = self._counts[count_key] = self.requests.labels(*count_key)
        count.inc()
        latency = self._latencies.get((method, route))
        if latency is None:
            latency = self._latencies[(method, route)] = self.latency.labels(method, route)
        latency.observe(seconds)


def _error_body(code: str, message: str, request_id: str) -> bytes:
    return json.dumps({"code": code, "message": message, "request_id": request_id}).encode()


def renders_html(path: str) -> bool:
    """Whether errors on `path` are the console's pages (else the API's JSON)."""
    return not path.startswith("/api/") and path not in ("/healthz", "/readyz", "/metrics")


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        platform: platform_module.Platform,
        metrics: Metrics,
        admit: Admit,
        declared: Callable[[Scope], tuple[str, str] | None] = lambda scope: None,
    ) -> None:
        self.app = app
        self.platform = platform
        self.metrics = metrics
        self.admit = admit
        self.declared = declared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = self._request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_holder = [500]
        response_started = False
        extra_headers = [
            (b"x-request-id", request_id.encode()),
            *security_headers.for_path(scope["path"]),
        ]
        if scope["path"].startswith("/api/v1/"):
            # API answers are per caller and may carry secrets (a new key, a session token)
            extra_headers.append((b"cache-control", b"no-store"))
        # set when the body is left unread: the connection must not serve another request
        unread_body = [False]
        method = scope["method"]
        # the audit event of a state-changing call: written with its change, completed (or
        # written, when nothing changed) before the answer goes out
        trail = (
            audit.Trail(self.platform, lambda: _draft(scope, state))
            if method in STATE_CHANGING
            else None
        )

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                if trail is not None and "audit_action" not in state:
                    # refused before its route ran (a body that is not JSON, too large):
                    # the action its route declares
                    found = self.declared(scope)
                    if found is not None:
                        state["audit_action"], state["audit_resource"] = found
                if trail is not None and "audit_action" in state:
                    event = _event(scope, state, message["status"])
                    lost = await anyio.to_thread.run_sync(trail.finish, event)
                    if lost is not None:
                        state["audit_lost"] = lost
                closing = [(b"connection", b"close")] if unread_body[0] else []
                headers = [*message.get("headers", []), *extra_headers, *closing]
                if message["status"] == 503 and not any(k == b"retry-after" for k, _ in headers):
                    # every 503 says when to try again, a page that shows the refusal in its
                    # form as well as an error answer
                    headers.append((b"retry-after", str(db.RETRY_AFTER_SECONDS).encode()))
                message["headers"] = headers
            await send(message)

        try:
            if trail is not None:
                with db.on_write(trail):
                    allowance = await self.admit(scope)
                    await self._with_body(scope, receive, send_with_id, allowance, unread_body)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # An unhandled error would otherwise reach Starlette's outermost handler, which
            # answers without the request id header, uncounted and unaudited, and then the
            # server's, which logs its traceback every time. Answer here; the line below
            # logs it (its traceback once a minute: quietlog).
            state["error_cause"] = exc
            if not response_started:
                unread_body[0] = True  # its body may be half read: close after the answer
                await self._send_failure(scope, send_with_id, exc)
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        status = status_holder[0]
        self.metrics.observe(method, template, status, time.perf_counter() - started)
        lost = state.get("audit_lost")
        if status >= 500 and template != "/readyz":  # not ready is an answer, not a failure
            cause = state.get("error_cause") or lost
            log.warning(
                "%s %s answered %d %s (request %s)%s",
                method,
                template,
                status,
                state.get("error_code", ""),
                request_id,
                AUDIT_LOST if lost is not None else "",
                exc_info=cause if isinstance(cause, BaseException) else None,
            )
        elif lost is not None:
            log.error(
                "%s %s answered %d (request %s)" + AUDIT_LOST,
                method,
                template,
                status,
                request_id,
                exc_info=lost,
            )

    async def _send_failure(self, scope: Scope, send: Send, exc: Exception) -> None:
        """503 for a fault of the database (it may pass: `Retry-After`), else 500."""
        if isinstance(exc, errors.Unavailable) or db.is_fault(exc):
            error = exc if isinstance(exc, errors.Unavailable) else db.unavailable(exc)
            if exc.__cause__ is not None:
                scope["state"]["error_cause"] = exc.__cause__
            language = errors.accepted_language(_text_header(scope, b"accept-language"))
            await self._send_error_answer(
                scope,
                send,
                503,
                error.code,
                error.text(language),
                [(b"retry-after", str(error.retry_after).encode())],
            )
        else:
            message = "an internal error occurred; quote the request id"
            await self._send_error_answer(scope, send, 500, "InternalError", message)

    @staticmethod
    def _request_id(scope: Scope) -> str:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if REQUEST_ID.fullmatch(candidate):
                    return str(candidate)
        return os.urandom(16).hex()

    async def _with_body(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        allowance: Allowance,
        unread_body: list[bool],
    ) -> None:
        """Run the app with the body the allowance lets through, or answer 413."""
        limit = allowance.limit
        if limit is None:
            # refused unread: the route answers from an empty body (its 401, its audit)
            unread_body[0] = _announces_body(scope)
            await self.app(scope, _replay(b""), send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._reject_too_large(scope, send, limit, unread_body)
        elif allowance.streamed:
            await self.app(scope, _capped(receive, limit, unread_body), send)
        else:
            body = await self._read_body(receive, limit)
            if body is None:
                await self._reject_too_large(scope, send, limit, unread_body)
            else:
                await self.app(scope, _replay(body), send)

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None once it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _reject_too_large(
        self, scope: Scope, send: Send, limit: int, unread_body: list[bool]
    ) -> None:
        """413 before the route runs."""
        unread_body[0] = True
        await self._send_error_answer(scope, send, 413, "PayloadTooLarge", _too_large(limit))

    @staticmethod
    async def _send_error_answer(
        scope: Scope,
        send: Send,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """An error answered here, not by a route: JSON, or the console's page on its paths."""
        state = scope["state"]
        state["error_code"] = code
        if renders_html(scope["path"]):
            page = console_routes.render_error(Request(scope), status, code, message)
            page.raw_headers.extend(headers or [])
            await page(scope, _replay(b""), send)
            return
        body = _error_body(code, message, state["request_id"])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *(headers or []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {buckets.size_text(limit)}"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _text_header(scope: Scope, name: bytes) -> str | None:
    value = _header(scope, name)
    return None if value is None else value.decode("latin-1")


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length the client announced, when it announced a readable one."""
    value = _header(scope, b"content-length")
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return int(value)


def _announces_body(scope: Scope) -> bool:
    declared = _declared_length(scope)
    return bool(declared) or _header(scope, b"transfer-encoding") is not None


def _capped(receive: Receive, limit: int, unread_body: list[bool]) -> Receive:
    """`receive`, passing the body on as it arrives, raising BodyTooLarge past `limit`."""
    size = 0

    async def capped() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                unread_body[0] = True
                raise BodyTooLarge(limit)
        return message

    return capped


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _draft(scope: Scope, state: dict[str, Any]) -> audit.Event | None:
    """The event of a success, once the request is allowed to make its change (a write on
    the way there, such as a session's last use, is not the change: None)."""
    if "audit_action" not in state or not state.get("audit_allowed"):
        return None
    return _event(scope, state, 200)


def _event(scope: Scope, state: dict[str, Any], status: int) -> audit.Event:
    if status < 400:
        outcome = "success"
    elif status == 403 and state.get("error_code") in ("Forbidden.RAM", "SignupDisabled"):
        outcome = "denied"
    else:
        outcome = "failed"
    principal = state.get("principal")
    return audit.Event(
        action=state["audit_action"],
        resource=state.get("audit_resource", ""),
        outcome=outcome,
        principal=principal if isinstance(principal, principals.Principal) else None,
        context=principals.RequestContext(
            source_ip=client_ip(scope),
            secure_transport=scope.get("scheme") == "https",
            request_id=state["request_id"],
        ),
        error_code=state.get("error_code", "") if status >= 400 else "",
        detail=state.get("audit_detail", ""),
        claimed_account_id=state.get("audit_account_id"),
        claimed_principal=state.get("audit_claimed", ""),
    )
