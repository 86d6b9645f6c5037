"""The RAM console over the real app and database (both): pages, permissions, CSRF, editors.

Every RAM page renders for the account and refuses a RAM user without policies; every write
needs the session's CSRF token; the policy editor's live validation answers with the problem
text; users, groups, policies (with versions), roles and the service role are driven through
their forms; odd input is a 4xx page, never a 500.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from rtcompute.console import routes as console_routes
from rtcompute.services.iam import overview as ram_overview
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db, tables
from tests.conftest import PASSWORD, login
from tests.integration.test_console import (
    SECRET,
    htmx,
    signin_via_form,
    signup_via_form,
    trail_of,
)

STREAM_POLICY = json.dumps(
    {
        "Version": "1",
        "Statement": [{"Action": "stream:*", "Resource": "acs:stream:*:*:*", "Effect": "Allow"}],
    }
)
BAD_EFFECT = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Action": "stream:*", "Resource": "*", "Effect": "Allow"},
            {"Action": "stream:*", "Resource": "*", "Effect": "Maybe"},
        ],
    }
)
SERVICE_TRUST = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": ["ecs.example.com"]},
            }
        ],
    }
)


@pytest.fixture
def acme(api: TestClient) -> str:
    """The account acme signed in through the console; returns the page's CSRF token."""
    signup_via_form(api, "acme")
    return signin_via_form(api, "acme")


def seed(api: TestClient) -> dict[str, str]:
    """A user, a group, a custom policy and a role, made through the API."""
    owner = login(api, "acme")
    for path, body in (
        ("/api/v1/ram/users", {"name": "dev", "password": PASSWORD, "console_enabled": True}),
        ("/api/v1/ram/groups", {"name": "devs"}),
        ("/api/v1/ram/policies", {"name": "StreamAll", "document": STREAM_POLICY}),
        ("/api/v1/ram/roles", {"name": "runner", "description": "runs things"}),
    ):
        response = api.post(path, headers=owner, json=body)
        assert response.status_code == 201, response.text
    return owner


def post(api: TestClient, path: str, token: str, **data: Any) -> Any:
    """A plain form post (no htmx), as a browser without JavaScript sends it."""
    return api.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def counts(platform: platform_module.Platform, account_id: str) -> ram_overview.Counts:
    return ram_overview.counts(platform, account_id)


def account_id_of(api: TestClient) -> str:
    me = api.get("/api/v1/me", headers=login(api, "acme"))
    assert me.status_code == 200, me.text
    return str(me.json()["account_id"])


# each page, with a text it shows in English and the Chinese of that text (None: it is data)
PAGES = {
    "/console/ram": ("RAM overview", "RAM 概览"),
    "/console/ram/users": ("Create user", "新建用户"),
    "/console/ram/users/dev": ("Attached policies", "已授权的权限策略"),
    "/console/ram/groups": ("Create group", "新建用户组"),
    "/console/ram/groups/devs": ("Add a member", "添加成员"),
    "/console/ram/policies": ("AdministratorAccess", None),
    "/console/ram/policies?type=System": ("RAMReadOnlyAccess", None),
    "/console/ram/policies?type=Custom": ("StreamAll", None),
    "/console/ram/policies/new": ("Create policy", "新建权限策略"),
    "/console/ram/policies/System/AdministratorAccess": ("Full access", None),
    "/console/ram/policies/Custom/StreamAll": ("Add a version", "添加版本"),
    "/console/ram/policies/Custom/StreamAll/versions/v1": ("Back to the policy", "返回权限策略"),
    "/console/ram/roles": ("Create role", "新建角色"),
    "/console/ram/roles/runner": ("Trust policy", "信任策略"),
    "/console/ram/service-role": ("Go to authorize", "前往授权"),
    "/console/ram/service-role/authorize": ("Agree", "同意授权"),
    "/console/ram/service-role/reinitialize": ("Warning", "注意"),
}


def test_every_ram_page_renders_for_the_account(api: TestClient, acme: str) -> None:
    seed(api)
    for path, (english, _) in PAGES.items():
        page = api.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert english in page.text, path
        assert ">Service role</a>" in page.text  # the RAM section of the navigation
    chinese = {"Accept-Language": "zh-CN"}
    for path, (english, translated) in PAGES.items():
        page = api.get(path, headers=chinese)
        assert page.status_code == 200, path
        assert ">服务角色</a>" in page.text, path
        if translated is not None:
            assert translated in page.text, path
            assert english not in page.text, path


