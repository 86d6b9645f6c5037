"""Orders, the catalog and the sizing answers through the API (both databases).

The guide's purchase rules (开通服务, 独享模式集群配置) each refused with a message that names
the rule and what would fit; prices from the catalog the operator edits; the order states
(pay once, cancel only pending); the red badge of paid, unconsumed orders; only the account
itself buys; and the operator's approval when payment is not automatic.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import login
from tests.integration.test_ram_support import (
    API,
    Owner,
    account,
    allow,
    authorize_service_role,
    create_policy,
    expect,
    ok,
    paid_order,
    ram_user,
    shared_project,
)

ORDERS = f"{API}/orders"
OPERATOR_PASSWORD = "operator-pass-42"
EXCLUSIVE = {
    "mode": "exclusive",
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "8c32g",
    "slave_count": 2,
    "months": 2,
    "agree_to_terms": True,
}
MASTERS = "4c16g, 8c32g, 16c64g, 24c96g"
SLAVES = "4c16g, 8c32g, 16c64g, 24c96g, 32c128g, 56c224g, 64c256g"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    """The bootstrap operator's password; a test may add settings with `indirect=True`."""
    extra: dict[str, object] = getattr(request, "param", {})
    return {"bootstrap_password": OPERATOR_PASSWORD, **extra}


@pytest.fixture
def owner(api: TestClient) -> Owner:
    return account(api)


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    """The bootstrap operator account (bootstrap runs before any other account exists)."""
    assert accounts.bootstrap(platform) is not None
    return login(api, "operator", OPERATOR_PASSWORD)


def place(api: TestClient, owner: Owner, **body: Any) -> Any:
    """POST an order, accepting the service agreement unless the body says otherwise."""
    return api.post(ORDERS, headers=owner.headers, json={"agree_to_terms": True} | body)


def refused(api: TestClient, owner: Owner, **body: Any) -> str:
    """The message of a refused purchase; nothing was ordered."""
    message: str = expect(place(api, owner, **body), 400, "InvalidParameter.Order")["message"]
    assert ok(api.get(ORDERS, headers=owner.headers)) == []
    return message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"cu": 0, "months": 1}, "shared mode sells 1 to 2000 CU per order; got 0"),
        ({"cu": 2001, "months": 1}, "shared mode sells 1 to 2000 CU per order; got 2001"),
        ({"cu": 2, "months": 0}, "months must be between 1 and 36; got 0"),
        ({"cu": 2, "months": 37}, "months must be between 1 and 36; got 37"),
        ({"cu": 2, "months": 1, "billing": "payg"}, "shared mode is sold by subscription only"),
    ],
)
def test_shared_order_rules(api: TestClient, owner: Owner, body: dict[str, Any], says: str) -> None:
    assert says in refused(api, owner, mode="shared", **body)


def test_an_unknown_region_names_the_known_ones(api: TestClient, owner: Owner) -> None:
    body = {"mode": "shared", "cu": 1, "months": 1, "region": "mars"}
    message = expect(place(api, owner, **body), 400, "InvalidParameter.Region")["message"]
    assert "local" in message
    assert ok(api.get(ORDERS, headers=owner.headers)) == []


def test_every_broken_rule_in_one_message(api: TestClient, owner: Owner) -> None:
    message = refused(api, owner, mode="shared", cu=0, months=0)
    assert "months must be between 1 and 36" in message
    assert "1 to 2000 CU" in message
    message = refused(api, owner, **EXCLUSIVE | {"master_count": 2, "slave_count": 1})
    assert "1 master, or 3" in message and "at least 2 slaves" in message


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"master_count": 2}, "a cluster has 1 master, or 3 for high availability; got 2"),
        ({"master_count": 0}, "a cluster has 1 master, or 3 for high availability; got 0"),
        ({"slave_count": 1}, "a cluster needs at least 2 slaves; got 1"),
        ({"master_type": "2c8g"}, f"unknown master type '2c8g'; choose one of {MASTERS}"),
        ({"slave_type": "8c64g"}, f"unknown slave type '8c64g'; choose one of {SLAVES}"),
        ({"months": 0}, "months must be between 1 and 36; got 0"),
        ({"months": 37}, "months must be between 1 and 36; got 37"),
        ({"billing": "payg"}, "pay-as-you-go orders have no months: they are metered hourly"),
    ],
)
def test_exclusive_order_rules(
    api: TestClient, owner: Owner, change: dict[str, Any], says: str
) -> None:
    assert says in refused(api, owner, **EXCLUSIVE | change)


