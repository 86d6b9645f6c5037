"""The console's entry points for the app: `mount` (routes and static files), `render_error`.

`api/app.py` calls `render_error` for every error on a non-API path, so a console user never
sees JSON: an expired session goes back to its sign-in page, an htmx call gets a message
swapped into the page's flash area, anything else gets an error page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from rtcompute import errors
from rtcompute.console import auth, guard, views
from rtcompute.console.pages.capacity import (
    buckets,
    cluster_wizard,
    clusters,
    hosts,
    networks,
    orders,
    payments,
    projects,
    purchase,
    zones,
)
from rtcompute.console.pages.capacity import overview as capacity
from rtcompute.console.pages.engines import catalog as engines
from rtcompute.console.pages.engines import versions as engine_versions
from rtcompute.console.pages.iam import attachments as ram_attachments
from rtcompute.console.pages.iam import groups as ram_groups
from rtcompute.console.pages.iam import overview as ram_overview
from rtcompute.console.pages.iam import policies as ram_policies
from rtcompute.console.pages.iam import policy_versions as ram_policy_versions
from rtcompute.console.pages.iam import roles as ram_roles
from rtcompute.console.pages.iam import service_role as ram_service_role
from rtcompute.console.pages.iam import users as ram_users
from rtcompute.console.pages.jobs import editor as jobs_editor
from rtcompute.console.pages.jobs import folders as jobs
from rtcompute.console.pages.jobs import online as jobs_online
from rtcompute.console.pages.jobs import resources as jobs_resources
from rtcompute.console.pages.jobs import revisions as jobs_revisions
from rtcompute.console.pages.jobs import sql_check
from rtcompute.console.pages.kernel import access_keys, accounts, audit, overview, settings, signin

log = logging.getLogger("rtcompute.console")
STATIC_DIR = Path(__file__).parent / "static"
ROUTERS: tuple[APIRouter, ...] = (
    signin.router,
    # capacity (issue 4): before `overview`, whose placeholders held these addresses
    capacity.router,
    orders.router,
    purchase.router,
    projects.router,
    cluster_wizard.router,
    clusters.router,
    networks.router,
    buckets.router,
    # engine versions (issue 5): before `overview`, whose placeholder held /engine-versions
    engines.router,
    engine_versions.router,
    sql_check.router,
    # jobs (issue 6): the project's development platform
    jobs.router,
    jobs_editor.router,
    jobs_resources.router,
    jobs_online.router,
    jobs_revisions.router,
    overview.router,
    access_keys.router,
    audit.router,
    settings.router,
    accounts.router,
    payments.router,
    # the installation's zones and joined hosts (the operator's)
    zones.router,
    hosts.router,
    ram_overview.router,
    ram_users.router,
    ram_groups.router,
    ram_policies.router,
    ram_policy_versions.router,
    ram_roles.router,
    ram_attachments.router,
    ram_service_role.router,
)
# What every console route declared (action, or public); built at import, so a route that
# declares nothing stops the app from starting.
DECLARED: list[guard.Declaration] = [
    declared for router in ROUTERS for declared in guard.declarations(router.routes)
]
SIGN_IN_AGAIN = frozenset({"SessionExpired", "MissingCredentials"})


def mount(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def render_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    error: errors.RtcError | None = None,
) -> Response:
    """The error page; `error` (a domain error) brings its own sentence in each language,
    else the console's sentence for an HTTP-level `code` is shown."""
    try:
        if error is not None:
            text = views.error_message(request, error)
        else:
            text = views.message_of(request, code, message)
        return _render_error(request, status, code, text)
    except Exception:  # the error page must never become a second error
        log.exception("could not render the error page for %s", code)
        return HTMLResponse(f"<h1>{status} {code}</h1>", status_code=status)


def _render_error(request: Request, status: int, code: str, text: str) -> Response:
    if status == 401 and code in SIGN_IN_AGAIN:
        login = auth.login_path(request)
        if views.is_htmx(request):
            response: Response = Response(status_code=401, headers={"HX-Redirect": login})
        elif request.method == "GET":
            # GETs are not audited, so a redirect does not hide a failure from the trail
            response = RedirectResponse(login, status_code=303)
        else:
            context = {"status": status, "code": code, "message": text, "login": login}
            response = views.render(request, "layout/error.html", context, status=status)
        auth.clear_session(response, request)
        return response
    link = views.error_link(code)
    if views.is_htmx(request):
        context = {"kind": "error", "message": text, "code": code, "link": link}
        headers = {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}
        return views.render(
            request, "components/flash.html", context, status=status, headers=headers
        )
    context = {"status": status, "code": code, "message": text, "link": link}
    return views.render(request, "layout/error.html", context, status=status)
