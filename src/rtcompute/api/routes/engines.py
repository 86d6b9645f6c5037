"""Engine versions: the catalog (operator-edited), the versions of a cluster and of the
shared pool (guide ch. 7: install, set current, uninstall), and SQL checks on a project's
engine. Installs only write desired state; the engine reconciler installs."""

from __future__ import annotations

import functools

import anyio
from fastapi import APIRouter, Request

from rtcompute import errors
from rtcompute.api import deps
from rtcompute.api.schemas import engines as schemas
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import operations
from rtcompute.services.engines import catalog as engines
from rtcompute.services.engines import versions as engine_versions
from rtcompute.services.jobs import sql
from rtcompute.services.kernel import principals

router = APIRouter(prefix=deps.API_PREFIX, tags=["engines"], responses=deps.ERROR_RESPONSES)
# the version catalog is part of the catalog (GET /catalog); a cluster's versions are named
# below the cluster, as docs/iam.md planned them
CATALOG = "acs:stream:{region}:{account_id}:catalog"
ANY_CATALOG = "acs:rtc::*:catalog"
VERSIONS = "acs:stream:{region}:{account_id}:cluster/{cluster}/version/*"
VERSION = "acs:stream:{region}:{account_id}:cluster/{cluster}/version/{version}"
NEW_VERSION = "acs:stream:{region}:{account_id}:cluster/{cluster}/version/{body[version]}"
PROJECT = "acs:stream:{region}:{account_id}:{project}"
# the shared pool belongs to the operator (operator-only actions; the resource is a name)
POOL = "acs:stream:{region}:{account_id}:pool"


def engine_out(found: engines.EngineInfo) -> schemas.EngineVersion:
    return schemas.EngineVersion.model_validate(found)


def version_out(
    found: engine_versions.VersionView, language: str = errors.ENGLISH
) -> schemas.Version:
    """A version of a target; its message (a failed install's) in `language`."""
    out = schemas.Version.model_validate(found)
    return out.model_copy(update={"message": found.message_in(language)})


@router.get("/engines", response_model=list[schemas.EngineVersion])
async def list_engines(
    request: Request,
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> list[schemas.EngineVersion]:
    """The installable versions, newest first; `retired`: past the end of service. The
    catalog's own notes are answered in the Accept-Language language."""
    found = await anyio.to_thread.run_sync(engines.list_catalog, platform)
    language = deps.language(request)
    return [
        engine_out(e).model_copy(update={"notes": engine_rules.notes_in(language, e.notes)})
        for e in found
    ]


@router.put("/engines/{version}", response_model=schemas.EngineVersion)
async def update_engine(
    platform: deps.PlatformDep,
    version: str,
    body: schemas.EngineVersionUpdate,
    principal: principals.Principal = deps.requires(operations.UPDATE_CATALOG),
) -> schemas.EngineVersion:
    """Add a version to the catalog or change its tag, dates, notes (operator)."""
    found = await anyio.to_thread.run_sync(
        lambda: engines.update_entry(
            platform,
            version,
            tag=body.tag,
            released_on=body.released_on,
            end_of_service=body.end_of_service,
            notes=body.notes,
            listed=body.listed,
        )
    )
    return engine_out(found)


# ---- a cluster's versions ---------------------------------------------------------------


@router.get("/clusters/{cluster}/versions", response_model=list[schemas.Version])
async def list_cluster_versions(
    request: Request,
    platform: deps.PlatformDep,
    cluster: str,
    principal: principals.Principal = deps.requires(operations.LIST_ENGINE_VERSIONS),
) -> list[schemas.Version]:
    """Installed versions of the cluster (with installing and failed ones), newest first;
    messages in the Accept-Language language."""
    found = await anyio.to_thread.run_sync(
        engine_versions.list_versions, platform, principal.account_id, cluster
    )
    language = deps.language(request)
    return [version_out(v, language) for v in found]


@router.get("/clusters/{cluster}/versions/{version}", response_model=schemas.Version)
async def get_cluster_version(
    request: Request,
    platform: deps.PlatformDep,
    cluster: str,
    version: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_ENGINE_VERSION),
) -> schemas.Version:
    found = await anyio.to_thread.run_sync(
        engine_versions.read_version, platform, principal.account_id, cluster, version
    )
    return version_out(found, deps.language(request))


@router.post("/clusters/{cluster}/versions", status_code=201, response_model=schemas.Version)
async def install_cluster_version(
    platform: deps.PlatformDep,
    cluster: str,
    body: schemas.VersionInstall,
    principal: principals.Principal = deps.requires(operations.INSTALL_ENGINE_VERSION),
) -> schemas.Version:
    """Install a version (at most 3; beta needs confirm_beta); the cluster shows `deploying`
    until the install ends."""
    found = await anyio.to_thread.run_sync(
        lambda: engine_versions.install(
            platform, principal, cluster, body.version, confirm_beta=body.confirm_beta
        )
    )
    return version_out(found)


