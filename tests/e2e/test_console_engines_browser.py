"""Version management (guide ch. 7 版本管理) in a real browser (Debian's Chromium via
Playwright) against its own `rtc up` with the reconcilers on and real engines:

a running cluster -> Version management -> install flink-2.2.1 (the cluster shows "Deploying
version", the page follows the install until the version is installed and current) ->
install flink-1.20.5 -> set it as current -> uninstalling the current one is refused with
the guide's message -> uninstalling the other one removes it. The engine home comes from
`engine_home_with`, so an install adopts a copy verified once per session.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests import ports
from tests.conftest import LiveServer, login, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_ram_browser import sign_up_and_in
from tests.e2e.test_engines_flow import running_cluster
from tests.integration.test_cluster_reconciler import kill_all_under

pytestmark = pytest.mark.slow

V2, V1 = "flink-2.2.1", "flink-1.20.5"
SCREENSHOTS = screens.directory()
INSTALL_TIMEOUT_MS = 240_000


@pytest.fixture
def server(tmp_path: Path, engine_home_with: Callable[[list[str]], Path]) -> Iterator[LiveServer]:
    """A `rtc up` of this test alone, its engine home holding both versions ready to adopt."""
    home = engine_home_with([V2, V1])
    env = {
        "RTC_ENGINES__HOME": str(home),
        **ports.node_env(),
    }
    data_dir = tmp_path / "data"
    started = start_server(data_dir, env)
    try:
        yield started
    finally:
        stop_server(started)
        kill_all_under(data_dir)
        kill_all_under(home)


def install(view: playwright_sync.Page, url: str, cluster: str, version: str) -> None:
    """From the installable tab: Install, then the installed tab while the cluster deploys."""
    expect = playwright_sync.expect
    view.locator("#tab-installable").click()
    expect(view.locator("#version-tabs")).to_have_attribute("data-tab", "installable")
    view.locator(f'#installable-table tr[data-version="{version}"]').get_by_role(
        "button", name="Install"
    ).click()
    versions = f"{url}/console/clusters/{cluster}/versions"
    expect(view).to_have_url(f"{versions}?tab=installed&done=installing")
    live = view.locator("#versions-live")
    # the cluster shows the guide's 版本部署中 while the engine reconciler installs
    expect(live).to_have_attribute("data-cluster-state", "deploying")
    expect(live.locator('[data-state="deploying"]')).to_have_text("Deploying version")
    expect(view.locator(f'[data-installing-version="{version}"]')).to_be_visible()
    # the live part polls itself until the install ends
    expect(live).to_have_attribute("data-cluster-state", "running", timeout=INSTALL_TIMEOUT_MS)
    row = view.locator(f'#installed-table tr[data-version="{version}"]')
    expect(row).to_have_attribute("data-state", "installed")
    expect(live).to_have_attribute("data-installing", "false")


def test_install_switch_and_uninstall_versions_in_the_browser(
    server: LiveServer,
    page: playwright_sync.Page,
) -> None:
    expect = playwright_sync.expect
    page.on("dialog", lambda dialog: dialog.accept())  # the uninstall confirmation
    url = server.url
    alias = "ver-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)
    with (
        httpx.Client(base_url=server.url, timeout=60) as client,
        httpx.Client(base_url=server.url, timeout=60) as operator,
    ):
        client.headers.update(login(client, alias))  # type: ignore[arg-type]
        operator.headers.update(login(operator, server.account, server.password))  # type: ignore[arg-type]
        running_cluster(client, operator, "c_web")

    page.goto(url + "/console/clusters/c_web")
    expect(page.locator("#cluster-live")).to_have_attribute("data-cluster-state", "running")
    page.get_by_role("link", name="Version management").click()
    expect(page).to_have_url(url + "/console/clusters/c_web/versions")
    expect(page.locator("#version-tabs")).to_have_attribute("data-tab", "installable")
    expect(
        page.locator('#installable-table tr[data-version="flink-2.3.0"] [data-tag]')
    ).to_have_text("beta")

    # the first version installed becomes the current one
    install(page, url, "c_web", V2)
    first = page.locator(f'#installed-table tr[data-version="{V2}"]')
    expect(first.locator("[data-current-flag]")).to_be_visible()
    expect(page.locator("[data-current-version]")).to_have_text(V2)
    page.screenshot(path=str(SCREENSHOTS / "console-engines-installed.png"), full_page=True)

    install(page, url, "c_web", V1)
    second = page.locator(f'#installed-table tr[data-version="{V1}"]')
    expect(second.locator("[data-current-flag]")).to_have_count(0)

    # set flink-1.20.5 as current (设置为current)
    second.get_by_role("button", name="Set as current").click()
    expect(page).to_have_url(re.compile(r"/versions\?tab=installed&done=current$"))
    expect(page.locator("[data-current-version]")).to_have_text(V1)
    expect(second.locator("[data-current-flag]")).to_be_visible()
    expect(first.locator("[data-current-flag]")).to_have_count(0)

    # the current version cannot be uninstalled (the guide's rule): its button is disabled,
    # with the reason beside it, instead of a click the service would refuse
    expect(second.get_by_role("button", name="Uninstall")).to_be_disabled()
    expect(second).to_contain_text(
        "The current version cannot be uninstalled: set another version as current first."
    )
    expect(second).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "console-engines-refused.png"), full_page=True)

    # the other one goes
    first.get_by_role("button", name="Uninstall").click()
    expect(page).to_have_url(re.compile(r"/versions\?tab=installed&done=uninstalled$"))
    expect(first).to_have_count(0)
    expect(second).to_have_attribute("data-state", "installed")
    page.locator("#tab-installable").click()
    expect(page.locator(f'#installable-table tr[data-version="{V2}"]')).to_have_count(1)
