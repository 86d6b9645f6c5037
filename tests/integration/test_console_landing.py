"""The console's first page is the guide's management console (管理控制台), for the account and
for a RAM user granted one project; regions; prices with their currency; the agreement.

Real database (SQLite, and the same suite on PostgreSQL), the real app, pages read as HTML.
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from rtcompute import settings as settings_module
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import PASSWORD
from tests.integration.test_console import signin_via_form
from tests.integration.test_console_capacity import EXCLUSIVE, ZH, post, seed_everything, text
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    attach,
    authorize_service_role,
    create_policy,
    ok,
    paid_order,
    shared_project,
)

PAYG = EXCLUSIVE | {"billing": "payg", "months": 0}


def nav_links(page: str) -> list[str]:
    """The addresses of the navigation's main list and the "Account" group."""
    sidebar = page.split('<nav class="sidebar"')[1].split("</nav>")[0]
    return re.findall(r'<a href="([^"]+)"', sidebar)


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api, "acme")


def test_the_account_lands_on_the_management_console_with_its_orders_as_a_list(
    api: TestClient, owner: Owner
) -> None:
    authorize_service_role(api, owner)
    shared = shared_project(api, owner, "analytics")
    payg = ok(
        api.post(f"{API}/orders", headers=owner.headers, json=PAYG | {"agree_to_terms": True}), 201
    )
    signin_via_form(api, owner.alias)  # asserts the landing: 303 to /console, 200
    page = text(api.get("/console"))
    assert "Realtime Compute console" in page
    links = nav_links(page)
    assert links[0] == "/console"  # the management console first
    assert links.index("/console/networks") < links.index("/console/ram")  # not secondary
    assert "/console/identity" in links and "/console/capacity" not in links
    rows = page.split('id="orders-table"')[1].split("</table>")[0]
    shared_row = rows.split(f'data-order="{shared["order_id"]}"')[1].split("</tr>")[0]
    assert "Shared" in shared_row and "New purchase" in shared_row and "2 CU" in shared_row
    assert "¥400.00" in shared_row and "In use" in shared_row  # 2 CU x 200.00 x 1 month
    assert f'href="/console/orders/{shared["order_id"]}"' in shared_row
    payg_row = rows.split(f'data-order="{payg["id"]}"')[1].split("</tr>")[0]
    # pay-as-you-go: 3 machines of 4 cores at 0.30 per core and hour, not "0.00"
    assert "Pay-as-you-go" in payg_row and "¥3.60 / hour" in payg_row
    assert "1 \u00d7 4c16g + 2 \u00d7 4c16g" in payg_row and "Pending payment" in payg_row
    assert 'id="new-project"' in page and "Buy shared CU" in page
    zh = text(api.get("/console", headers=ZH))
    assert "实时计算管理控制台" in zh and "管理控制台" in zh and "¥3.60 / 小时" in zh
    assert "Pay-as-you-go" not in zh and "Pending payment" not in zh
    # the old address still works, and the identity card moved to the "Account" page
    old = api.get("/console/capacity?region=local", follow_redirects=False)
    assert old.status_code == 307 and old.headers["location"] == "/console?region=local"
    identity = text(api.get("/console/identity"))
    for shown in ("acme", owner.account_id, "/login/acme", "Sign-in address for RAM users"):
        assert shown in identity
    assert "账号" in text(api.get("/console/identity", headers=ZH))


def test_the_api_answers_the_currency_and_the_hourly_rate(api: TestClient, owner: Owner) -> None:
    placed = ok(
        api.post(f"{API}/orders", headers=owner.headers, json=PAYG | {"agree_to_terms": True}), 201
    )
    assert (placed["amount"], placed["currency"], placed["hour"], placed["hour_cents"]) == (
        "0.00",
        "CNY",
        "3.60",
        360,
    )
    subscription = paid_order(api, owner)
    assert (subscription["currency"], subscription["hour"]) == ("CNY", None)
    catalog = ok(api.get(f"{API}/catalog", headers=owner.headers))
    assert catalog["currency"] == "CNY"
    agreement = ok(api.get(f"{API}/catalog/agreement", headers=owner.headers))
    assert "Service agreement" in agreement["text"] and "服务协议" in agreement["text"]


