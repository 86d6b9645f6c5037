"""The ASGI application: API routers, the console, health, metrics; errors mapped once.

Domain errors are mapped to HTTP here, by base class, and nowhere else. Every error body is
`{code, message, request_id}`; the console gets the same errors as an HTML page.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

import rtcompute
from rtcompute import errors, http_status
from rtcompute.api import answers, deps, gate, middleware
from rtcompute.api.routes import (
    access_keys,
    accounts,
    audit_events,
    auth,
    buckets,
    catalog,
    clusters,
    engines,
    hosts,
    jobs,
    networks,
    orders,
    projects,
    ram_groups,
    ram_policies,
    ram_roles,
    ram_users,
    zones,
)
from rtcompute.console import routes as console_routes
from rtcompute.services.kernel import health
from rtcompute.services.kernel import platform as platform_module

log = logging.getLogger("rtcompute.api")

HTTP_CODES = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
    *,
    error: errors.RtcError | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error body of the API, or the console's error page on a console path (in the
    page's language: `error` carries both sentences)."""
    request.state.error_code = code
    request_id = getattr(request.state, "request_id", "")
    headers = dict(headers or {})
    if isinstance(error, errors.Unavailable):
        headers["Retry-After"] = str(error.retry_after)
    if middleware.renders_html(request.url.path):
        page = console_routes.render_error(request, status, code, message, error=error)
        page.headers.update(headers)
        return page
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    body.update(extra or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def localized(request: Request, exc: errors.RtcError) -> str:
    """The error's message in the Accept-Language language (English where it has no other)."""
    return exc.text(errors.accepted_language(request.headers.get("accept-language")))


def allowed_methods(request: Request) -> list[str]:
    """The methods the request's path answers (RFC 9110 `Allow`), over all its routes (the
    console's routers are included whole: their routes are listed at start, `all_routes`)."""
    methods: set[str] = set()
    # from the app's root, whether the 405 came from inside a mount (the static files) or not
    scope = {**request.scope, "root_path": "", "path": request.url.path}
    for route in request.app.state.all_routes:
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):  # the static files
            methods.update(("GET", "HEAD"))
        else:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return "MalformedJSON", "the request body is not valid JSON"
    parts = []
    for problem in problems[:5]:
        where = ".".join(str(x) for x in problem.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "InvalidParameter", "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.RtcError)
        if isinstance(exc, errors.Unavailable) and exc.__cause__ is not None:
            request.state.error_cause = exc.__cause__  # for the request's log line
        extra = exc.details()
        message = localized(request, exc)
        status = http_status.status_of(exc)
        return error_response(request, status, exc.code, message, extra, error=exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        code, message = _validation_message(exc)
        status = 400 if code == "MalformedJSON" else 422
        return error_response(request, status, code, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTP_CODES.get(exc.status_code, f"Http{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404:
            message = f"no such path: {request.url.path[:200]}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not the first route's alone
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(request, exc.status_code, code, message, headers=headers)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(
            request, 500, "InternalError", "an internal error occurred; quote the request id"
        )

    app.add_exception_handler(errors.RtcError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


API_MODULES = (
    auth,
    access_keys,
    audit_events,
    accounts,
    ram_users,
    ram_groups,
    ram_policies,
    ram_roles,
    projects,
    catalog,
    orders,
    clusters,
    zones,
    hosts,
    networks,
    buckets,
    engines,
    jobs,
)


def create_app(
    platform: platform_module.Platform,
    *,
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> FastAPI:
    """The app; `on_start` / `on_stop` run in its lifespan (uvicorn re-raises SIGTERM after
    serving, so code after `uvicorn.run` would never run on a signal)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if on_start is not None:
            on_start()
        try:
            yield
        finally:
            if on_stop is not None:
                await anyio.to_thread.run_sync(on_stop)

    app = FastAPI(
        lifespan=lifespan,
        title="rtcompute",
        version=rtcompute.__version__,
        description="Managed Apache Flink, self-hosted. Authenticate with "
        "`Authorization: Bearer <access-key-id>:<secret>` or a token from `POST /api/v1/sessions`.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # served below from local files: an installation may have no internet
        redoc_url=None,
    )
    app.state.platform = platform
    app.state.inflight_auth = {}
    app.state.answers = answers.Answers(platform.settings.answer_cache_seconds)
    metrics = middleware.Metrics()
    app.state.metrics = metrics
    install_error_handlers(app)

    # The API's routes go straight into the app's route list, first: FastAPI matches an
    # included router twice per request (once to select it, once inside it), which cost
    # ~15-20% of the hot authenticated read. The routes already carry their /api/v1 prefix.
    # This runs before the first request, when FastAPI computes its route candidates.
    api_routes = [route for module in API_MODULES for route in module.router.routes]
    app.router.routes[0:0] = api_routes

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="rtcompute API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no call to an outside validator
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks = await anyio.to_thread.run_sync(health.readiness, platform)
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    console_routes.mount(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # every route is in place: the gate lists the public ones now (the console's routers
    # are included as a whole, so their routes are read from the routers themselves)
    pages = [route for router in console_routes.ROUTERS for route in router.routes]
    app.state.all_routes = [*app.routes, *pages]
    body_gate = gate.Gate(platform, app.state.all_routes)
    app.add_middleware(
        middleware.RequestMiddleware,
        platform=platform,
        metrics=metrics,
        admit=body_gate.admit,
        declared=body_gate.declared,
    )
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the bearer scheme on every route that declares `Requires`."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "`<access-key-id>:<secret>`, or a session token from POST /api/v1/sessions",
    }
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        if not any(isinstance(d.call, deps.Requires) for d in route.dependant.dependencies):
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path, {}).get(method.lower())
            if operation is not None:
                operation["security"] = [{"bearer": []}]
    app.openapi_schema = schema
    return schema


# Routes reachable without a declared action: health, metrics, docs, static files.
UNDECLARED_OK = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/openapi.json",
        "/api/docs",
    }
)
