"""The capacity console in a real browser (Debian's Chromium via Playwright) against its own
`rtc up`, the guide's flows end to end:

sign in -> authorize the service role -> buy shared CU (live price) -> pay -> the red badge
shows 1 -> create a project; buy an exclusive cluster with the live calculator -> pay ->
the operator registers a zone (API) -> the tenant creates a network, a subnet and a bucket
in the console -> the cluster in the guide's four steps -> the page follows it to
"running" (real node processes of the local provider) -> a project in it -> scale out ->
running with the new slave. The cluster is released at the end, and every process under
the server's data directory is killed by pid whatever happens.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests.conftest import LiveServer, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_ram_browser import sign_up_and_in
from tests.integration.test_cluster_reconciler import kill_all_under, port_window

SCREENSHOTS = screens.directory()
RUNNING_TIMEOUT_MS = 120_000

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A `rtc up` of this test alone (its cluster reconciler starts real node processes)."""
    data_dir = tmp_path / "data"
    window = port_window()
    env = {
        "RTC_LOCAL_PROVIDER__PORT_MIN": str(window["port_min"]),
        "RTC_LOCAL_PROVIDER__PORT_MAX": str(window["port_max"]),
    }
    started = start_server(data_dir, env)
    try:
        yield started
    finally:
        stop_server(started)
        kill_all_under(data_dir)


