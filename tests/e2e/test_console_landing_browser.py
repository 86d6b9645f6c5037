"""The console's first page in a real browser (Debian's Chromium via Playwright), English and
Chinese, against its own `rtc up`: the account lands on the guide's management console (管理
控制台) with its orders as a list, a pay-as-you-go order at its hourly rate with the currency,
and a region switch once the operator adds a second region; a RAM user granted one project
(`acs:stream:*:*:<project>`) lands on a page that works, without the entries it can never use;
the purchase forms do not submit without the service agreement ticked (HTML `required`) and
buy once it is; the sizing calculator explains itself in the page's language.

Orders, projects, the policy and the RAM user are made through the API (as an integration
test would); what is checked is what the browser shows. No cluster is created, so no node
process starts. Screenshots go to the screenshots directory (tests/e2e/screens.py).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright_sync
import pytest

from tests.conftest import PASSWORD, LiveServer, start_server, stop_server
from tests.e2e import screens
from tests.e2e.test_console_browser import ARGS, CHROMIUM
from tests.e2e.test_console_ram_browser import sign_up_and_in

SCREENSHOTS = screens.directory()
API = "/api/v1"
PAYG = {
    "mode": "exclusive",
    "billing": "payg",
    "months": 0,
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "4c16g",
    "slave_count": 2,
    "agree_to_terms": True,
}
# what a RAM user can never use, or may not without a grant: never offered in its navigation
NEVER_FOR_A_RAM_USER = (
    "/console/ram",
    "/console/buckets",
    "/console/networks",
    "/console/orders",
    "/console/purchase/shared",
    "/console/purchase/exclusive",
    "/console/exclusive-clusters/new",
    "/console/shared-projects/new",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A `rtc up` of this module alone: the region it adds is seen by no other test."""
    started = start_server(tmp_path_factory.mktemp("landing") / "data")
    try:
        yield started
    finally:
        stop_server(started)


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_sync.Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make does it)")
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: playwright_sync.Browser) -> Iterator[playwright_sync.Page]:
    """A fresh browser context (no cookies) for each test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def client_of(url: str, account: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=10)
    signed = client.post(f"{API}/sessions", json={"account": account, "password": password})
    assert signed.status_code == 201, signed.text
    client.headers["Authorization"] = f"Bearer {signed.json()['token']}"
    return client


def call(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = client.request(method, API + path, json=body)
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.json() if answer.content else None


def sign_up(url: str, alias: str) -> httpx.Client:
    made = httpx.post(f"{url}{API}/signup", json={"alias": alias, "password": PASSWORD})
    assert made.status_code == 201, made.text
    return client_of(url, alias)


def shared_project(client: httpx.Client, name: str) -> dict[str, Any]:
    """Buy and pay 2 shared CU, make a project of them (the guide's shared-mode flow)."""
    body = {"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True}
    order = call(client, "POST", "/orders", body)
    call(client, "POST", f"/orders/{order['id']}/pay")
    made: dict[str, Any] = call(
        client, "POST", "/projects", {"name": name, "order_id": order["id"]}
    )
    return made


def nav_links(page: playwright_sync.Page) -> list[str]:
    """The addresses the sidebar offers (main list and the "Account" group)."""
    links = page.locator("nav.sidebar a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [str(link) for link in links]


def to_chinese(page: playwright_sync.Page) -> None:
    """The language switch of the top bar (it sets the cookie: later pages stay Chinese)."""
    page.locator("nav.langs a[hreflang=zh-CN]").click()
    playwright_sync.expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_the_account_lands_on_the_management_console_and_switches_regions(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "land-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)  # asserts the landing address: /console
    tenant = client_of(url, alias)
    call(tenant, "POST", "/ram/service-role")
    shared = shared_project(tenant, "analytics")
    payg = call(tenant, "POST", "/orders", PAYG)
    assert payg["amount"] == "0.00"  # nothing is due up front: the page shows the rate instead

    page.reload()
    expect(page.locator("h1")).to_have_text("Realtime Compute console")
    links = nav_links(page)
    assert links[0] == "/console" and "/console/capacity" not in links
    assert links.index("/console/networks") < links.index("/console/ram")
    orders = page.locator("#orders-table")
    shared_row = orders.locator(f'tr[data-order="{shared["order_id"]}"]')
    expect(shared_row.locator("[data-amount]")).to_have_text("¥400.00")  # 2 CU x 200.00
    expect(shared_row).to_contain_text("In use")
    payg_row = orders.locator(f'tr[data-order="{payg["id"]}"]')
    # 3 machines of 4 cores at 0.30 per core and hour: the rate, with its currency, not 0.00
    expect(payg_row.locator("[data-amount]")).to_have_text("¥3.60 / hour")
    expect(payg_row).to_contain_text("Pay-as-you-go")
    expect(payg_row).to_contain_text("Pending payment")
    expect(page.locator("#new-project")).to_be_visible()
    expect(page.get_by_role("link", name="Buy shared CU")).to_be_visible()
    # one region: named, no switch
    expect(page.locator("[data-region-link]")).to_have_count(0)
    expect(page.locator('[data-region="local"]')).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "console-landing.png"), full_page=True)

    # the order's own page says the rate too
    payg_row.get_by_role("link", name="Details").click()
    expect(page).to_have_url(f"{url}/console/orders/{payg['id']}")
    expect(page.locator("body")).to_contain_text("¥3.60 / hour")
    page.goto(url + "/console")

    # the operator adds a second region: the page offers a switch, each region its own orders
    operator = client_of(url, server.account, server.password)
    east = {"display_name": "East", "shared_cu_month_cents": 30000}
    call(operator, "PUT", "/catalog/regions/east", east)
    east_order = call(
        tenant,
        "POST",
        "/orders",
        {"mode": "shared", "cu": 2, "months": 1, "region": "east", "agree_to_terms": True},
    )
    assert east_order["amount"] == "600.00"  # the east region's own price, 300.00 a CU
    page.reload()
    expect(page.locator('[data-region="local"]')).to_have_attribute("aria-current", "true")
    expect(orders.locator(f'tr[data-order="{east_order["id"]}"]')).to_have_count(0)
    page.locator('[data-region-link="east"]').click()
    expect(page).to_have_url(f"{url}/console?region=east")
    expect(page.locator('[data-region="east"]')).to_have_attribute("aria-current", "true")
    expect(page.locator('[data-region-link="local"]')).to_be_visible()
    expect(orders.locator(f'tr[data-order="{east_order["id"]}"] [data-amount]')).to_have_text(
        "¥600.00"
    )
    expect(orders.locator(f'tr[data-order="{payg["id"]}"]')).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "console-landing-regions.png"), full_page=True)

    # the same page in Chinese: the region is kept, the words and the rate are Chinese
    to_chinese(page)
    expect(page).to_have_url(re.compile(r"region=east"))
    expect(page.locator("h1")).to_have_text("实时计算管理控制台")
    page.locator('[data-region-link="local"]').click()
    expect(page.locator('[data-region="local"]')).to_have_attribute("aria-current", "true")
    expect(page.locator(f'tr[data-order="{payg["id"]}"] [data-amount]')).to_have_text(
        "¥3.60 / 小时"
    )
    expect(page.locator(f'tr[data-order="{payg["id"]}"]')).to_contain_text("按量付费")
    body = page.locator("main").inner_text()
    for english in ("Pay-as-you-go", "Pending payment", "Orders", "Buy shared CU", "hour"):
        assert english not in body, english
    links = nav_links(page)
    assert links[0] == "/console" and "/console/ram" in links
    page.screenshot(path=str(SCREENSHOTS / "console-landing-zh.png"), full_page=True)


