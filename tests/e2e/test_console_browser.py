"""The console in a real browser (Debian's Chromium via Playwright) against `rtc up`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from tests.conftest import LiveServer
from tests.e2e import screens

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "correct-horse-9"
SCREENSHOT = screens.directory() / "console.png"

pytestmark = pytest.mark.slow


@pytest.fixture
def page() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make does it)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_sign_up_sign_in_access_key_sign_out(live_server: LiveServer, page: object) -> None:
    expect = playwright_sync.expect
    assert isinstance(page, playwright_sync.Page)
    alias = "e2e-" + secrets.token_hex(3)

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/login")
    page.get_by_role("link", name="Sign up").first.click()
    page.locator("input[name=alias]").fill(alias)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password_again]").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{live_server.url}/login/{alias}?created=true")
    expect(page.locator(".flash.success")).to_be_visible()

    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/console")
    # the guide's management console first; the identity card is the "Account" page
    expect(page.get_by_role("heading", name="Realtime Compute console")).to_be_visible()
    page.get_by_role("link", name="Account", exact=True).first.click()
    expect(page).to_have_url(live_server.url + "/console/identity")
    expect(page.get_by_text(f"/login/{alias}")).to_be_visible()

    page.get_by_role("link", name="Access keys").first.click()
    expect(page).to_have_url(live_server.url + "/console/access-keys")
    page.get_by_role("button", name="Create access key").click()
    secret = page.locator("[data-secret]")
    expect(secret).to_be_visible()
    secret_text = secret.inner_text().strip()
    assert len(secret_text) >= 30
    expect(page.locator("#keys-table tbody tr")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.reload()
    expect(page.locator("#keys-table tbody tr")).to_have_count(1)
    expect(page.locator("[data-secret]")).to_have_count(0)
    assert secret_text not in page.content()

    page.get_by_role("button", name="Disable").click()
    expect(page.locator("#keys-table .status.inactive")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login/{alias}")
    page.goto(live_server.url + "/console/access-keys")
    expect(page).to_have_url(f"{live_server.url}/login/{alias}")