def test_overview_counts_and_login_url(api: TestClient, acme: str) -> None:
    seed(api)
    page = api.get("/console/ram")
    assert "<code data-login-url>http://testserver/login/acme</code>" in page.text
    rows = re.findall(
        r"<tr><td><a [^>]+>([^<]+)</a></td><td>(\d+)</td><td>(\d+)</td></tr>", page.text
    )
    assert rows == [
        ("Users", "1", "5000"),
        ("Groups", "1", "300"),
        ("Custom policies", "1", "1500"),
        ("Roles", "1", "1000"),
    ]
    assert "Not authorized" in page.text
    assert "用户登录地址" in api.get("/console/ram", headers={"Accept-Language": "zh-CN"}).text


def ram_user_session(api: TestClient) -> str:
    """Sign the browser in as acme's RAM user dev (created by `seed`); its CSRF token."""
    return signin_via_form(api, "acme", user="dev")


def test_a_ram_user_without_policies_is_refused_everywhere(
    api: TestClient, acme: str, platform: platform_module.Platform
) -> None:
    seed(api)
    token = ram_user_session(api)
    for path in PAGES:
        page = api.get(path)
        assert page.status_code == 403, (path, page.status_code)
        assert "Forbidden.RAM" in page.text, path
    before = counts(platform, account_id_of(api))
    for path, data in (
        ("/console/ram/users", {"name": "eve"}),
        ("/console/ram/groups", {"name": "eves"}),
        ("/console/ram/policies", {"name": "P", "document": STREAM_POLICY}),
        ("/console/ram/roles", {"name": "R", "document": SERVICE_TRUST}),
        ("/console/ram/users/dev/policies", {"policy": "System:AdministratorAccess"}),
        ("/console/ram/service-role/authorize", {}),
        ("/console/ram/policies/validate", {"document": BAD_EFFECT}),
    ):
        response = post(api, path, token, **data)
        assert response.status_code == 403, (path, response.text[:300])
    assert counts(platform, account_id_of(api)) == before
    assert trail_of(platform, "ram:CreateUser", "denied")
    assert trail_of(platform, "ram:ValidatePolicyDocument", "denied")


def test_a_ram_user_with_read_only_access_sees_pages_but_no_write_buttons(
    api: TestClient, acme: str
) -> None:
    owner = seed(api)
    attach = "/api/v1/ram/users/dev/policies/System/RAMReadOnlyAccess"
    assert api.put(attach, headers=owner).status_code == 204
    ram_user_session(api)
    page = api.get("/console/ram/users/dev")
    assert page.status_code == 200
    assert "RAMReadOnlyAccess" in page.text
    assert "Attach a policy" not in page.text  # no ram:AttachPolicyToUser
    assert "Delete user" not in page.text
    group = api.get("/console/ram/groups/devs")
    assert group.status_code == 200
    assert "Delete group" not in group.text
    assert "Add a member" not in group.text
    assert api.get("/console/ram/policies/Custom/StreamAll").status_code == 200
    assert api.get("/console/ram/service-role").status_code == 200
    assert api.get("/console/ram/service-role/reinitialize").status_code == 403


def test_a_policy_on_one_user_opens_that_users_page_only(api: TestClient, acme: str) -> None:
    """Resources named by the path: `ram:GetUser` on `user/dev` is not `user/ops`."""
    owner = seed(api)
    assert api.post("/api/v1/ram/users", headers=owner, json={"name": "ops"}).status_code == 201
    own = json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": ["ram:GetUser", "ram:ListPoliciesForUser"],
                    "Resource": "acs:ram:*:*:user/dev",
                    "Effect": "Allow",
                }
            ],
        }
    )
    made = api.post(
        "/api/v1/ram/policies", headers=owner, json={"name": "SeeSelf", "document": own}
    )
    assert made.status_code == 201, made.text
    assert (
        api.put("/api/v1/ram/users/dev/policies/Custom/SeeSelf", headers=owner).status_code == 204
    )
    ram_user_session(api)
    mine = api.get("/console/ram/users/dev")
    assert mine.status_code == 200
    assert "SeeSelf" in mine.text
    assert "You may not list this user's groups." in mine.text
    for button in ("Delete user", "Set password", "Create access key", "Turn console access"):
        assert button not in mine.text, button  # the caller may not do these
    other = api.get("/console/ram/users/ops")
    assert other.status_code == 403
    assert "acs:ram::" in other.text and ":user/ops" in other.text