def test_an_order_without_the_service_agreement_is_refused_everywhere(
    api: TestClient, owner: Owner
) -> None:
    body = {"mode": "shared", "cu": 1, "months": 1}
    for agreed in ({}, {"agree_to_terms": False}):
        refused = api.post(f"{API}/orders", headers=owner.headers, json=body | agreed)
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "InvalidParameter.ServiceAgreement"
        assert "service agreement" in refused.json()["message"]
    zh = api.post(f"{API}/orders", headers=owner.headers | ZH, json=body)
    assert "服务协议" in zh.json()["message"]
    for loose in ("yes", "true", 1):  # consent is the JSON true, nothing that passes for it
        refused = api.post(
            f"{API}/orders", headers=owner.headers, json=body | {"agree_to_terms": loose}
        )
        assert refused.status_code in (400, 422), refused.text
        assert refused.json()["code"].startswith("InvalidParameter"), refused.text
    assert ok(api.get(f"{API}/orders", headers=owner.headers)) == []
    token = signin_via_form(api, owner.alias)
    form = text(api.get("/console/purchase/shared"))
    assert 'name="agree" value="true" required' in form
    assert 'href="/console/purchase/agreement"' in form
    assert 'name="agree" value="true" required' in text(api.get("/console/purchase/exclusive"))
    unchecked = post(api, "/console/purchase/shared", token, cu="1", months="1")
    assert unchecked.status_code == 400
    assert "Read and accept the service agreement to place an order." in text(unchecked)
    assert 'value="1"' in unchecked.text  # what was typed stays
    unchecked_zh = api.post(
        "/console/purchase/shared", data={"csrf_token": token, "cu": "1", "months": "1"}, headers=ZH
    )
    assert "请阅读并同意服务协议后再下单" in text(unchecked_zh)
    assert ok(api.get(f"{API}/orders", headers=owner.headers)) == []  # nothing was ordered
    bought = post(api, "/console/purchase/shared", token, cu="1", months="1", agree="true")
    assert bought.status_code == 303
    agreement = text(api.get("/console/purchase/agreement"))
    assert "Service agreement" in agreement and "calendar months" in agreement


def test_the_currency_is_the_operator_s_choice() -> None:
    terms = settings_module.BillingSettings(currency="EUR", currency_symbol="€")
    assert (terms.currency, terms.currency_symbol) == ("EUR", "€")
    with pytest.raises(ValidationError):
        settings_module.BillingSettings(currency="euro")


