"""The billing loop on a real database: subscriptions end and come back with a renewal;
pay-as-you-go clusters are metered once per whole hour."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from starlette.testclient import TestClient

from rtcompute.domain import orders as order_rules
from rtcompute.reconcilers import billing as billing_loop
from rtcompute.services.capacity import billing
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables
from tests.conftest import FakeClock
from tests.integration.test_clusters_api import (  # noqa: F401 (fixtures)
    SMALL,
    Setup,
    create,
    operator,
    settings_overrides,
    setup,
)
from tests.integration.test_console import signin_via_form
from tests.integration.test_ram_support import (
    API,
    account,
    authorize_service_role,
    ok,
    paid_order,
    shared_project,
)


def at(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def test_a_shared_project_expires_and_a_renewal_brings_it_back(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    # a month is a calendar month: bought on 31 January, it ends on 28 February
    clock.now = datetime(2027, 1, 31, 12, tzinfo=UTC)
    owner = account(api)
    authorize_service_role(api, owner)
    project = shared_project(api, owner, "analytics", cu=3)
    # an access key outlives the console session across the month the clock skips
    key = ok(api.post(f"{API}/access-keys", headers=owner.headers), 201)
    h = {"Authorization": f"Bearer {key['id']}:{key['secret']}"}
    order_id = project["order_id"]
    loop = billing_loop.Billing(platform, 60)
    assert at(project["expires_at"]) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    clock.advance(days=27)
    loop.reconcile_once()
    assert ok(api.get(f"{API}/projects/analytics", headers=h))["state"] == "running"
    clock.advance(days=1, seconds=1)
    assert billing.expire_due(platform) == 1
    assert billing.expire_due(platform) == 0  # idempotent
    assert ok(api.get(f"{API}/projects/analytics", headers=h))["state"] == "expired"
    assert ok(api.get(f"{API}/orders/{order_id}", headers=h))["state"] == "expired"

    renewal = ok(api.post(f"{API}/projects/analytics/renew", headers=h, json={"months": 2}), 201)
    assert (renewal["purpose"], renewal["amount_cents"]) == ("renew", 3 * 2 * 20000)
    assert renewal["state"] == "pending_payment"
    paid = ok(api.post(f"{API}/orders/{renewal['id']}/pay", headers=h))
    assert (paid["state"], paid["consumed_by"]) == ("consumed", "analytics")
    renewed = ok(api.get(f"{API}/projects/analytics", headers=h))
    assert renewed["state"] == "running"
    # an expired subscription restarts from the renewal, not from its old end
    assert at(renewed["expires_at"]) == datetime(2027, 4, 28, 12, 0, 1, tzinfo=UTC)
    assert ok(api.get(f"{API}/orders/{order_id}", headers=h))["state"] == "consumed"


def test_a_running_project_renewal_extends_its_end(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    owner = account(api)
    authorize_service_role(api, owner)
    h = owner.headers
    project = shared_project(api, owner, "analytics", cu=1)
    end = project["expires_at"]
    renewal = ok(api.post(f"{API}/projects/analytics/renew", headers=h, json={"months": 1}), 201)
    ok(api.post(f"{API}/orders/{renewal['id']}/pay", headers=h))
    later = ok(api.get(f"{API}/projects/analytics", headers=h))["expires_at"]
    assert later > end
    assert billing.expire_due(platform) == 0


def test_a_pay_as_you_go_cluster_is_metered_once_per_whole_hour(
    api: TestClient,
    platform: platform_module.Platform,
    clock: FakeClock,
    setup: Setup,  # noqa: F811 (the fixture)
) -> None:
    h = setup.owner.headers
    # start on a whole hour, so that "3 h 30 min later" holds exactly 3 whole hours
    clock.now = clock.now.replace(minute=0, second=0, microsecond=0)
    payg = SMALL | {"billing": "payg", "months": 0}
    order = paid_order(api, setup.owner, **payg)
    assert order["amount_cents"] == 0  # nothing up front: metered
    ok(create(api, setup, order["id"]), 201)
    assert billing.meter(platform) == 0  # no whole hour yet
    clock.advance(hours=3, minutes=30)
    assert billing.meter(platform) == 3
    assert billing.meter(platform) == 0  # each hour once
    usage = ok(api.get(f"{API}/clusters/cluster1/usage", headers=h))
    # 1 master + 2 slaves of 4c16g at 0.30 per core and hour
    assert [u["amount"] for u in usage] == ["3.60"] * 3
    hours = [datetime.fromisoformat(u["hour_start"].replace("Z", "+00:00")) for u in usage]
    assert hours == sorted(hours, reverse=True) and hours[0] - hours[-1] == timedelta(hours=2)
    # a released cluster is metered up to the hour it was released in, then never again
    with db.transaction(platform.sessions) as session:
        session.execute(
            update(capacity_tables.Cluster).values(state="released", state_since=clock.now)
        )
    clock.advance(hours=5)
    assert billing.meter(platform) == 0
    # renewing a pay-as-you-go cluster makes no sense: refused with the reason
    body = {"months": 1}
    refused = api.post(f"{API}/clusters/cluster1/renew", headers=h, json=body)
    assert refused.status_code == 400 and "metered hourly" in refused.json()["message"]


def cluster_page(api: TestClient, alias: str, **headers: str) -> str:
    """The console's cluster page, signed in afresh (the fake clock skips hours, past the
    console's idle sign-out)."""
    api.cookies.clear()
    signin_via_form(api, alias)
    page = api.get("/console/clusters/cluster1", headers=headers)
    assert page.status_code == 200, page.text
    return page.text


