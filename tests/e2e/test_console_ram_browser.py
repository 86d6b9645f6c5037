"""The RAM console in a real browser (Debian's Chromium via Playwright) against `rtc up`.

The guide's sub-account path: write a policy in the editor and watch its problems appear and
go as one types, save it, attach it to a new RAM user, and authorize the service role
through its authorization page ("Agree").
"""

from __future__ import annotations

import json
import secrets

import playwright.sync_api as playwright_sync
import pytest

from tests.conftest import LiveServer
from tests.e2e import screens
from tests.e2e.test_console_browser import PASSWORD

SCREENSHOTS = screens.directory()
BAD = json.dumps(
    {
        "Version": "1",
        "Statement": [
            {"Action": "stream:*", "Resource": "acs:stream:*:*:*", "Effect": "Allow"},
            {"Action": "ram:PassRole", "Resource": "acs:ram:*:*:*", "Effect": "Alow"},
        ],
    },
    indent=2,
)
GOOD = BAD.replace('"Alow"', '"Allow"')

pytestmark = pytest.mark.slow


def sign_up_and_in(page: playwright_sync.Page, url: str, alias: str) -> None:
    page.goto(url + "/signup")
    page.locator("input[name=alias]").fill(alias)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password_again]").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    playwright_sync.expect(page).to_have_url(url + "/console")


def test_policy_editor_attach_and_service_role(live_server: LiveServer, page: object) -> None:
    expect = playwright_sync.expect
    assert isinstance(page, playwright_sync.Page)
    url = live_server.url
    alias = "ram-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)

    page.get_by_role("link", name="RAM", exact=True).click()
    expect(page).to_have_url(url + "/console/ram")
    expect(page.locator("[data-login-url]")).to_have_text(f"{url}/login/{alias}")

    # the editor: a problem appears as one types, and goes once it is fixed
    page.get_by_role("link", name="Policies", exact=True).click()
    page.get_by_role("link", name="Create policy").click()
    expect(page).to_have_url(url + "/console/ram/policies/new")
    page.locator("input[name=name]").fill("StreamProject")
    editor = page.locator("textarea[name=document]")
    editor.fill(BAD)
    problems = page.locator("[data-problems]")
    expect(problems).to_contain_text('Statement[1].Effect: must be "Allow" or "Deny"')
    page.screenshot(path=str(SCREENSHOTS / "console-ram-editor.png"), full_page=True)
    editor.fill(GOOD)
    expect(page.locator("[data-valid]")).to_be_visible()
    expect(problems).to_have_count(0)
    page.get_by_role("button", name="Create policy").click()
    expect(page).to_have_url(url + "/console/ram/policies/Custom/StreamProject")
    expect(page.locator("[data-document]")).to_contain_text("ram:PassRole")

    # a RAM user with console access, then the policy attached to it
    page.get_by_role("link", name="Users", exact=True).click()
    page.locator("input[name=name]").fill("dev")
    page.locator("input[name=console_enabled]").check()
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page).to_have_url(url + "/console/ram/users/dev?done=created")
    page.locator("select[name=policy]").select_option("Custom:StreamProject")
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page).to_have_url(url + "/console/ram/users/dev?done=attached")
    attached = page.locator("#attached-policies table")
    expect(attached).to_contain_text("StreamProject")
    page.screenshot(path=str(SCREENSHOTS / "console-ram-user.png"), full_page=True)

    # the service role: the prompt, the authorization page, "Agree"
    page.get_by_role("link", name="Service role", exact=True).click()
    expect(page.locator("#service-role-status")).to_have_attribute("data-authorized", "false")
    expect(
        page.get_by_text("You have not created the default stream computing role")
    ).to_be_visible()
    page.get_by_role("link", name="Go to authorize").click()
    expect(page).to_have_url(url + "/console/ram/service-role/authorize")
    expect(page.locator("[data-role]")).to_have_text("StreamDefaultRole")
    page.get_by_role("button", name="Agree").click()
    expect(page).to_have_url(url + "/console/ram/service-role?done=authorized")
    expect(page.locator("#service-role-status")).to_have_attribute("data-authorized", "true")
    expect(page.locator("[data-document]")).to_contain_text("oss:*")
    page.screenshot(path=str(SCREENSHOTS / "console-ram-service-role.png"), full_page=True)

    # the Chinese page of the prompt after re-initializing: the guide's words
    page.get_by_role("link", name="Re-initialize").click()
    page.get_by_role("button", name="Delete the role and re-initialize").click()
    expect(page.locator("#service-role-status")).to_have_attribute("data-authorized", "false")
    page.goto(url + "/console/ram/service-role?lang=zh_CN")
    expect(page.get_by_text("您还没有创建默认的流计算角色")).to_be_visible()
    expect(page.get_by_role("link", name="前往授权")).to_be_visible()
