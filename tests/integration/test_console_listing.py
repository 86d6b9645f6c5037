"""Console lists follow the API's listing rule (both databases): the guide's project-level
grant (`acs:stream:*:*:projectname`) shows that project and nothing else; a sub-account
granted no project at all is refused."""

from __future__ import annotations

import html

from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.integration.test_console import signin_via_form
from tests.integration.test_ram_support import (
    API,
    account,
    allow,
    authorize_service_role,
    create_policy,
    ok,
    shared_project,
)


def test_a_project_level_grant_lists_that_project_only(api: TestClient) -> None:
    owner = account(api)
    authorize_service_role(api, owner)
    shared_project(api, owner, "projectname")
    shared_project(api, owner, "other")
    # the guide's policy, verbatim but for the project name
    create_policy(api, owner, "OneProject", allow("stream:*", "acs:stream:*:*:projectname"))
    for name, policy in (("dev", "OneProject"), ("nobody", None)):
        user = {"name": name, "password": PASSWORD, "console_enabled": True}
        ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
        if policy:
            path = f"{API}/ram/users/{name}/policies/Custom/{policy}"
            ok(api.put(path, headers=owner.headers), 204)

    signin_via_form(api, owner.alias, user="dev")
    page = api.get("/console/shared-projects")
    assert page.status_code == 200, page.text[:300]
    shown = html.unescape(page.text)
    assert 'data-project="projectname"' in shown
    assert 'data-project="other"' not in shown
    assert api.get("/console/projects/projectname").status_code == 200
    assert api.get("/console/projects/other").status_code == 403
    api.cookies.clear()

    signin_via_form(api, owner.alias, user="nobody")
    refused = api.get("/console/shared-projects")
    assert refused.status_code == 403
    assert "stream:ListProjects" in html.unescape(refused.text)