def write_routes() -> list[tuple[str, str]]:
    found = []
    for declaration in console_routes.DECLARED:
        if not declaration.path.startswith("/console/ram"):
            continue
        path = re.sub(r"\{[^}]+\}", "x", declaration.path)
        found.extend((method, path) for method in declaration.methods if method != "GET")
    return found


def test_every_ram_write_needs_the_csrf_token(
    api: TestClient, acme: str, platform: platform_module.Platform
) -> None:
    seed(api)
    routes = write_routes()
    assert len(routes) >= 25
    before = counts(platform, account_id_of(api))
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"HX-Request": "true"}):
            response = api.request(method, path, data={"name": "zzz"}, headers=headers)
            assert response.status_code == 403, (method, path, response.status_code)
            assert "CsrfFailed" in response.text, (method, path)
    assert counts(platform, account_id_of(api)) == before
    assert trail_of(platform, "ram:DeleteUser", "failed")  # CSRF refusals are in the trail


def test_live_validation_returns_the_problem_text(
    api: TestClient, acme: str, platform: platform_module.Platform
) -> None:
    def validate(document: str, kind: str = "permission") -> str:
        response = api.post(
            "/console/ram/policies/validate",
            data={"document": document, "kind": kind},
            headers=htmx(acme),
        )
        assert response.status_code == 200, response.text
        return html.unescape(response.text)

    problems = validate(BAD_EFFECT)
    assert 'Statement[1].Effect: must be "Allow" or "Deny"' in problems
    assert "Statement[0]" not in problems
    assert "data-problems" in problems
    assert "not valid JSON at line 1 column 2" in validate("{oops")
    assert "The document is valid." in validate(STREAM_POLICY)
    assert "Principal" in validate(STREAM_POLICY, "trust")  # a trust policy needs one
    assert "The document is valid." in validate(SERVICE_TRUST, "trust")
    assert "6144" in validate(" " * 7000)
    chinese = api.post(
        "/console/ram/policies/validate",
        data={"document": STREAM_POLICY},
        headers={**htmx(acme), "Accept-Language": "zh-CN"},
    )
    assert "文档有效" in chinese.text
    zh_problems = html.unescape(
        api.post(
            "/console/ram/policies/validate",
            data={"document": BAD_EFFECT},
            headers={**htmx(acme), "Accept-Language": "zh-CN"},
        ).text
    )
    assert 'Statement[1].Effect：必须是 "Allow" 或 "Deny"' in zh_problems
    assert "must be" not in zh_problems
    # validating changes nothing: its successes are not audited, its refusals are
    assert trail_of(platform, "ram:ValidatePolicyDocument", "success") == []
    refused = api.post("/console/ram/policies/validate", data={"document": "{}"})
    assert refused.status_code == 403  # no CSRF token
    assert trail_of(platform, "ram:ValidatePolicyDocument", "failed")


