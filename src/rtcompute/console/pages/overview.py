"""The overview and the sections of the guide's console that later releases build.

A section not built yet still has its URL, its declared action and a page saying honestly
which release brings it, so the navigation is complete from the first release and a link
shared today keeps working when the section lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from rtcompute.console import guard, views
from rtcompute.console.i18n import N_
from rtcompute.services import principals

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Coming:
    key: str
    action: str
    resource: guard.ResourceOf
    release: str
    summary: str


COMING = (
    Coming(
        "engine-versions",
        "rtc:ListEngineVersions",
        guard.in_account("rtc", "cluster/*"),
        N_("the exclusive-cluster release"),
        N_("Install, tag and retire Flink engine versions of a cluster."),
    ),
)


@router.get("/console")
def overview(
    request: Request,
    principal: principals.Principal = guard.requires("sts:GetCallerIdentity", guard.own_identity),
) -> Response:
    base = str(request.base_url).rstrip("/")
    login_url = f"{base}/login/{quote(principal.account_alias, safe='')}"
    return views.render(
        request, "overview.html", {"active": "overview", "login_url": login_url, "coming": COMING}
    )


def _coming_page(section: Coming) -> None:
    def page(
        request: Request,
        principal: principals.Principal = guard.requires(section.action, section.resource),
    ) -> Response:
        del principal
        return views.render(request, "coming.html", {"active": section.key, "section": section})

    page.__name__ = f"coming_{section.key.replace('-', '_')}"
    router.add_api_route(f"/console/{section.key}", page, methods=["GET"])


for _section in COMING:
    _coming_page(_section)
