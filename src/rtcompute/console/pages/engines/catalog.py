"""The catalog of engine versions (guide ch. 7 版本管理): what a cluster can install.

Every tag is shown with the guide's meaning (stable: recommended; beta: special cases only,
quality and stability not guaranteed; none: an earlier stable version), and a version past
its end of service is flagged as retired: still usable, no longer maintained. The same
action and resource as `GET /api/v1/engines`. The navigation's earlier address of this
section (`/console/engine-versions`, a placeholder until this release) leads here.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from rtcompute.console import guard, views
from rtcompute.console.pages.capacity import shared
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import operations
from rtcompute.services.engines import catalog as engines
from rtcompute.services.kernel import principals

router = APIRouter(include_in_schema=False)
PAGE = "/console/engines"
OLD_PAGE = "/console/engine-versions"
ACTIVE = "engine-versions"


@router.get(PAGE)
async def catalog_page(
    request: Request,
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    del principal
    platform = guard.platform_of(request)
    found = await shared.run(engines.list_catalog, platform)
    return views.render(
        request,
        "engines/catalog.html",
        {
            "active": ACTIVE,
            "versions": found,
            "max_installed": engine_rules.MAX_INSTALLED,
            "service_days": engine_rules.DEFAULT_SERVICE_DAYS,
            "today": platform.now().date(),
            "note": note_for(request),
        },
    )


def note_for(request: Request) -> Callable[[str], str]:
    """A catalog note in the page's language (the catalog's own notes have a Chinese one)."""
    language, _ = views.language_of(request)
    return lambda notes: engine_rules.notes_in(language, notes)


@router.get(OLD_PAGE)
async def old_address(
    principal: principals.Principal = guard.requires(operations.DESCRIBE_CATALOG),
) -> Response:
    """A link shared while the section was a placeholder keeps working."""
    del principal
    return RedirectResponse(PAGE, status_code=303)