def test_user_lifecycle_through_the_forms(api: TestClient, acme: str) -> None:
    created = post(
        api,
        "/console/ram/users",
        acme,
        name="dev",
        display_name="Developer",
        comment="writes jobs",
        console_enabled="true",
        password=PASSWORD,
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/console/ram/users/dev?done=created"
    page = api.get(created.headers["location"])
    assert "Created." in page.text
    assert "Developer" in page.text
    taken = post(api, "/console/ram/users", acme, name="dev")
    assert taken.status_code == 409
    assert "already exists" in taken.text
    zh = api.post(
        "/console/ram/users",
        data={"csrf_token": acme, "name": "dev"},
        headers={"Accept-Language": "zh-CN"},
    )
    # the service's own sentence in Chinese, naming the user, and not its English beside it
    assert "本账号已有名为 dev 的 RAM 用户；请换一个名称" in zh.text
    assert "already exists" not in zh.text
    weak = post(api, "/console/ram/users", acme, name="ops", console_enabled="true")
    assert weak.status_code == 400
    assert 'value="ops"' in weak.text  # the form keeps what was typed

    attach = post(api, "/console/ram/users/dev/policies", acme, policy="System:StreamFullAccess")
    assert attach.headers["location"] == "/console/ram/users/dev?done=attached"
    attached = api.get("/console/ram/users/dev?done=attached")
    assert "StreamFullAccess" in attached.text
    assert "Policy attached." in attached.text
    again = post(api, "/console/ram/users/dev/policies", acme, policy="System:StreamFullAccess")
    assert again.status_code == 409
    detach = "/console/ram/users/dev/policies/System/StreamFullAccess/detach"
    assert post(api, detach, acme).status_code == 303
    assert "StreamFullAccess" not in api.get("/console/ram/users/dev").text.split("Attach a")[0]
    assert post(api, detach, acme).status_code == 404

    edited = post(
        api, "/console/ram/users/dev", acme, new_name="dev", display_name="Dev", comment=""
    )
    assert edited.headers["location"] == "/console/ram/users/dev?done=saved"
    off = post(api, "/console/ram/users/dev/console-access", acme, enabled="false")
    assert off.headers["location"].endswith("done=console-off")
    assert "data-console>Off<" in api.get("/console/ram/users/dev").text
    assert (
        post(api, "/console/ram/users/dev/console-access", acme, enabled="true").status_code == 303
    )
    mismatch = post(
        api, "/console/ram/users/dev/password", acme, password="a-New-pass-1", password_again="x"
    )
    assert mismatch.status_code == 400
    new_password = "another-horse-7"
    reset = post(
        api,
        "/console/ram/users/dev/password",
        acme,
        password=new_password,
        password_again=new_password,
    )
    assert reset.status_code == 303
    login(api, "acme", new_password, user="dev")
    assert post(api, "/console/ram/users/dev/mfa/unbind", acme).status_code == 303

    deleted = post(api, "/console/ram/users/dev/delete", acme)
    assert deleted.headers["location"] == "/console/ram/users?done=deleted"
    assert api.get("/console/ram/users/dev").status_code == 404


def test_user_access_keys_secret_shown_once(api: TestClient, acme: str) -> None:
    seed(api)
    created = api.post("/console/ram/users/dev/access-keys", headers=htmx(acme))
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"
    secret = SECRET.search(created.text)
    assert secret
    key_id = re.search(r"<code>(RTCAK[A-Z0-9]+)</code>", created.text)
    assert key_id
    page = api.get("/console/ram/users/dev")
    assert key_id.group(1) in page.text
    assert secret.group(1) not in page.text
    login_key = api.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {key_id.group(1)}:{secret.group(1)}"}
    )
    assert login_key.json()["name"] == "dev"
    base = f"/console/ram/users/dev/access-keys/{key_id.group(1)}"
    disabled = api.post(base + "/status", data={"status": "Inactive"}, headers=htmx(acme))
    assert disabled.status_code == 200
    assert "status inactive" in disabled.text
    assert api.delete(base, headers=htmx(acme)).status_code == 200
    assert key_id.group(1) not in api.get("/console/ram/users/dev").text
    missing = api.delete(base, headers=htmx(acme))
    assert missing.status_code == 404
    assert "flash error" in missing.text
    plain = post(api, "/console/ram/users/dev/access-keys", acme)
    assert plain.status_code == 200
    assert SECRET.search(plain.text)


def test_group_members_and_policies(api: TestClient, acme: str) -> None:
    seed(api)
    created = post(api, "/console/ram/groups", acme, name="ops", comment="on call")
    assert created.headers["location"] == "/console/ram/groups/ops?done=created"
    assert post(api, "/console/ram/groups/ops/members", acme, user="dev").status_code == 303
    page = api.get("/console/ram/groups/ops")
    assert '<a href="/console/ram/users/dev">dev</a>' in page.text
    assert "ops" in api.get("/console/ram/users/dev").text
    assert post(api, "/console/ram/groups/ops/members", acme, user="nobody").status_code == 404
    attach = post(api, "/console/ram/groups/ops/policies", acme, policy="Custom:StreamAll")
    assert attach.status_code == 303
    assert "StreamAll" in api.get("/console/ram/groups/ops").text
    assert "ops" in api.get("/console/ram/policies/Custom/StreamAll").text
    bad_type = post(api, "/console/ram/groups/ops/policies", acme, policy="Other:StreamAll")
    assert bad_type.status_code == 400
    removed = post(api, "/console/ram/groups/ops/members/dev/remove", acme)
    assert removed.headers["location"].endswith("done=member-removed")
    assert post(api, "/console/ram/groups/ops/members/dev/remove", acme).status_code == 404
    assert post(api, "/console/ram/groups/ops/delete", acme).status_code == 303
    assert api.get("/console/ram/groups/ops").status_code == 404