def cost_facts(page: str) -> dict[str, str]:
    """The cluster page's cost facts (`data-cost="hour"`, `"metered"`), as text."""
    found = re.findall(r'<dd data-cost="(\w+)">(.*?)</dd>', page, flags=re.S)
    return {kind: html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for kind, text in found}


def test_a_pay_as_you_go_cluster_page_shows_what_was_metered_so_far(
    api: TestClient,
    platform: platform_module.Platform,
    clock: FakeClock,
    setup: Setup,  # noqa: F811 (the fixture)
) -> None:
    """The cluster page's cost is the meter's own totals (store/usage.totals): the hourly
    rate, then the amount and hours recorded, growing with each whole hour metered."""
    h = setup.owner.headers
    clock.now = clock.now.replace(minute=0, second=0, microsecond=0)
    order = paid_order(api, setup.owner, **(SMALL | {"billing": "payg", "months": 0}))
    ok(create(api, setup, order["id"]), 201)
    page = cluster_page(api, setup.owner.alias)
    # 1 master + 2 slaves of 4c16g at 0.30 per core and hour
    assert cost_facts(page) == {"hour": "¥3.60 / hour", "metered": "¥0.00 for 0 hours"}

    clock.advance(hours=2, minutes=10)
    assert billing.meter(platform) == 2
    usage = ok(api.get(f"{API}/clusters/cluster1/usage", headers=h))
    assert len(usage) == 2
    shown = cost_facts(cluster_page(api, setup.owner.alias))
    assert shown["metered"] == "¥7.20 for 2 hours"
    assert shown["hour"] == "¥3.60 / hour"  # the rate does not change with time

    clock.advance(hours=1)
    assert billing.meter(platform) == 1
    usage = ok(api.get(f"{API}/clusters/cluster1/usage", headers=h))
    total = sum(u["amount_cents"] for u in usage)
    assert (len(usage), total) == (3, 3 * 360)
    zh = cluster_page(api, setup.owner.alias, **{"Accept-Language": "zh-CN"})
    assert cost_facts(zh) == {"hour": "¥3.60 / 小时", "metered": "¥10.80，共 3 小时"}
    assert "已计量费用" in zh and "Metered so far" not in zh
    # a subscription cluster shows its month price and no meter
    other = paid_order(api, setup.owner, **SMALL)
    ok(create(api, setup, other["id"], name="cluster2"), 201)
    monthly = cost_facts(api.get("/console/clusters/cluster2").text)
    assert monthly == {"month": "¥1800.00 / month"}  # three 4-core nodes at 150.00


def test_a_subscription_cluster_expires_and_a_renewal_restarts_it(
    api: TestClient,
    platform: platform_module.Platform,
    clock: FakeClock,
    setup: Setup,  # noqa: F811 (the fixture)
) -> None:
    key = ok(api.post(f"{API}/access-keys", headers=setup.owner.headers), 201)
    h = {"Authorization": f"Bearer {key['id']}:{key['secret']}"}
    order = paid_order(api, setup.owner, **SMALL)
    made = ok(create(api, setup, order["id"]), 201)
    end = at(made["expires_at"])
    assert end == order_rules.add_months(at(made["created_at"]), 1)  # a calendar month
    clock.now = end - timedelta(seconds=1)
    assert billing.expire_due(platform) == 0
    clock.now = end + timedelta(seconds=1)
    assert billing.meter(platform) == 0  # subscriptions are not metered
    assert billing.expire_due(platform) == 1
    found = ok(api.get(f"{API}/clusters/cluster1", headers=h))
    assert found["state"] == "expired" and "Renew it" in found["message"]
    zh = ok(api.get(f"{API}/clusters/cluster1", headers=h | {"Accept-Language": "zh-CN"}))
    assert zh["message"].startswith(f"包年包月已于 {end:%Y-%m-%d %H:%M}（UTC）到期")
    assert ok(api.get(f"{API}/orders/{order['id']}", headers=h))["state"] == "expired"
    renewal = ok(api.post(f"{API}/clusters/cluster1/renew", headers=h, json={"months": 1}), 201)
    assert renewal["amount_cents"] == 3 * 4 * 15000  # three 4-core nodes, one month
    ok(api.post(f"{API}/orders/{renewal['id']}/pay", headers=h))
    restarted = ok(api.get(f"{API}/clusters/cluster1", headers=h))
    assert restarted["state"] == "starting"
    assert ok(api.get(f"{API}/orders/{order['id']}", headers=h))["state"] == "consumed"