def test_a_ram_user_granted_one_project_lands_on_it(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "grant-" + secrets.token_hex(3)
    owner = sign_up(url, alias)
    call(owner, "POST", "/ram/service-role")
    shared_project(owner, "analytics")
    shared_project(owner, "secret_one")
    one_project = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "stream:*", "Resource": "acs:stream:*:*:analytics"}
        ],
    }
    call(
        owner, "POST", "/ram/policies", {"name": "OneProject", "document": json.dumps(one_project)}
    )
    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    call(owner, "POST", "/ram/users", user)
    call(owner, "PUT", "/ram/users/dev/policies/Custom/OneProject")

    page.goto(f"{url}/login/{alias}")
    page.locator("input[name=user]").fill("dev")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/console")
    expect(page.locator("h2", has_text="Your projects")).to_be_visible()
    granted = page.locator("#granted-table")
    expect(granted.locator('tr[data-project="analytics"]')).to_be_visible()
    expect(granted.locator("tr[data-project]")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("secret_one")
    for absent in ("#orders-section", "#new-project", "#new-cluster"):
        expect(page.locator(absent)).to_have_count(0)
    links = nav_links(page)
    assert links[0] == "/console" and "/console/identity" in links
    for never in NEVER_FOR_A_RAM_USER:
        assert never not in links, never
        expect(page.locator(f'main a[href="{never}"]')).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "console-landing-ram-user.png"), full_page=True)

    to_chinese(page)
    expect(page.locator("h2", has_text="您的项目")).to_be_visible()
    expect(page.locator("#granted-table tr[data-project]")).to_have_count(1)
    assert "Your projects" not in page.locator("main").inner_text()
    links = nav_links(page)
    for never in NEVER_FOR_A_RAM_USER:
        assert never not in links, never
    page.screenshot(path=str(SCREENSHOTS / "console-landing-ram-user-zh.png"), full_page=True)

    # the project it was granted opens; the one it was not is refused
    page.locator('#granted-table a[href="/console/projects/analytics"]').click()
    expect(page).to_have_url(url + "/console/projects/analytics")
    expect(page.locator("h1")).to_contain_text("analytics")
    refused = page.goto(url + "/console/projects/secret_one")
    assert refused is not None and refused.status == 403