def test_policy_editor_versions_and_delete(api: TestClient, acme: str) -> None:
    seed(api)
    refused = post(api, "/console/ram/policies", acme, name="Mine", document=BAD_EFFECT)
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert "Statement[1].Effect" in text
    assert 'value="Mine"' in refused.text
    created = post(api, "/console/ram/policies", acme, name="Mine", document=STREAM_POLICY)
    assert created.headers["location"] == "/console/ram/policies/Custom/Mine"
    taken = post(api, "/console/ram/policies", acme, name="AdministratorAccess", document="{}")
    assert taken.status_code in (400, 409)

    v2 = STREAM_POLICY.replace("stream:*", "stream:List*")
    added = post(
        api, "/console/ram/policies/Custom/Mine/versions", acme, document=v2, set_as_default="true"
    )
    assert added.headers["location"].endswith("done=version-created")
    page = api.get("/console/ram/policies/Custom/Mine")
    assert "stream:List*" in page.text.split("Versions")[0]  # the default document
    bad = post(api, "/console/ram/policies/Custom/Mine/versions", acme, document=BAD_EFFECT)
    assert bad.status_code == 400
    assert "Statement[1].Effect" in html.unescape(bad.text)
    v1 = api.get("/console/ram/policies/Custom/Mine/versions/v1")
    assert '"stream:*"' in html.unescape(v1.text)
    assert api.get("/console/ram/policies/Custom/Mine/versions/v9").status_code == 404
    default = post(api, "/console/ram/policies/Custom/Mine/versions/v1/default", acme)
    assert default.headers["location"].endswith("done=default-set")
    conflict = post(api, "/console/ram/policies/Custom/Mine/versions/v1/delete", acme)
    assert conflict.status_code == 409
    assert "DeleteConflict.PolicyVersion.Default" in conflict.text
    assert (
        post(api, "/console/ram/policies/Custom/Mine/versions/v2/delete", acme).status_code == 303
    )
    for _ in range(4):  # v1 and these four: v3, v4, v5, v6
        added = post(api, "/console/ram/policies/Custom/Mine/versions", acme, document=v2)
        assert added.status_code == 303
    assert api.get("/console/ram/policies/Custom/Mine").text.count("/versions/v") >= 5
    full = post(api, "/console/ram/policies/Custom/Mine/versions", acme, document=STREAM_POLICY)
    assert full.status_code == 409
    assert "at most 5" in full.text

    assert (
        post(api, "/console/ram/roles/runner/policies", acme, policy="Custom:Mine").status_code
        == 303
    )
    held = post(api, "/console/ram/policies/Custom/Mine/delete", acme)
    assert held.status_code == 409
    assert "DeleteConflict.Policy.Attachment" in held.text
    post(api, "/console/ram/roles/runner/policies/Custom/Mine/detach", acme)
    assert post(api, "/console/ram/policies/Custom/Mine/delete", acme).status_code == 303
    assert api.get("/console/ram/policies/Custom/Mine").status_code == 404


def test_role_trust_policy_editor(api: TestClient, acme: str) -> None:
    refused = post(api, "/console/ram/roles", acme, name="svc", document=STREAM_POLICY)
    assert refused.status_code == 400
    assert "Principal" in html.unescape(refused.text)
    created = post(api, "/console/ram/roles", acme, name="svc", document=SERVICE_TRUST)
    assert created.headers["location"] == "/console/ram/roles/svc?done=created"
    page = api.get("/console/ram/roles/svc")
    assert "ecs.example.com" in page.text
    changed = SERVICE_TRUST.replace("ecs.example.com", "fc.example.com")
    saved = post(api, "/console/ram/roles/svc", acme, description="functions", document=changed)
    assert saved.status_code == 303
    assert "fc.example.com" in api.get("/console/ram/roles/svc").text
    broken = post(api, "/console/ram/roles/svc", acme, document="[]")
    assert broken.status_code == 400
    assert "must be an object" in html.unescape(broken.text)
    attach = post(api, "/console/ram/roles/svc/policies", acme, policy="System:NetworkFullAccess")
    assert attach.status_code == 303
    assert post(api, "/console/ram/roles/svc/delete", acme).status_code == 303
    assert api.get("/console/ram/roles/svc").status_code == 404