def test_the_master_type_caps_the_clusters_cu(api: TestClient, owner: Owner) -> None:
    """Guide: a 4c16g master manages at most 80 CU; 30 x 4c16g slaves give 90."""
    body = EXCLUSIVE | {"master_type": "4c16g", "slave_type": "4c16g", "slave_count": 30}
    message = refused(api, owner, **body)
    assert "30 x 3 CU of 4c16g = 90" in message
    assert "maximum of master type 4c16g (80 CU)" in message
    assert "at most 26 slaves of type 4c16g" in message
    assert "master type 8c32g or 16c64g or 24c96g" in message
    # both ways out are accepted
    ok(place(api, owner, **body | {"slave_count": 26}), 201)
    ok(place(api, owner, **body | {"master_type": "8c32g"}), 201)
    # 24c96g has no maximum ("above 800"); 16c64g stops at 800
    big = {"master_type": "16c64g", "slave_type": "64c256g", "slave_count": 14}
    message = expect(place(api, owner, **EXCLUSIVE | big), 400, "InvalidParameter.Order")["message"]
    assert "14 x 60 CU of 64c256g = 840" in message and "at most 13 slaves" in message
    assert "master type 24c96g" in message
    ok(place(api, owner, **EXCLUSIVE | big | {"master_type": "24c96g"}), 201)


@pytest.mark.parametrize(
    ("body", "amount"),
    [
        # 200.00 per CU and month
        ({"mode": "shared", "cu": 3, "months": 2}, "1200.00"),
        ({"mode": "shared", "cu": 2000, "months": 36}, "14400000.00"),
        # 150.00 per core and month: (4 + 2 x 8 cores) x 2 months
        (EXCLUSIVE, "6000.00"),
        (
            EXCLUSIVE | {"master_type": "8c32g", "master_count": 3, "slave_type": "16c64g"},
            "16800.00",
        ),
        # metered by the hour: nothing to pay up front
        (EXCLUSIVE | {"billing": "payg", "months": 0}, "0.00"),
    ],
)
def test_prices(api: TestClient, owner: Owner, body: dict[str, Any], amount: str) -> None:
    order = ok(place(api, owner, **body), 201)
    assert (order["amount"], order["state"], order["purpose"]) == (
        amount,
        "pending_payment",
        "new",
    )
    assert order["amount_cents"] == int(amount.replace(".", ""))
    assert ok(api.get(f"{ORDERS}/{order['id']}", headers=owner.headers)) == order


def test_the_largest_orders_are_stored(api: TestClient, owner: Owner) -> None:
    """Amounts beyond 32 bits: 3 x 24c96g + 200 x 64c256g for 36 months is 69,508,800.00
    (PostgreSQL's `integer` stops at 21,474,836.47 in cents)."""
    body = EXCLUSIVE | {
        "master_type": "24c96g",
        "master_count": 3,
        "slave_type": "64c256g",
        "slave_count": 200,
        "months": 36,
    }
    order = ok(place(api, owner, **body), 201)
    assert (order["amount"], order["amount_cents"]) == ("69508800.00", 6_950_880_000)
    assert ok(api.get(f"{ORDERS}/{order['id']}", headers=owner.headers)) == order


