"""The cluster wizard in a real browser (Debian's Chromium via Playwright), English and
Chinese, against its own `rtc up`: step 1 names what is missing with a link to each fix and
keeps "Next" disabled; once the account is ready it goes on; the step bar draws each number
once and its items do not overlap on a narrow screen; step 3 offers only the zones and
subnets that can hold the order. The walk stops at the confirm step (no cluster starts).
Screenshots go to the screenshots directory (tests/e2e/screens.py, /tmp by default).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_ram_browser import sign_up_and_in
from tests.integration.test_cluster_reconciler import kill_all_under, port_window

SCREENSHOTS = screens.directory()
WIZARD = "/console/exclusive-clusters/new"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A `rtc up` of this test alone: the zones it registers are the only ones."""
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


def client_of(url: str, account: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    signed = client.post("/api/v1/sessions", json={"account": account, "password": password})
    assert signed.status_code == 201, signed.text
    client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
    return client


def call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = client.request(method, path, json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


def check_step_bar(page: playwright_sync.Page) -> None:
    """Each number drawn once (no list marker, no "1." in the label), no two items overlap."""
    items = page.locator("#steps li")
    assert items.count() == 4
    for index in range(4):
        item = items.nth(index)
        assert item.locator(".wizard-step-number").inner_text() == str(index + 1)
        assert f"{index + 1}." not in item.inner_text()
        marker = item.evaluate("li => getComputedStyle(li, '::marker').content")
        list_style = item.evaluate("li => getComputedStyle(li).listStyleType")
        assert list_style == "none" or marker in ("none", '""'), (list_style, marker)
    boxes = [items.nth(i).bounding_box() for i in range(4)]
    assert all(box is not None for box in boxes)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not boxes_overlap(boxes[i], boxes[j]), (i, j, boxes)  # type: ignore[arg-type]


def test_the_wizard_checks_first_and_offers_only_what_fits(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "wiz-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)
    tenant = client_of(url, alias, PASSWORD)
    operator = client_of(url, server.account, server.password)
    purchase = {
        "mode": "exclusive",
        "master_type": "4c16g",
        "master_count": 1,
        "slave_type": "4c16g",
        "slave_count": 4,
        "months": 1,
        "agree_to_terms": True,
    }
    order = call(tenant, "POST", "/api/v1/orders", purchase)
    call(tenant, "POST", f"/api/v1/orders/{order['id']}/pay")

    # step 1 with nothing in place: each missing thing, its link, "Next" disabled
    page.goto(url + WIZARD)
    expect(page.locator("#steps")).to_have_attribute("data-step", "1")
    expect(page.locator("[data-missing]")).to_have_count(4)
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page.locator("[data-next-reason]")).to_be_visible()
    check_step_bar(page)
    page.screenshot(path=str(SCREENSHOTS / "console-wizard-step1-missing.png"), full_page=True)
    page.set_viewport_size({"width": 420, "height": 900})
    check_step_bar(page)
    page.screenshot(path=str(SCREENSHOTS / "console-wizard-step1-narrow.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator('[data-missing="ServiceRoleNotAuthorized"] a').click()
    expect(page).to_have_url(url + "/console/ram/service-role")
    page.goto(url + "/console/ram/service-role/authorize")
    page.get_by_role("button", name="Agree").click()
    expect(page.locator("#service-role-status")).to_have_attribute("data-authorized", "true")

    # the operator's zones, then the tenant's network, subnets and bucket
    for name, room in (("zone-a", 10), ("zone-b", 1)):
        body = {"name": name, "capacity": {"4c16g": room}}
        call(operator, "POST", "/api/v1/zones", body)
    call(tenant, "POST", "/api/v1/networks", {"name": "vpc1", "cidr": "10.0.0.0/16"})
    for name, cidr, zone in (
        ("sw1", "10.0.1.0/24", "zone-a"),
        ("tiny", "10.0.2.0/29", "zone-a"),
        ("swb", "10.0.3.0/24", "zone-b"),
    ):
        body = {"name": name, "cidr": cidr, "zone": zone}
        call(tenant, "POST", "/api/v1/networks/vpc1/subnets", body)
    bucket = "udf-" + secrets.token_hex(4)
    call(tenant, "POST", "/api/v1/buckets", {"name": bucket})

    page.goto(url + WIZARD)
    expect(page.locator("[data-missing]")).to_have_count(0)
    expect(page.locator('[data-checks="ready"]')).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "2")
    page.locator("input[name=name]").fill("stream1")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "3")
    page.locator("select[name=bucket]").select_option(bucket)
    page.locator("select[name=network]").select_option("vpc1")
    expect(page.locator("select[name=subnet] option[value=sw1]")).to_be_enabled()
    tiny = page.locator("select[name=subnet] option[value=tiny]")
    expect(tiny).to_be_disabled()
    expect(tiny).to_contain_text("too few: 5 needed")
    expect(page.locator("select[name=subnet] option[value=swb]")).to_be_disabled()
    expect(page.locator("select[name=zone] option[value=zone-b]")).to_be_disabled()
    page.locator("select[name=zone]").select_option("zone-a")
    page.locator("select[name=subnet]").select_option("sw1")
    page.screenshot(path=str(SCREENSHOTS / "console-wizard-step3.png"), full_page=True)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "4")
    expect(page.locator("[data-name]")).to_have_text("stream1")

    # the same walk in Chinese
    page.goto(url + WIZARD + "?lang=zh_CN")
    expect(page.locator("h2.wizard-checks-title")).to_have_text("开始之前")
    expect(page.locator("#steps li").first).to_contain_text("选择订单")
    check_step_bar(page)
    page.screenshot(path=str(SCREENSHOTS / "console-wizard-step1-zh.png"), full_page=True)
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "2")
    page.locator("input[name=name]").fill("stream1")
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#steps")).to_have_attribute("data-step", "3")
    page.locator("select[name=network]").select_option("vpc1")
    tiny = page.locator("select[name=subnet] option[value=tiny]")
    expect(tiny).to_be_disabled()
    expect(tiny).to_contain_text("地址不足：需要 5 个")
    expect(page.locator("select[name=zone] option[value=zone-b]")).to_contain_text("余量不足")
    expect(page.locator(f"select[name=bucket] option[value={bucket}]")).to_contain_text("标准存储")
    page.screenshot(path=str(SCREENSHOTS / "console-wizard-step3-zh.png"), full_page=True)
    tenant.close()
    operator.close()