def test_service_role_authorization_pages(api: TestClient, acme: str) -> None:
    page = api.get("/console/ram/service-role")
    assert 'data-authorized="false"' in page.text
    assert "You have not created the default stream computing role" in page.text
    assert 'href="/console/ram/service-role/authorize"' in page.text
    assert "I have authorized" in page.text
    zh = api.get("/console/ram/service-role", headers={"Accept-Language": "zh-CN"}).text
    assert "您还没有创建默认的流计算角色" in zh
    assert "前往授权" in zh
    assert "授权完毕" in zh
    rechecked = api.get("/console/ram/service-role?checked=true")
    assert "still not authorized" in rechecked.text

    authorize = api.get("/console/ram/service-role/authorize")
    assert "StreamDefaultRole" in authorize.text
    assert "uses this role by default to access your resources" in authorize.text
    assert "StreamRolePolicy" in authorize.text
    assert ">Agree<" in authorize.text
    assert ">Cancel<" in authorize.text
    agreed = post(api, "/console/ram/service-role/authorize", acme)
    assert agreed.headers["location"] == "/console/ram/service-role?done=authorized"
    done = api.get(agreed.headers["location"])
    assert 'data-authorized="true"' in done.text
    assert "dhs&gt;DeleteTopic" in done.text  # the guide's policy, as the guide prints it
    assert "Ready" in done.text
    assert api.get("/console/ram/roles/StreamDefaultRole").status_code == 200

    confirm = api.get("/console/ram/service-role/reinitialize")
    assert "Running jobs" in confirm.text or "running jobs" in confirm.text
    zh_confirm = api.get(
        "/console/ram/service-role/reinitialize", headers={"Accept-Language": "zh-CN"}
    )
    assert "外部存储" in zh_confirm.text
    reset = post(api, "/console/ram/service-role/reinitialize", acme)
    assert reset.headers["location"] == "/console/ram/service-role?done=reinitialized"
    assert 'data-authorized="false"' in api.get("/console/ram/service-role").text


def test_service_role_reports_missing_exclusive_actions(api: TestClient, acme: str) -> None:
    post(api, "/console/ram/service-role/authorize", acme)
    narrow = json.dumps(
        {"Version": "1", "Statement": [{"Action": "oss:*", "Resource": "*", "Effect": "Allow"}]}
    )
    added = post(
        api,
        "/console/ram/policies/Custom/StreamRolePolicy/versions",
        acme,
        document=narrow,
        set_as_default="true",
    )
    assert added.status_code == 303
    page = api.get("/console/ram/service-role").text
    assert "Missing for running clusters" in page
    assert "<code>vpc:DescribeVpcs</code>" in page
    assert "<code>ecs:CreateSecurityGroup</code>" in page


def test_htmx_writes_redirect_and_errors_flash(api: TestClient, acme: str) -> None:
    seed(api)
    done = api.post("/console/ram/groups/devs/members", data={"user": "dev"}, headers=htmx(acme))
    assert done.status_code == 200
    assert done.headers["hx-redirect"] == "/console/ram/groups/devs?done=member-added"
    failed = api.post(
        "/console/ram/groups/devs/members", data={"user": "ghost"}, headers=htmx(acme)
    )
    assert failed.status_code == 404
    assert failed.headers["hx-retarget"] == "#flash"
    assert "EntityNotExist.User" in failed.text


# ---------------------------------------------------------------- odd input: never a 500

ODD = [
    "a'b",
    "<script>alert(1)</script>",
    "a\x00b",
    "\x00",
    "ácmé",
    "账号",
    "x" * 10_000,
    "../../etc/passwd",
    "%00",
    "{account_id}",
    "\r\nX-Injected: 1",
    " ",
    "\x7f",
]


def stored_text(platform: platform_module.Platform) -> tuple[list[str], list[str]]:
    """(names, display names, comments and descriptions; policy documents) of every RAM row."""
    with db.transaction(platform.sessions) as session:
        short: list[str] = []
        for user in session.execute(select(tables.Identity)).scalars():
            short += [user.name, user.display_name, user.comment]
        for group in session.execute(select(tables.RamGroup)).scalars():
            short += [group.name, group.display_name, group.comment]
        for policy in session.execute(select(tables.RamPolicy)).scalars():
            short += [policy.name, policy.description]
        for role in session.execute(select(tables.RamRole)).scalars():
            short += [role.name, role.description]
        documents = [v.document for v in session.execute(select(tables.RamPolicyVersion)).scalars()]
        documents += [r.trust_policy for r in session.execute(select(tables.RamRole)).scalars()]
        return short, documents


