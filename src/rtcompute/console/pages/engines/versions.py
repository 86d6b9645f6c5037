"""Version management of a cluster and of the shared pool (guide ch. 7 版本管理).

Two tabs as in the guide: installable versions (可安装版本: catalog entries not on the
target, each with Install; a beta one needs an explicit confirmation) and installed versions
(已安装版本: state, progress while installing, current and retired flags, Set as current
(设置为current) and Uninstall (卸载)). An install only writes desired state: the cluster shows
"Deploying version" (版本部署中) and the live part of the page polls itself every two seconds
with htmx until nothing is installing, while the engine reconciler installs the copy.

Each route declares the API's action and resource (api/routes/engines.py): a version of a
cluster is `cluster/<name>/version/<version>`, so the version is in the path of every write;
the shared pool's writes are the operator's (`rtc:ManagePoolVersions`), its lists anyone's.
The services' refusals are shown on the page in its language; their Chinese sentences keep
the guide's messages (`Flink versions exceeded max limitation:3`, ...) verbatim.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRouter

from rtcompute import errors
from rtcompute.console import fields, guard, views
from rtcompute.console.i18n import N_
from rtcompute.console.pages.capacity import shared
from rtcompute.console.pages.engines import catalog as catalog_page
from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import operations
from rtcompute.services.capacity import clusters
from rtcompute.services.engines import catalog as engines
from rtcompute.services.engines import versions as engine_versions
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
CLUSTER_PAGE = "/console/clusters/{cluster}/versions"
POOL_PAGE = "/console/pool/versions"
INSTALLED, INSTALLABLE = "installed", "installable"
TABS = (INSTALLED, INSTALLABLE)

VersionName = Annotated[str, Path(max_length=64), fields.Printable]
ConfirmBeta = Annotated[bool, Form()]

NOTICES = views.Notices(
    {
        "installing": N_(
            "The version is being installed; this page follows its progress until it is ready."
        ),
        "current": N_("Set as current: new jobs use this version."),
        "uninstalled": N_("Uninstalled."),
    }
)
notice_of = NOTICES.of


def page_of(cluster: str | None) -> str:
    return (
        POOL_PAGE if cluster is None else shared.path_of("/console/clusters", cluster, "versions")
    )


def tab_of(request: Request, default: str) -> str:
    asked = request.query_params.get("tab")
    return asked if asked in TABS else default


def done(cluster: str | None, key: str) -> Response:
    """After a write: the installed tab, with what happened (post-redirect-get)."""
    assert key in NOTICES, key
    return RedirectResponse(f"{page_of(cluster)}?tab={INSTALLED}&done={key}", status_code=303)


def refusal(request: Request, error: errors.RtcError) -> shared.Refusal:
    """The service's refusal in the page's language (the guide's own message kept inside
    it), and where to fix its cause."""
    request.state.error_code = error.code
    message = views.error_message(request, error)
    return shared.Refusal(views.status_of(error), message, error.code, views.error_link(error.code))


async def may_manage(
    request: Request, principal: principals.Principal, cluster: str | None
) -> bool:
    """Whether to show the write buttons: always on a cluster (a refusal explains itself),
    on the shared pool only to the operator."""
    if cluster is not None:
        return True
    may = await guard.may(request, principal, {"manage": operations.MANAGE_POOL_VERSIONS})
    return may.manage


async def live_context(
    request: Request, principal: principals.Principal, cluster: str | None, tab: str | None
) -> dict[str, Any]:
    platform = guard.platform_of(request)
    versions = await shared.run(
        engine_versions.list_versions,
        platform,
        principal.account_id,
        cluster,
        operator=principal.is_operator,
    )
    found = None
    if cluster is not None:
        detail = await shared.run(clusters.read_cluster, platform, principal.account_id, cluster)
        found = detail.cluster
    installing = [v for v in versions if v.state == engine_rules.INSTALLING]
    deploying = found is not None and found.state == cluster_rules.DEPLOYING
    return {
        "active": "exclusive-clusters" if cluster is not None else "pool-versions",
        "cluster": found,
        "base": page_of(cluster),
        "tab": tab or tab_of(request, INSTALLED if versions else INSTALLABLE),
        "versions": versions,
        "installing": installing,
        "moving": bool(installing) or deploying,
        "current": next((v.version for v in versions if v.current), None),
        "held": sum(1 for v in versions if v.state in engine_rules.HELD),
        "max_installed": engine_rules.MAX_INSTALLED,
        "may_manage": await may_manage(request, principal, cluster),
    }


async def page_response(
    request: Request,
    principal: principals.Principal,
    cluster: str | None,
    *,
    status: int = 200,
    refused: shared.Refusal | None = None,
    tab: str | None = None,
) -> Response:
    platform = guard.platform_of(request)
    context = await live_context(request, principal, cluster, tab)
    catalog = await shared.run(engines.list_catalog, platform)
    held = {v.version for v in context["versions"] if v.state in engine_rules.HELD}
    context["installable"] = [e for e in catalog if e.listed and e.name not in held]
    context["notice"] = notice_of(request)
    context["refused"] = refused
    context["note"] = catalog_page.note_for(request)
    return views.render(request, "engines/versions.html", context, status=status)


async def live_response(
    request: Request, principal: principals.Principal, cluster: str | None
) -> Response:
    context = await live_context(request, principal, cluster, None)
    return views.render(request, "engines/versions_live.html", context)


async def install_response(
    request: Request,
    principal: principals.Principal,
    cluster: str | None,
    version: str,
    confirm_beta: bool,
) -> Response:
    platform = guard.platform_of(request)
    try:
        await shared.run(
            lambda: engine_versions.install(
                platform, principal, cluster, version, confirm_beta=confirm_beta
            )
        )
    except shared.REFUSED as exc:
        why = refusal(request, exc)
        return await page_response(
            request, principal, cluster, status=why.status, refused=why, tab=INSTALLABLE
        )
    return done(cluster, "installing")


async def change_response(
    request: Request,
    principal: principals.Principal,
    cluster: str | None,
    version: str,
    *,
    uninstall: bool,
) -> Response:
    platform = guard.platform_of(request)
    change = engine_versions.uninstall if uninstall else engine_versions.set_current
    try:
        await shared.run(change, platform, principal, cluster, version)
    except shared.REFUSED as exc:
        why = refusal(request, exc)
        return await page_response(
            request, principal, cluster, status=why.status, refused=why, tab=INSTALLED
        )
    return done(cluster, "uninstalled" if uninstall else "current")


# ---- a cluster's versions -----------------------------------------------------------------


@router.get(CLUSTER_PAGE)
async def cluster_versions(
    request: Request,
    cluster: shared.Name,
    principal: principals.Principal = guard.requires(operations.LIST_ENGINE_VERSIONS),
) -> Response:
    return await page_response(request, principal, cluster)


@router.get(CLUSTER_PAGE + "/live")
async def cluster_versions_live(
    request: Request,
    cluster: shared.Name,
    principal: principals.Principal = guard.requires(operations.LIST_ENGINE_VERSIONS),
) -> Response:
    """The state and installed versions (htmx polling while a version installs)."""
    return await live_response(request, principal, cluster)


@router.post(CLUSTER_PAGE + "/{version}/install")
async def cluster_install(
    request: Request,
    cluster: shared.Name,
    version: VersionName,
    confirm_beta: ConfirmBeta = False,
    principal: principals.Principal = guard.requires(operations.INSTALL_ENGINE_VERSION),
) -> Response:
    return await install_response(request, principal, cluster, version, confirm_beta)


@router.post(CLUSTER_PAGE + "/{version}/current")
async def cluster_set_current(
    request: Request,
    cluster: shared.Name,
    version: VersionName,
    principal: principals.Principal = guard.requires(operations.SWITCH_ENGINE_VERSION),
) -> Response:
    return await change_response(request, principal, cluster, version, uninstall=False)


@router.post(CLUSTER_PAGE + "/{version}/uninstall")
async def cluster_uninstall(
    request: Request,
    cluster: shared.Name,
    version: VersionName,
    principal: principals.Principal = guard.requires(operations.UNINSTALL_ENGINE_VERSION),
) -> Response:
    return await change_response(request, principal, cluster, version, uninstall=True)


# ---- the shared pool's versions (writes: the operator) ------------------------------------


@router.get(POOL_PAGE)
async def pool_versions(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    return await page_response(request, principal, None)


@router.get(POOL_PAGE + "/live")
async def pool_versions_live(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    return await live_response(request, principal, None)


@router.post(POOL_PAGE + "/{version}/install")
async def pool_install(
    request: Request,
    version: VersionName,
    confirm_beta: ConfirmBeta = False,
    principal: principals.Principal = guard.requires(operations.MANAGE_POOL_VERSIONS),
) -> Response:
    return await install_response(request, principal, None, version, confirm_beta)


@router.post(POOL_PAGE + "/{version}/current")
async def pool_set_current(
    request: Request,
    version: VersionName,
    principal: principals.Principal = guard.requires(operations.MANAGE_POOL_VERSIONS),
) -> Response:
    return await change_response(request, principal, None, version, uninstall=False)


@router.post(POOL_PAGE + "/{version}/uninstall")
async def pool_uninstall(
    request: Request,
    version: VersionName,
    principal: principals.Principal = guard.requires(operations.MANAGE_POOL_VERSIONS),
) -> Response:
    return await change_response(request, principal, None, version, uninstall=True)