def register_zone(server: LiveServer, name: str, **capacity: int) -> None:
    """The operator's part: a zone with host capacity, through the API."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        signed = client.post(
            "/api/v1/sessions", json={"account": server.account, "password": server.password}
        )
        assert signed.status_code == 201, signed.text
        headers = {"Authorization": f"Bearer {signed.json()['token']}"}
        made = client.post(
            "/api/v1/zones", headers=headers, json={"name": name, "capacity": capacity}
        )
        assert made.status_code == 201, made.text


def pay_order(page: playwright_sync.Page, url: str) -> None:
    expect = playwright_sync.expect
    expect(page).to_have_url(re.compile(re.escape(url) + r"/console/orders/\d+\?done=ordered"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/orders/\d+\?done=paid$"))
    expect(page.locator("#order")).to_have_attribute(
        "data-order-state", re.compile("paid|consumed")
    )


def test_buy_create_project_and_cluster_then_scale_out(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    page.on("dialog", lambda dialog: dialog.accept())
    url = server.url
    alias = "cap-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)

    # the service role first (guide: 共享模式角色授权)
    page.goto(url + "/console/ram/service-role/authorize")
    page.get_by_role("button", name="Agree").click()
    expect(page.locator("#service-role-status")).to_have_attribute("data-authorized", "true")

    # shared mode: buy 2 CU for a month (the price follows the form), pay
    page.get_by_role("link", name="Management console").click()
    expect(page).to_have_url(url + "/console")
    page.get_by_role("link", name="Buy shared CU").first.click()
    page.locator("input[name=cu]").fill("3")
    expect(page.locator("[data-price]")).to_contain_text("¥600.00")
    page.locator("input[name=cu]").fill("2")
    expect(page.locator("[data-price]")).to_contain_text("¥400.00")
    page.locator("input[name=agree]").check()  # the service agreement
    page.get_by_role("button", name="Buy now").click()
    pay_order(page, url)

    # the red number on "New project", then the project from the order
    page.get_by_role("link", name="Shared projects", exact=True).click()
    expect(page.locator("#new-project [data-unconsumed]")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "console-capacity-badge.png"), full_page=True)
    page.locator("#new-project").click()
    page.locator("input[name=name]").fill("analytics")
    page.locator("input[name=description]").fill("the guide's shared project")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page).to_have_url(url + "/console/projects/analytics?done=created")
    expect(page.locator("[data-cu]")).to_have_text("2")
    page.get_by_role("link", name="Shared projects", exact=True).click()
    expect(page.locator("#new-project [data-unconsumed]")).to_have_count(0)

    # exclusive: the calculator fills the form with the cheapest mix; a broken rule shows live
    page.goto(url + "/console/purchase/exclusive")
    page.locator("input[name=qps]").fill("50000")
    page.get_by_role("button", name="Estimate CU").click()
    expect(page.locator("[data-cu-range]")).to_have_text("About 5 CU.")
    expect(page.locator("#quote-cu")).to_have_value("5")
    page.get_by_role("button", name="Cheapest mix").click()
    expect(page.locator("[data-quote]")).to_contain_text("Cheapest mix for 5 CU")
    expect(page.locator("select[name=slave_type]")).to_have_value("4c16g")
    expect(page.locator("input[name=slave_count]")).to_have_value("2")
    page.locator("input[name=slave_count]").fill("1")
    expect(page.locator("[data-problems]")).to_contain_text("a cluster needs at least 2 slaves")
    page.locator("input[name=slave_count]").fill("2")
    expect(page.locator("[data-usable-cu]")).to_have_text("6")
    page.screenshot(path=str(SCREENSHOTS / "console-capacity-purchase.png"), full_page=True)
    page.locator("input[name=agree]").check()
    page.get_by_role("button", name="Buy now").click()
    pay_order(page, url)

    # the operator registers a zone; the tenant makes a network, a subnet and a bucket
    register_zone(server, "zone-a", **{"4c16g": 10})
    page.get_by_role("link", name="Networks and subnets").first.click()
    page.locator("input[name=name]").fill("vpc1")
    page.get_by_role("button", name="Create network").click()
    expect(page).to_have_url(url + "/console/networks/vpc1?done=created")
    page.locator("input[name=name]").fill("sw1")
    page.locator("input[name=cidr]").fill("10.0.1.0/24")
    page.locator("select[name=zone]").select_option("zone-a")
    page.get_by_role("button", name="Create subnet").click()
    expect(page.locator('tr[data-subnet="sw1"] [data-free]')).to_have_text("252")
    bucket = "udf-" + secrets.token_hex(4)
    page.get_by_role("link", name="Buckets", exact=True).first.click()
    page.locator("input[name=name]").fill(bucket)
    page.get_by_role("button", name="Create bucket").click()
    expect(page).to_have_url(f"{url}/console/buckets/{bucket}?done=created")
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "udf.jar", "mimeType": "application/java-archive", "buffer": b"PK"}]
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator('[data-object="udf.jar"]')).to_be_visible()

    # the cluster in the guide's four steps
    page.get_by_role("link", name="Exclusive clusters", exact=True).click()
    expect(page.locator("#new-cluster [data-unconsumed]")).to_have_text("1")
    page.locator("#new-cluster").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "1")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "2")
    page.locator("input[name=name]").fill("stream1")
    page.locator("input[name=description]").fill("from the browser")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "3")
    page.locator("select[name=bucket]").select_option(bucket)
    page.locator("select[name=network]").select_option("vpc1")
    subnet = page.locator("select[name=subnet] option[value=sw1]")
    expect(subnet).to_have_count(1)  # htmx loaded the network's subnets
    page.locator("select[name=zone]").select_option("zone-a")
    page.locator("select[name=subnet]").select_option("sw1")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "4")
    expect(page.locator("[data-name]")).to_have_text("stream1")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page).to_have_url(url + "/console/clusters/stream1?done=starting")
    live = page.locator("#cluster-live")
    expect(live).to_have_attribute(
        "data-cluster-state", "running", timeout=RUNNING_TIMEOUT_MS
    )  # the page polled itself while the reconciler started the nodes
    expect(page.locator("#components-table tr[data-component=agent]")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "console-capacity-cluster.png"), full_page=True)

    # a project in the cluster, then scale out by one slave
    form = page.locator("#cluster-project-form")
    form.locator("input[name=name]").fill("inside")
    form.locator("input[name=cu]").fill("4")
    form.get_by_role("button", name="Create project").click()
    expect(page).to_have_url(url + "/console/projects/inside?done=created")
    page.goto(url + "/console/clusters/stream1")
    expect(page.locator("[data-project-cu]")).to_have_text("4")
    page.locator("#scale-form input[name=slave_count]").fill("3")
    page.get_by_role("button", name="Order the change").click()
    expect(page).to_have_url(re.compile(r"/console/orders/\d+\?done=ordered"))
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#order")).to_have_attribute("data-order-state", "consumed")
    page.get_by_role("link", name="stream1").click()
    expect(page.locator("[data-slaves]")).to_contain_text("3 \u00d7")
    expect(live).to_have_attribute("data-cluster-state", "running", timeout=RUNNING_TIMEOUT_MS)
    expect(page.locator("#components-table tr[data-component=agent]")).to_have_count(4)
    expect(page.locator("[data-usable-cu]")).to_have_text("9")

    # clean up: the project, then the cluster (its processes stop)
    page.locator('tr[data-project="inside"]').get_by_role("button", name="Delete").click()
    expect(page).to_have_url(url + "/console/clusters/stream1?done=deleted")
    page.get_by_role("button", name="Release cluster").click()
    expect(page).to_have_url(url + "/console/clusters/stream1?done=releasing")
    expect(live).to_have_attribute("data-cluster-state", "released", timeout=RUNNING_TIMEOUT_MS)