@pytest.mark.parametrize("value", ODD, ids=range(len(ODD)))
def test_odd_form_values(
    api: TestClient, acme: str, value: str, platform: platform_module.Platform
) -> None:
    seed(api)
    for path, field, extra in (
        ("/console/ram/users", "name", {}),
        ("/console/ram/users", "display_name", {"name": "u1"}),
        ("/console/ram/users", "comment", {"name": "u2"}),
        ("/console/ram/users", "password", {"name": "u3", "console_enabled": "true"}),
        ("/console/ram/groups", "name", {}),
        ("/console/ram/groups", "comment", {"name": "g1"}),
        ("/console/ram/policies", "name", {"document": STREAM_POLICY}),
        ("/console/ram/policies", "document", {"name": "p1"}),
        ("/console/ram/policies", "description", {"name": "p2", "document": STREAM_POLICY}),
        ("/console/ram/roles", "name", {"document": SERVICE_TRUST}),
        ("/console/ram/roles", "document", {"name": "r1"}),
        ("/console/ram/users/dev", "new_name", {}),
        ("/console/ram/users/dev/policies", "policy", {}),
        ("/console/ram/groups/devs/members", "user", {}),
        ("/console/ram/policies/Custom/StreamAll/versions", "document", {}),
        ("/console/ram/policies/validate", "document", {}),
        ("/console/ram/users/dev/console-access", "enabled", {}),
    ):
        response = post(api, path, acme, **{**extra, field: value})
        assert response.status_code < 500, (path, field, response.text[:300])
        assert "Traceback" not in response.text
    short, documents = stored_text(platform)
    assert not [t for t in short if any(unicodedata.category(c) == "Cc" for c in t)]
    assert not [d for d in documents if "\x00" in d]


@pytest.mark.parametrize("value", ODD, ids=range(len(ODD)))
def test_odd_path_and_query_values(
    api: TestClient, acme: str, value: str, platform: platform_module.Platform
) -> None:
    from urllib.parse import quote

    name = quote(value, safe="")
    for path in (
        f"/console/ram/users/{name}",
        f"/console/ram/groups/{name}",
        f"/console/ram/roles/{name}",
        f"/console/ram/policies/Custom/{name}",
        f"/console/ram/policies/{name}/x",
        f"/console/ram/policies/Custom/StreamAll/versions/{name}",
        f"/console/ram/policies?type={name}",
        f"/console/ram/users?offset={name}",
    ):
        response = api.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert "Traceback" not in response.text
    for path in (
        f"/console/ram/users/{name}/delete",
        f"/console/ram/groups/{name}/members/{name}/remove",
        f"/console/ram/users/{name}/policies/Custom/{name}/detach",
        f"/console/ram/policies/Custom/{name}/versions/{name}/default",
    ):
        response = post(api, path, acme)
        assert 400 <= response.status_code < 500, (path, response.status_code)
    # the refusal is in the trail, under a resource the database could store (a value with
    # a `/` reaches no route: the path has one segment more)
    events = trail_of(platform, "ram:DeleteUser", "failed")
    assert len(events) == (0 if "/" in value else 1)
    assert all(e.resource.startswith("acs:ram::") and "\x00" not in e.resource for e in events)


@pytest.mark.parametrize(
    "page", ["/console/ram/users/dev", "/console/ram/groups/devs", "/console/ram/roles/runner"]
)
def test_the_attach_form_chooses_no_policy_beforehand(
    api: TestClient, acme: str, page: str
) -> None:
    """Guide, 为子账号授权: the user picks the policy; nothing is granted by one click."""
    seed(api)
    text = api.get(page).text
    select = text[text.index('<select name="policy"') :]
    select = select[: select.index("</select>")]
    options = re.findall(r"<option[^>]*>", select)
    assert options[0] == '<option value="" selected disabled>', options[:2]
    assert [o for o in options[1:] if "selected" in o] == []
    assert 'value="System:AdministratorAccess"' in select  # still offered
    refused = post(api, f"{page}/policies", acme, policy="")  # as a form sends no choice
    assert refused.status_code == 422, refused.text