@router.post("/clusters/{cluster}/versions/{version}/current", response_model=schemas.Version)
async def set_cluster_current_version(
    platform: deps.PlatformDep,
    cluster: str,
    version: str,
    principal: principals.Principal = deps.requires(operations.SWITCH_ENGINE_VERSION),
) -> schemas.Version:
    """Make an installed version the default for new jobs of the cluster."""
    found = await anyio.to_thread.run_sync(
        engine_versions.set_current, platform, principal, cluster, version
    )
    return version_out(found)


@router.delete("/clusters/{cluster}/versions/{version}", response_model=schemas.Version)
async def uninstall_cluster_version(
    platform: deps.PlatformDep,
    cluster: str,
    version: str,
    principal: principals.Principal = deps.requires(operations.UNINSTALL_ENGINE_VERSION),
) -> schemas.Version:
    """Uninstall; refused for the current version and while an online job references it."""
    found = await anyio.to_thread.run_sync(
        engine_versions.uninstall, platform, principal, cluster, version
    )
    return version_out(found)


# ---- the shared pool's versions (operator) ------------------------------------------------


@router.get("/pool/versions", response_model=list[schemas.Version])
async def list_pool_versions(
    platform: deps.PlatformDep,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> list[schemas.Version]:
    """The shared pool's versions; shared projects run on its current one."""
    found = await anyio.to_thread.run_sync(
        functools.partial(
            engine_versions.list_versions,
            platform,
            principal.account_id,
            None,
            operator=principal.is_operator,
        )
    )
    return [version_out(v) for v in found]


@router.get("/pool/versions/{version}", response_model=schemas.Version)
async def get_pool_version(
    platform: deps.PlatformDep,
    version: str,
    principal: principals.Principal = deps.requires(operations.DESCRIBE_CATALOG),
) -> schemas.Version:
    found = await anyio.to_thread.run_sync(
        functools.partial(
            engine_versions.read_version,
            platform,
            principal.account_id,
            None,
            version,
            operator=principal.is_operator,
        )
    )
    return version_out(found)


@router.post("/pool/versions", status_code=201, response_model=schemas.Version)
async def install_pool_version(
    platform: deps.PlatformDep,
    body: schemas.VersionInstall,
    principal: principals.Principal = deps.requires(operations.MANAGE_POOL_VERSIONS),
) -> schemas.Version:
    found = await anyio.to_thread.run_sync(
        lambda: engine_versions.install(
            platform, principal, None, body.version, confirm_beta=body.confirm_beta
        )
    )
    return version_out(found)


@router.post("/pool/versions/{version}/current", response_model=schemas.Version)
async def set_pool_current_version(
    platform: deps.PlatformDep,
    version: str,
    principal: principals.Principal = deps.requires(operations.MANAGE_POOL_VERSIONS),
) -> schemas.Version:
    found = await anyio.to_thread.run_sync(
        engine_versions.set_current, platform, principal, None, version
    )
    return version_out(found)


@router.delete("/pool/versions/{version}", response_model=schemas.Version)
async def uninstall_pool_version(
    platform: deps.PlatformDep,
    version: str,
    principal: principals.Principal = deps.requires(operations.MANAGE_POOL_VERSIONS),
) -> schemas.Version:
    found = await anyio.to_thread.run_sync(
        engine_versions.uninstall, platform, principal, None, version
    )
    return version_out(found)


# ---- SQL checks ---------------------------------------------------------------------------


def check_out(found: sql.SqlCheck) -> dict[str, object]:
    result = found.result
    return {
        "ok": result.ok,
        "engine_version": found.engine_version,
        "flink_version": result.flink_version,
        "problems": [
            {"line": p.line, "column": p.column, "message": p.message} for p in result.problems
        ],
        "elapsed_ms": result.elapsed_ms,
    }


@router.post("/projects/{project}/sql:validate", response_model=schemas.SqlCheck)
async def validate_sql(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.SqlRequest,
    principal: principals.Principal = deps.requires(operations.CHECK_SQL),
) -> schemas.SqlCheck:
    """Syntax check (语法检查) on the project's engine: errors with line and column."""
    found = await anyio.to_thread.run_sync(
        lambda: sql.check(
            platform, principal, project, body.sql, engine_version=body.engine_version
        )
    )
    return schemas.SqlCheck.model_validate(check_out(found))


@router.post("/projects/{project}/sql:explain", response_model=schemas.SqlExplain)
async def explain_sql(
    platform: deps.PlatformDep,
    project: str,
    body: schemas.SqlRequest,
    principal: principals.Principal = deps.requires(operations.EXPLAIN_SQL),
) -> schemas.SqlExplain:
    """The plan Flink makes of the script (nothing runs)."""
    found = await anyio.to_thread.run_sync(
        lambda: sql.check(
            platform,
            principal,
            project,
            body.sql,
            engine_version=body.engine_version,
            explain=True,
        )
    )
    return schemas.SqlExplain.model_validate(check_out(found) | {"plan": found.result.plan})
