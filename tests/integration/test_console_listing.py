"""Console lists follow the API's listing rule (both databases): the guide's project-level
grant (`acs:stream:*:*:projectname`) shows that project and nothing else; a sub-account
granted no project at all is refused. And a page decides on the same resource as the API
route of its operation (domain/operations.py): a bucket-level grant lists that bucket, a
deny on a name holds for a creation of that name in both."""

from __future__ import annotations

import html
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import PASSWORD
from tests.integration.test_console import signin_via_form
from tests.integration.test_ram_support import (
    API,
    account,
    allow,
    authorize_service_role,
    create_policy,
    deny,
    expect,
    ok,
    shared_project,
    user_key,
)


def ram_user_with(api: TestClient, owner: Any, name: str, policy: str) -> None:
    user = {"name": name, "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    ok(api.put(f"{API}/ram/users/{name}/policies/Custom/{policy}", headers=owner.headers), 204)


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


def test_a_bucket_level_grant_lists_that_bucket_in_the_console_as_in_the_api(
    api: TestClient,
) -> None:
    owner = account(api)
    for name in ("rtc-grant-mine", "rtc-grant-other"):
        ok(api.post(f"{API}/buckets", headers=owner.headers, json={"name": name}), 201)
    mine = "acs:oss:*:*:rtc-grant-mine"
    create_policy(api, owner, "OneBucket", allow("oss:*", [mine, mine + "/*"]))
    ram_user_with(api, owner, "dev", "OneBucket")
    listed = ok(api.get(f"{API}/buckets", headers=user_key(api, owner, "dev")))
    assert [b["name"] for b in listed] == ["rtc-grant-mine"]
    signin_via_form(api, owner.alias, user="dev")
    page = api.get("/console/buckets")
    assert page.status_code == 200, page.text[:300]
    assert "rtc-grant-mine" in page.text and "rtc-grant-other" not in page.text


def test_a_deny_on_a_name_holds_for_its_creation_in_the_console_as_in_the_api(
    api: TestClient,
) -> None:
    """The console once checked `stream:CreateJob` on `.../job/*`, the API on the job's name:
    a deny on `job/secret*` held in the API only."""
    owner = account(api)
    authorize_service_role(api, owner)
    shared_project(api, owner, "projectname")
    secret = "acs:stream:*:*:projectname/job/secret*"
    create_policy(
        api, owner, "AllButSecret", allow("stream:*", "*"), deny("stream:CreateJob", secret)
    )
    ram_user_with(api, owner, "dev", "AllButSecret")
    headers = user_key(api, owner, "dev")
    jobs = f"{API}/projects/projectname/jobs"
    expect(api.post(jobs, headers=headers, json={"name": "secret-1"}), 403, "Forbidden.RAM")
    ok(api.post(jobs, headers=headers, json={"name": "open-1"}), 201)
    token = signin_via_form(api, owner.alias, user="dev")
    page = "/console/projects/projectname/jobs"
    for name, status in (("secret-2", 403), ("open-2", 303)):
        form = {"csrf_token": token, "name": name, "folder": "/"}
        made = api.post(page, data=form, follow_redirects=False)
        assert made.status_code == status, (name, made.text[:300])
    refused = api.post(page, data={"csrf_token": token, "name": "secret-2", "folder": "/"})
    assert "projectname/job/secret-2" in html.unescape(refused.text)
