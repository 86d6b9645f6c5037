"""The operator's payment page (both databases): with operator-approved payment a tenant's
order waits there until the operator approves it; tenants cannot see or use the page."""

from __future__ import annotations

import html

import pytest
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD
from tests.integration.test_console import signin_via_form
from tests.integration.test_ram_support import (
    API,
    account,
    expect,
    ok,
)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": PASSWORD, "billing": {"payment": "operator"}}


def test_the_operator_approves_a_tenants_order(
    api: TestClient, platform: platform_module.Platform
) -> None:
    assert accounts.bootstrap(platform) is not None
    owner = account(api)
    body = {"mode": "shared", "cu": 2, "months": 1, "agree_to_terms": True}
    order = ok(api.post(f"{API}/orders", headers=owner.headers, json=body), 201)
    expect(
        api.post(f"{API}/orders/{order['id']}/pay", headers=owner.headers),
        409,
        "PaymentNeedsApproval",
    )
    # a tenant in the console: no payment page, and no approving
    tenant_token = signin_via_form(api, owner.alias)
    assert api.get("/console/payments").status_code == 403
    refused = api.post(
        f"/console/payments/{order['id']}/approve",
        data={"csrf_token": tenant_token},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert ok(api.get(f"{API}/orders/{order['id']}", headers=owner.headers))["state"] == (
        "pending_payment"
    )
    api.cookies.clear()

    token = signin_via_form(api, "operator")
    page = api.get("/console/payments")
    assert page.status_code == 200
    assert order["id"] in page.text and owner.account_id in page.text
    assert "Approve payment" in page.text
    # without the CSRF token nothing happens
    assert api.post(f"/console/payments/{order['id']}/approve").status_code == 403
    done = api.post(
        f"/console/payments/{order['id']}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert order["id"] not in api.get(done.headers["location"]).text
    paid = ok(api.get(f"{API}/orders/{order['id']}", headers=owner.headers))
    assert paid["state"] == "paid"
    # approving twice is refused with the order's state, on the page
    again = api.post(
        f"/console/payments/{order['id']}/approve",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 409
    assert "only an order pending payment can be paid" in html.unescape(again.text)
    zh = api.get("/console/payments", headers={"Accept-Language": "zh-CN"})
    assert "付款审批" in zh.text