def test_order_states(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    order = paid_order(api, owner)
    assert order["paid_at"] is not None
    message = expect(api.post(f"{ORDERS}/{order['id']}/pay", headers=h), 409, "OrderNotPayable")[
        "message"
    ]
    assert "paid" in message
    expect(api.post(f"{ORDERS}/{order['id']}/cancel", headers=h), 409, "OrderNotCancellable")
    pending = ok(place(api, owner, mode="shared", cu=1, months=1), 201)
    cancelled = ok(api.post(f"{ORDERS}/{pending['id']}/cancel", headers=h))
    assert cancelled["state"] == "cancelled"
    expect(api.post(f"{ORDERS}/{pending['id']}/pay", headers=h), 409, "OrderNotPayable")
    expect(api.post(f"{ORDERS}/{pending['id']}/cancel", headers=h), 409, "OrderNotCancellable")
    # another account's orders do not exist for this one
    other = account(api, "other")
    for response in (
        api.get(f"{ORDERS}/{order['id']}", headers=other.headers),
        api.post(f"{ORDERS}/{pending['id']}/pay", headers=other.headers),
        api.post(f"{ORDERS}/{pending['id']}/cancel", headers=other.headers),
        api.get(f"{ORDERS}/2026010112345678", headers=h),
    ):
        expect(response, 404, "OrderNotFound")
    assert ok(api.get(ORDERS, headers=other.headers)) == []
    assert sorted(o["state"] for o in ok(api.get(ORDERS, headers=h))) == ["cancelled", "paid"]


def test_the_badge_counts_paid_unconsumed_orders(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    authorize_service_role(api, owner)
    counts = f"{ORDERS}/counts"
    assert ok(api.get(counts, headers=h)) == {"shared": 0, "exclusive": 0}
    ok(place(api, owner, mode="shared", cu=1, months=1), 201)  # unpaid: no badge
    shared = paid_order(api, owner)
    exclusive = paid_order(api, owner, **EXCLUSIVE)
    assert ok(api.get(counts, headers=h)) == {"shared": 1, "exclusive": 1}
    unconsumed = ok(api.get(ORDERS, headers=h, params={"unconsumed": "true"}))
    assert sorted(o["id"] for o in unconsumed) == sorted([shared["id"], exclusive["id"]])
    body = {"name": "analytics", "order_id": shared["id"]}
    ok(api.post(f"{API}/projects", headers=h, json=body), 201)
    assert ok(api.get(counts, headers=h)) == {"shared": 0, "exclusive": 1}
    # a paid renewal is no new order: no badge
    renewal = ok(api.post(f"{API}/projects/analytics/renew", headers=h, json={"months": 1}), 201)
    ok(api.post(f"{ORDERS}/{renewal['id']}/pay", headers=h))
    assert ok(api.get(counts, headers=h)) == {"shared": 0, "exclusive": 1}
    unconsumed = ok(api.get(ORDERS, headers=h, params={"unconsumed": "true"}))
    assert [o["id"] for o in unconsumed] == [exclusive["id"]]
    assert len(ok(api.get(ORDERS, headers=h))) == 4
    other = account(api, "other")
    assert ok(api.get(counts, headers=other.headers)) == {"shared": 0, "exclusive": 0}


def test_only_the_account_buys(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    pending = ok(place(api, owner, mode="shared", cu=1, months=1), 201)
    nobody = ram_user(api, owner, "nobody")
    message = expect(api.post(ORDERS, headers=nobody, json=EXCLUSIVE), 403, "Forbidden.RAM")[
        "message"
    ]
    assert "stream:CreateOrder" in message
    full = ram_user(api, owner, "dev", system=["StreamFullAccess"])
    for response in (
        api.post(ORDERS, headers=full, json=EXCLUSIVE),
        api.post(
            ORDERS,
            headers=full,
            json={"mode": "shared", "cu": 1, "months": 1, "agree_to_terms": True},
        ),
        api.post(f"{ORDERS}/{pending['id']}/pay", headers=full),
    ):
        message = expect(response, 403, "Forbidden.MainAccountOnly")["message"]
        assert "acme" in message
    assert ok(api.get(f"{ORDERS}/{pending['id']}", headers=h))["state"] == "pending_payment"
    assert [o["id"] for o in ok(api.get(ORDERS, headers=full))] == [pending["id"]]


def test_a_list_only_user_sees_but_cannot_create(api: TestClient, owner: Owner) -> None:
    """Guide, 9: a RAM user with only `stream:List*` sees the lists and creates nothing."""
    authorize_service_role(api, owner)
    shared_project(api, owner, "analytics")
    exclusive = paid_order(api, owner, **EXCLUSIVE)
    create_policy(api, owner, "ListOnly", allow("stream:List*"))
    lister = ram_user(api, owner, "lister", custom=["ListOnly"])
    assert len(ok(api.get(ORDERS, headers=lister))) == 2
    assert ok(api.get(f"{ORDERS}/counts", headers=lister)) == {"shared": 0, "exclusive": 1}
    assert [p["name"] for p in ok(api.get(f"{API}/projects", headers=lister))] == ["analytics"]
    assert ok(api.get(f"{API}/clusters", headers=lister)) == []
    cluster = {
        "order_id": exclusive["id"],
        "name": "cluster1",
        "bucket": "b",
        "network": "n",
        "subnet": "s",
        "zone": "z",
    }
    for response, action in (
        (api.post(ORDERS, headers=lister, json=EXCLUSIVE), "stream:CreateOrder"),
        (api.post(f"{ORDERS}/{exclusive['id']}/cancel", headers=lister), "stream:CancelOrder"),
        (
            api.post(
                f"{API}/projects",
                headers=lister,
                json={"name": "mine", "order_id": exclusive["id"]},
            ),
            "stream:CreateProject",
        ),
        (api.post(f"{API}/clusters", headers=lister, json=cluster), "stream:CreateCluster"),
        (api.get(f"{ORDERS}/{exclusive['id']}", headers=lister), "stream:DescribeOrder"),
    ):
        assert action in expect(response, 403, "Forbidden.RAM")["message"]
    assert ok(api.get(f"{ORDERS}/{exclusive['id']}", headers=owner.headers))["state"] == "paid"


OPERATOR_PAYMENT = [{"billing": {"payment": "operator"}}]


@pytest.mark.parametrize("settings_overrides", OPERATOR_PAYMENT, indirect=True)
def test_the_operator_approves_payments(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    h = owner.headers
    order = ok(place(api, owner, mode="shared", cu=2, months=1), 201)
    message = expect(
        api.post(f"{ORDERS}/{order['id']}/pay", headers=h), 409, "PaymentNeedsApproval"
    )["message"]
    assert "operator" in message and order["id"] in message
    other = account(api, "other")
    theirs = ok(place(api, other, **EXCLUSIVE), 201)
    pending = ok(api.get(f"{ORDERS}/pending", headers=operator))
    assert sorted(o["id"] for o in pending) == sorted([order["id"], theirs["id"]])
    for response in (
        api.get(f"{ORDERS}/pending", headers=h),
        api.post(f"{ORDERS}/{order['id']}/approve", headers=h),
    ):
        expect(response, 403)
    assert ok(api.get(f"{ORDERS}/{order['id']}", headers=h))["state"] == "pending_payment"
    approved = ok(api.post(f"{ORDERS}/{order['id']}/approve", headers=operator))
    assert approved["state"] == "paid" and approved["paid_at"] is not None
    expect(api.post(f"{ORDERS}/{order['id']}/approve", headers=operator), 409, "OrderNotPayable")
    expect(api.post(f"{ORDERS}/2026010112345678/approve", headers=operator), 404)
    assert ok(api.get(f"{ORDERS}/{order['id']}", headers=h))["state"] == "paid"
    assert [o["id"] for o in ok(api.get(f"{ORDERS}/pending", headers=operator))] == [theirs["id"]]
    # an approved renewal takes effect like a paid one
    authorize_service_role(api, owner)
    project = ok(
        api.post(f"{API}/projects", headers=h, json={"name": "analytics", "order_id": order["id"]}),
        201,
    )
    renewal = ok(api.post(f"{API}/projects/analytics/renew", headers=h, json={"months": 1}), 201)
    assert (
        ok(api.post(f"{ORDERS}/{renewal['id']}/approve", headers=operator))["state"] == "consumed"
    )
    renewed = ok(api.get(f"{API}/projects/analytics", headers=h))
    assert renewed["expires_at"] > project["expires_at"]


# ---------------------------------------------------------------- catalog and sizing

GUIDE_SLAVES = {
    "4c16g": 3,
    "8c32g": 6,
    "16c64g": 13,
    "24c96g": 21,
    "32c128g": 28,
    "56c224g": 52,
    "64c256g": 60,
}
GUIDE_MASTERS = {"4c16g": 80, "8c32g": 160, "16c64g": 800, "24c96g": None}


def test_the_catalog_is_the_guides_table(api: TestClient, owner: Owner) -> None:
    found = ok(api.get(f"{API}/catalog", headers=owner.headers))
    assert found["region"] == "local"
    assert [r["name"] for r in found["regions"]] == ["local"]
    assert found["regions"][0]["shared_cu_month"] == "200.00"
    types = found["machine_types"]
    assert {t["name"]: t["cu"] for t in types if t["role"] == "slave"} == GUIDE_SLAVES
    assert {t["name"]: t["cu"] for t in types if t["role"] == "master"} == GUIDE_MASTERS
    for machine_type in types:
        # 1 CU = 1 core + 4 GB; the name reads <cores>c<memory>g
        cores, memory = machine_type["cores"], machine_type["memory_gb"]
        assert machine_type["name"] == f"{cores}c{memory}g" and memory == 4 * cores
        assert machine_type["month_cents"] > 0 and machine_type["hour_cents"] > 0
    expect(api.get(f"{API}/catalog", headers=owner.headers, params={"region": "mars"}), 400)


def test_the_operator_edits_prices(api: TestClient, operator: dict[str, str], owner: Owner) -> None:
    slave = f"{API}/catalog/machine-types/slave/8c32g"
    price = {"cu": 6, "month_cents": 100_000, "hour_cents": 200}
    for response in (
        api.put(slave, headers=owner.headers, json=price),
        api.put(
            f"{API}/catalog/regions/local", headers=owner.headers, json={"shared_cu_month_cents": 1}
        ),
    ):
        expect(response, 403)
    before = ok(place(api, owner, **EXCLUSIVE), 201)
    changed = ok(api.put(slave, headers=operator, json=price))
    assert (changed["month"], changed["cu"]) == ("1000.00", 6)
    region = {"display_name": "Here", "shared_cu_month_cents": 15_000}
    assert (
        ok(api.put(f"{API}/catalog/regions/local", headers=operator, json=region))[
            "shared_cu_month"
        ]
        == "150.00"
    )
    # new orders use the new prices; placed ones keep theirs: (600 + 2 x 1000) x 2 months
    assert ok(place(api, owner, **EXCLUSIVE), 201)["amount"] == "5200.00"
    assert ok(api.get(f"{ORDERS}/{before['id']}", headers=owner.headers))["amount"] == "6000.00"
    assert ok(place(api, owner, mode="shared", cu=2, months=1), 201)["amount"] == "300.00"
    listed = ok(api.get(f"{API}/catalog", headers=owner.headers))["machine_types"]
    assert [t["month"] for t in listed if (t["role"], t["name"]) == ("slave", "8c32g")] == [
        "1000.00"
    ]
    for path, body in (
        (f"{API}/catalog/machine-types/worker/8c32g", price),
        (f"{API}/catalog/machine-types/slave/8cores", price),
        (f"{API}/catalog/machine-types/slave/8c32g", price | {"cu": 9}),  # more CU than cores
        (f"{API}/catalog/machine-types/slave/8c32g", {"month_cents": 1, "hour_cents": 1}),
        (f"{API}/catalog/regions/Mars_1", region),
    ):
        expect(api.put(path, headers=operator, json=body), 400)


def test_the_highest_price_the_catalog_accepts_is_stored(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    """The schema and the service accept prices up to 10**10 cents; so must the tables."""
    top = {"cu": 60, "month_cents": 10**10, "hour_cents": 10**10}
    changed = ok(api.put(f"{API}/catalog/machine-types/slave/64c256g", headers=operator, json=top))
    assert changed["month"] == "100000000.00"
    region = {"display_name": "", "shared_cu_month_cents": 10**10}
    ok(api.put(f"{API}/catalog/regions/local", headers=operator, json=region))
    listed = ok(api.get(f"{API}/catalog", headers=owner.headers))
    assert listed["regions"][0]["shared_cu_month_cents"] == 10**10


def test_a_trailing_newline_is_no_part_of_a_catalog_name(
    api: TestClient, operator: dict[str, str], owner: Owner
) -> None:
    price = {"cu": 6, "month_cents": 100_000, "hour_cents": 200}
    region = {"display_name": "Here", "shared_cu_month_cents": 15_000}
    for path, body in (
        (f"{API}/catalog/machine-types/slave/8c32g%0A", price),
        (f"{API}/catalog/regions/local%0A", region),
    ):
        expect(api.put(path, headers=operator, json=body), 400)
    listed = ok(api.get(f"{API}/catalog", headers=owner.headers))
    assert all("\n" not in t["name"] for t in listed["machine_types"])
    assert [r["name"] for r in listed["regions"]] == ["local"]


def test_sizing_answers(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    simple = ok(api.get(f"{API}/sizing/cu", headers=h, params={"qps": 50_000}))
    assert (simple["low"], simple["high"], simple["complexity"]) == (5, 5, "simple")
    assert "10,000" in simple["reasoning"]
    assert "records/s per CU" in simple["reasoning"]
    # the reasoning comes in the Accept-Language language, as errors do
    chinese = ok(
        api.get(
            f"{API}/sizing/cu",
            headers={**h, "Accept-Language": "zh-CN,zh;q=0.9"},
            params={"qps": 50_000},
        )
    )
    assert "每秒 50,000 条记录" in chinese["reasoning"] and "需要 5 CU" in chinese["reasoning"]
    complex_ = ok(
        api.get(f"{API}/sizing/cu", headers=h, params={"qps": 50_000, "complexity": "complex"})
    )
    assert (complex_["low"], complex_["high"]) == (10, 50)
    quote = ok(api.get(f"{API}/sizing/quote", headers=h, params={"cu": 40, "ha": "true"}))
    # the cheapest mix: 2 x 24c96g (42 CU, 48 cores) under 3 x 4c16g masters (60 cores)
    assert (quote["slave_type"], quote["slave_count"], quote["usable_cu"]) == ("24c96g", 2, 42)
    assert (quote["master_type"], quote["master_count"]) == ("4c16g", 3)
    assert (quote["month"], quote["hour"]) == ("9000.00", "18.00")
    # the quote is an order the rules accept, at the same price
    body = {
        "mode": "exclusive",
        "months": 1,
        **{k: quote[k] for k in ("master_type", "master_count", "slave_type", "slave_count")},
    }
    assert ok(place(api, owner, **body), 201)["amount"] == quote["month"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("cu", {"qps": 0}),
        ("cu", {"qps": -5}),
        ("cu", {"qps": "many"}),
        ("cu", {"qps": 10**12}),
        ("cu", {"qps": 100, "complexity": "medium"}),
        ("cu", {}),
        ("quote", {"cu": 0}),
        ("quote", {"cu": 10**9}),
        ("quote", {"cu": "x"}),
        ("quote", {"cu": 40, "ha": "maybe"}),
        ("quote", {"cu": 40, "region": "mars"}),
        ("quote", {"cu": 40, "region": "\x00"}),
    ],
)
def test_sizing_bad_input(api: TestClient, owner: Owner, path: str, params: dict[str, Any]) -> None:
    response = api.get(f"{API}/sizing/{path}", headers=owner.headers, params=params)
    assert response.status_code in (400, 422), response.text
    assert {"code", "message", "request_id"} <= set(response.json())