def test_the_region_switch_shows_the_chosen_region(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    signin_via_form(api, owner.alias)
    single = text(api.get("/console"))
    assert "Local (this installation)" in single and "data-region-link" not in single
    assert "本地（本平台）" in text(api.get("/console", headers=ZH))
    local = paid_order(api, owner)
    with db.transaction(platform.sessions) as session:
        session.add(
            capacity_tables.Region(name="east", display_name="East", shared_cu_month_cents=30000)
        )
    east = paid_order(api, owner, region="east")
    assert east["amount"] == "600.00"  # 2 CU at the east region's own price, 300.00
    page = text(api.get("/console"))
    assert 'data-region-link="east"' in page and 'data-region="local"' in page
    assert f'data-order="{local["id"]}"' in page and f'data-order="{east["id"]}"' not in page
    switched = text(api.get("/console?region=east"))
    assert 'data-region="east"' in switched and 'data-region-link="local"' in switched
    assert (
        f'data-order="{east["id"]}"' in switched and f'data-order="{local["id"]}"' not in switched
    )
    # an unknown region is not an error: the installation's own is shown
    assert f'data-order="{local["id"]}"' in text(api.get("/console?region=mars"))


def test_a_ram_user_granted_one_project_lands_on_a_page_that_works(
    api: TestClient, owner: Owner
) -> None:
    authorize_service_role(api, owner)
    shared_project(api, owner, "analytics")
    shared_project(api, owner, "secret_one")
    create_policy(api, owner, "OneProject", allow("stream:*", "acs:stream:*:*:analytics"))
    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    ok(api.put(f"{API}/ram/users/dev/policies/Custom/OneProject", headers=owner.headers), 204)
    for headers, words in (
        ({}, ("Your projects", "Management console")),
        (ZH, ("您的项目", "管理控制台")),
    ):
        signin_via_form(api, "acme", user="dev")
        page = api.get("/console", headers=headers)
        assert page.status_code == 200, page.text[:300]
        shown = text(page)
        for word in words:
            assert word in shown
        assert 'data-project="analytics"' in shown and "secret_one" not in shown
        assert 'id="nothing-granted"' not in shown
        assert 'href="/console/projects/analytics"' in shown
        links = nav_links(shown)
        assert links[0] == "/console" and "/console/identity" in links
        for never in ("/console/ram", "/console/buckets", "/console/networks", "/console/orders"):
            assert never not in links, never
        for buy in ("/console/purchase/shared", 'id="new-project"', 'id="new-cluster"'):
            assert buy not in shown, buy
    project = api.get("/console/projects/analytics")
    assert project.status_code == 200
    # renewing and scaling are orders, the account's alone; its policy allows deleting
    assert 'id="renew"' not in project.text and 'id="scale"' not in project.text
    assert "/console/projects/analytics/delete" in project.text
    assert api.get("/console/identity").status_code == 200
    api.cookies.clear()
    signin_via_form(api, "acme")
    mine = api.get("/console/projects/analytics").text
    assert 'id="renew"' in mine and 'id="scale"' in mine and "/delete" in mine


def test_a_ram_user_without_policies_still_lands(api: TestClient, owner: Owner) -> None:
    user = {"name": "idle", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    signin_via_form(api, "acme", user="idle")
    page = text(api.get("/console"))
    assert 'id="orders-section"' not in page and 'id="shared-section"' not in page
    assert nav_links(page)[0] == "/console" and "/console/audit" not in nav_links(page)
    # not a blank page: it says what is missing and whom to ask
    assert 'id="nothing-granted"' in page and "Ask the account owner" in page
    assert "请联系主账号在 RAM 中为您授权" in text(api.get("/console", headers=ZH))


def test_a_cluster_page_says_what_it_costs(
    api: TestClient, owner: Owner, platform: platform_module.Platform
) -> None:
    token = signin_via_form(api, owner.alias)
    seed_everything(api, owner, token, platform)
    page = text(api.get("/console/clusters/stream1"))
    # 1 master + 2 slaves of 4c16g at 600.00 a month each
    assert 'data-cost="month">¥1800.00 / month<' in page
    assert "¥1800.00 / 月" in text(api.get("/console/clusters/stream1", headers=ZH))


@pytest.mark.parametrize(
    "typed",
    ["\u00b2", "\u2460", "\u0661", "\uff11", "3\u00b2"],  # ², ①, Arabic-Indic 1, full-width 1
)
def test_a_count_in_other_digits_is_refused_not_a_crash(
    api: TestClient, owner: Owner, typed: str
) -> None:
    """`str.isdigit` passes superscripts, circled and Arabic-Indic digits: a form's count is
    ASCII digits or refused with the purchase rules, never a 500, never another number."""
    token = signin_via_form(api, owner.alias)
    answer = post(api, "/console/purchase/shared", token, cu=typed, months="1", agree="true")
    assert answer.status_code == 400, answer.text[:300]
    price = api.get("/console/purchase/price", params={"mode": "shared", "cu": typed, "months": 1})
    assert price.status_code in (200, 400), price.text[:300]
    assert ok(api.get(f"{API}/orders", headers=owner.headers)) == []


def test_a_ram_user_is_not_offered_creations_it_can_never_make(
    api: TestClient, owner: Owner
) -> None:
    """Even with stream:* on everything: creating a project or a cluster from a paid order is
    the account's alone, so the uninitialized orders' rows offer it to the account only."""
    authorize_service_role(api, owner)
    shared_order = paid_order(api, owner)
    cluster_order = paid_order(api, owner, **EXCLUSIVE)
    create_policy(api, owner, "StreamAll", allow("stream:*", "*"))
    user = {"name": "dev", "password": PASSWORD, "console_enabled": True}
    ok(api.post(f"{API}/ram/users", headers=owner.headers, json=user), 201)
    attach(api, owner, "users/dev", "StreamAll")
    links = (
        f"/console/shared-projects/new?order={shared_order['id']}",
        f"/console/exclusive-clusters/new?order={cluster_order['id']}",
    )
    signin_via_form(api, "acme", user="dev")
    for page in ("/console", "/console/shared-projects", "/console/exclusive-clusters"):
        shown = api.get(page)
        assert shown.status_code == 200, page
        assert shared_order["id"] in shown.text or cluster_order["id"] in shown.text, page
        assert not any(link in shown.text for link in links), page
    api.cookies.clear()
    signin_via_form(api, "acme")
    assert all(link in api.get("/console").text for link in links)