def test_buying_needs_the_service_agreement_ticked(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    url = server.url
    alias = "agree-" + secrets.token_hex(3)
    sign_up_and_in(page, url, alias)
    tenant = client_of(url, alias)

    page.goto(url + "/console/purchase/shared")
    page.locator("input[name=cu]").fill("3")
    expect(page.locator("[data-price]")).to_contain_text("¥600.00")
    agree = page.locator("input[name=agree]")
    expect(agree).not_to_be_checked()
    page.get_by_role("button", name="Buy now").click()
    # the browser keeps the form: the box is required, nothing was sent
    expect(page).to_have_url(url + "/console/purchase/shared")
    assert agree.evaluate("box => box.validity.valueMissing") is True
    assert call(tenant, "GET", "/orders") == []
    expect(page.get_by_role("link", name="Read the service agreement")).to_be_visible()
    agree.check()
    page.get_by_role("button", name="Buy now").click()
    expect(page).to_have_url(re.compile(re.escape(url) + r"/console/orders/\d+\?done=ordered"))
    placed = call(tenant, "GET", "/orders")
    assert [(o["mode"], o["cu"], o["amount"]) for o in placed] == [("shared", 3, "600.00")]

    # pay-as-you-go on the exclusive form: the hourly rate with its currency, then buy it
    page.goto(url + "/console/purchase/exclusive")
    page.locator("input[name=billing][value=payg]").check()
    expect(page.locator("[data-price]")).to_contain_text("¥3.60 / hour")
    page.get_by_role("button", name="Buy now").click()
    expect(page).to_have_url(url + "/console/purchase/exclusive")
    assert page.locator("input[name=agree]").evaluate("box => box.validity.valueMissing")
    assert len(call(tenant, "GET", "/orders")) == 1
    page.locator("input[name=agree]").check()
    page.get_by_role("button", name="Buy now").click()
    expect(page).to_have_url(re.compile(r"/console/orders/\d+\?done=ordered"))
    expect(page.locator("body")).to_contain_text("¥3.60 / hour")
    payg = [o for o in call(tenant, "GET", "/orders") if o["billing"] == "payg"]
    assert [(o["hour"], o["currency"]) for o in payg] == [("3.60", "CNY")]


def test_the_calculator_explains_itself_in_the_page_s_language(
    server: LiveServer, page: playwright_sync.Page
) -> None:
    expect = playwright_sync.expect
    url = server.url
    sign_up_and_in(page, url, "calc-" + secrets.token_hex(3))
    page.goto(url + "/console/purchase/exclusive?lang=zh_CN")
    page.locator("input[name=qps]").fill("50000")
    page.locator("select[name=complexity]").select_option("complex")
    page.get_by_role("button", name="估算 CU").click()
    expect(page.locator("[data-cu-range]")).to_contain_text("10")
    reasoning = page.locator("[data-reasoning]")
    expect(reasoning).to_contain_text("每秒 50,000 条记录")
    expect(reasoning).to_contain_text("需要 10 到 50 CU")
    explained = reasoning.inner_text()
    for english in ("records", "needs", "complex jobs", "Start near"):
        assert english not in explained, english
    # a broken rule, live, in Chinese
    page.locator("input[name=slave_count]").fill("1")
    expect(page.locator("[data-problems]")).to_contain_text("集群至少需要 2 个 slave")
    page.screenshot(path=str(SCREENSHOTS / "console-purchase-calculator-zh.png"), full_page=True)
