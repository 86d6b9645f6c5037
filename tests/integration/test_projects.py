"""Projects through the API (both databases): the service role comes first; a shared-mode
project is made from a paid shared order (guide: 开通服务和创建项目), renewed and scaled by
orders; names are letters, digits and underscores, unique per account; only the account
itself creates projects (guide: 请使用主账号开通服务和创建项目).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import orders as order_rules
from rtcompute.domain import ram
from tests.conftest import FakeClock, RecordingNotifier
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
    sign_in_again,
)

PROJECTS = f"{API}/projects"
ORDERS = f"{API}/orders"
EXCLUSIVE = {
    "mode": "exclusive",
    "master_type": "4c16g",
    "master_count": 1,
    "slave_type": "4c16g",
    "slave_count": 2,
    "months": 1,
    "agree_to_terms": True,
}


@pytest.fixture
def owner(api: TestClient) -> Owner:
    found = account(api)
    authorize_service_role(api, found)
    return found


def at(value: str) -> datetime:
    """An API timestamp as an aware UTC datetime (SQLite hands back naive UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def order_state(api: TestClient, owner: Owner, order_id: str) -> str:
    state: str = ok(api.get(f"{ORDERS}/{order_id}", headers=owner.headers))["state"]
    return state


def test_project_lifecycle(api: TestClient, owner: Owner) -> None:
    h = owner.headers
    created = shared_project(api, owner, "analytics", description="d")
    assert created["arn"] == f"acs:stream:local:{owner.account_id}:analytics"
    assert (created["region"], created["created_by"], created["description"]) == (
        "local",
        "acme",
        "d",
    )
    # a second order for a taken name is refused and stays usable
    spare = paid_order(api, owner)
    again = api.post(PROJECTS, headers=h, json={"name": "analytics", "order_id": spare["id"]})
    expect(again, 409, "ProjectAlreadyExists")
    assert order_state(api, owner, spare["id"]) == "paid"
    ok(api.post(PROJECTS, headers=h, json={"name": "billing", "order_id": spare["id"]}), 201)
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=h))] == ["analytics", "billing"]
    changed = ok(api.patch(f"{PROJECTS}/analytics", headers=h, json={"description": "new"}))
    assert changed["description"] == "new"
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["description"] == "new"
    ok(api.delete(f"{PROJECTS}/analytics", headers=h), 204)
    expect(api.get(f"{PROJECTS}/analytics", headers=h), 404, "ProjectNotFound")
    expect(api.delete(f"{PROJECTS}/analytics", headers=h), 404, "ProjectNotFound")
    expect(api.patch(f"{PROJECTS}/analytics", headers=h, json={"description": "x"}), 404)
    # deleting released its order: it makes nothing again
    assert order_state(api, owner, created["order_id"]) == "released"
    reuse = {"name": "analytics", "order_id": created["order_id"]}
    expect(api.post(PROJECTS, headers=h, json=reuse), 409, "OrderNotUsable")
    # the name is free again; another account has its own namespace
    shared_project(api, owner, "analytics")
    other = account(api, "other")
    authorize_service_role(api, other)
    shared_project(api, other, "analytics")
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=other.headers))] == ["analytics"]


def test_a_project_needs_an_order_or_a_cluster(api: TestClient, owner: Owner) -> None:
    order = paid_order(api, owner)
    for body in (
        {"name": "analytics"},
        {"name": "analytics", "order_id": order["id"], "cluster": "c1", "cu": 2},
    ):
        message = expect(
            api.post(PROJECTS, headers=owner.headers, json=body),
            400,
            "InvalidParameter.ProjectSource",
        )["message"]
        assert "order_id" in message and "cluster" in message
    assert ok(api.get(PROJECTS, headers=owner.headers)) == []


def test_shared_project_from_an_order(api: TestClient, owner: Owner, clock: FakeClock) -> None:
    h = owner.headers
    order = paid_order(api, owner, cu=5, months=3)
    body = {"name": "analytics", "order_id": order["id"]}
    project = ok(api.post(PROJECTS, headers=h, json=body), 201)
    assert (project["mode"], project["cu"], project["order_id"], project["cluster"]) == (
        "shared",
        5,
        order["id"],
        None,
    )
    # 3 calendar months (domain/orders.add_months, unit-tested with fixed dates)
    assert at(project["expires_at"]) == order_rules.add_months(clock.now, 3)
    consumed = ok(api.get(f"{ORDERS}/{order['id']}", headers=h))
    assert (consumed["state"], consumed["consumed_by"]) == ("consumed", "analytics")
    body["name"] = "second"
    expect(api.post(PROJECTS, headers=h, json=body), 409, "OrderNotUsable")
    # an exclusive order makes a cluster, not a project
    exclusive = paid_order(api, owner, **EXCLUSIVE)
    refused = api.post(PROJECTS, headers=h, json={"name": "second", "order_id": exclusive["id"]})
    assert "exclusive" in expect(refused, 400, "InvalidParameter.Order")["message"]
    assert order_state(api, owner, exclusive["id"]) == "paid"
    # an unpaid order, another account's order, an order that does not exist
    pending = ok(
        api.post(
            ORDERS, headers=h, json={"mode": "shared", "cu": 1, "months": 1, "agree_to_terms": True}
        ),
        201,
    )
    unpaid = {"name": "second", "order_id": pending["id"]}
    expect(api.post(PROJECTS, headers=h, json=unpaid), 409, "OrderNotUsable")
    other = account(api, "other")
    theirs = paid_order(api, other)
    body["order_id"] = theirs["id"]
    expect(api.post(PROJECTS, headers=h, json=body), 404, "OrderNotFound")
    assert order_state(api, other, theirs["id"]) == "paid"
    body["order_id"] = "2026010112345678"
    expect(api.post(PROJECTS, headers=h, json=body), 404, "OrderNotFound")
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=h))] == ["analytics"]


def pay(api: TestClient, owner: Owner, order: dict[str, Any]) -> dict[str, Any]:
    paid: dict[str, Any] = ok(api.post(f"{ORDERS}/{order['id']}/pay", headers=owner.headers))
    return paid


def test_renew_and_scale_a_shared_project(
    api: TestClient, owner: Owner, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    h = owner.headers
    created = ok(
        api.post(
            PROJECTS,
            headers=h,
            json={"name": "analytics", "order_id": paid_order(api, owner, cu=2, months=3)["id"]},
        ),
        201,
    )
    expires = at(created["expires_at"])
    renewal = ok(api.post(f"{PROJECTS}/analytics/renew", headers=h, json={"months": 2}), 201)
    # 200.00 per CU and month: 2 CU x 2 months
    assert (renewal["purpose"], renewal["target"], renewal["amount"]) == (
        "renew",
        "analytics",
        "800.00",
    )
    assert renewal["state"] == "pending_payment"
    unchanged = ok(api.get(f"{PROJECTS}/analytics", headers=h))
    assert at(unchanged["expires_at"]) == expires
    assert pay(api, owner, renewal)["state"] == "consumed"
    renewed = ok(api.get(f"{PROJECTS}/analytics", headers=h))
    assert at(renewed["expires_at"]) == order_rules.add_months(expires, 2)

    # 150 days left after 0 days; after 100 days, 50 days are left: paid for 2 months
    clock.advance(days=100)
    owner = sign_in_again(api, owner, notifier)  # the session expired meanwhile
    h = owner.headers
    out = ok(api.post(f"{PROJECTS}/analytics/scale", headers=h, json={"cu": 5}), 201)
    assert (out["purpose"], out["cu"], out["months"], out["amount"]) == (
        "scale_out",
        5,
        2,
        "1200.00",
    )
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["cu"] == 2
    pay(api, owner, out)
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["cu"] == 5
    scale_in = ok(api.post(f"{PROJECTS}/analytics/scale", headers=h, json={"cu": 3}), 201)
    assert (scale_in["purpose"], scale_in["amount_cents"]) == ("scale_in", 0)
    pay(api, owner, scale_in)
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["cu"] == 3
    same = api.post(f"{PROJECTS}/analytics/scale", headers=h, json={"cu": 3})
    expect(same, 400, "InvalidParameter.CU")
    too_big = api.post(f"{PROJECTS}/analytics/scale", headers=h, json={"cu": 2001})
    expect(too_big, 400, "InvalidParameter.CU")
    for months in (0, 37):
        bad = api.post(f"{PROJECTS}/analytics/renew", headers=h, json={"months": months})
        assert bad.status_code in (400, 422), bad.text
    expect(api.post(f"{PROJECTS}/missing/renew", headers=h, json={"months": 1}), 404)
    expect(api.post(f"{PROJECTS}/missing/scale", headers=h, json={"cu": 4}), 404)


def test_a_renewal_is_priced_for_the_cu_it_extends(api: TestClient, owner: Owner) -> None:
    """A renewal priced at 1 CU must not extend a project scaled out to 50 CU since."""
    h = owner.headers
    shared_project(api, owner, "analytics", cu=1)
    renewal = ok(api.post(f"{PROJECTS}/analytics/renew", headers=h, json={"months": 36}), 201)
    assert renewal["amount"] == "7200.00"  # 1 CU x 36 months
    pay(api, owner, ok(api.post(f"{PROJECTS}/analytics/scale", headers=h, json={"cu": 50}), 201))
    before = ok(api.get(f"{PROJECTS}/analytics", headers=h))
    stale = api.post(f"{ORDERS}/{renewal['id']}/pay", headers=h)
    assert stale.status_code == 409, stale.text
    assert ok(api.get(f"{PROJECTS}/analytics", headers=h))["expires_at"] == before["expires_at"]


@pytest.mark.parametrize(
    "name",
    ["ab", "1abc", "a-b-c", "a" * 65, "with space", "a/b", "a:b", "_abc", "", "项目", "abc\n"],
)
def test_project_names(api: TestClient, owner: Owner, name: str) -> None:
    order = paid_order(api, owner)
    response = api.post(
        PROJECTS, headers=owner.headers, json={"name": name, "order_id": order["id"]}
    )
    assert response.status_code in (400, 422), response.text
    assert ok(api.get(PROJECTS, headers=owner.headers)) == []
    assert order_state(api, owner, order["id"]) == "paid"


def test_valid_project_names(api: TestClient, owner: Owner) -> None:
    for name in ("abc", "A" + "b" * 63, "stream_01"):
        shared_project(api, owner, name, cu=1)


def test_without_the_service_role_every_project_call_points_to_authorization(
    api: TestClient,
) -> None:
    owner = account(api, "fresh")
    order = paid_order(api, owner)
    for response in (
        api.get(PROJECTS, headers=owner.headers),
        api.post(
            PROJECTS, headers=owner.headers, json={"name": "analytics", "order_id": order["id"]}
        ),
        api.get(f"{PROJECTS}/analytics", headers=owner.headers),
        api.patch(f"{PROJECTS}/analytics", headers=owner.headers, json={"description": ""}),
        api.delete(f"{PROJECTS}/analytics", headers=owner.headers),
    ):
        message = expect(response, 403, "ServiceRoleNotAuthorized")["message"]
        assert "service role page" in message and ram.SERVICE_ROLE in message
        assert "/console" not in message and "rtc " not in message
    assert order_state(api, owner, order["id"]) == "paid"


def test_only_the_account_creates_projects(api: TestClient, owner: Owner) -> None:
    order = paid_order(api, owner)
    body = {"name": "projectname", "order_id": order["id"]}
    nobody = ram_user(api, owner, "nobody")
    refused = expect(api.post(PROJECTS, headers=nobody, json=body), 403, "Forbidden.RAM")
    assert "stream:CreateProject" in refused["message"]
    # whatever its policies say, PassRole included
    create_policy(api, owner, "PassAll", allow("ram:PassRole", "acs:ram:*:*:*"))
    dev = ram_user(api, owner, "dev", system=["StreamFullAccess"], custom=["PassAll"])
    refused = expect(api.post(PROJECTS, headers=dev, json=body), 403, "Forbidden.MainAccountOnly")
    assert "acme" in refused["message"]
    assert order_state(api, owner, order["id"]) == "paid"
    assert ok(api.get(PROJECTS, headers=dev)) == []
    made = ok(api.post(PROJECTS, headers=owner.headers, json=body), 201)
    assert made["created_by"] == "acme"
    # the RAM user works inside it: describes, updates the note
    assert ok(api.get(f"{PROJECTS}/projectname", headers=dev))["cu"] == 2
    ok(api.patch(f"{PROJECTS}/projectname", headers=dev, json={"description": "by dev"}))
    renew = api.post(f"{PROJECTS}/projectname/renew", headers=dev, json={"months": 1})
    expect(renew, 403, "Forbidden.MainAccountOnly")


def test_a_ram_user_lists_only_what_it_may_see(api: TestClient, owner: Owner) -> None:
    for name in ("alpha", "beta", "gamma"):
        shared_project(api, owner, name, cu=1)
    create_policy(
        api, owner, "Two", allow("stream:*", ["acs:stream:*:*:alpha", "acs:stream:*:*:gamma"])
    )
    dev = ram_user(api, owner, "dev", custom=["Two"])
    assert [p["name"] for p in ok(api.get(PROJECTS, headers=dev))] == ["alpha", "gamma"]
    expect(api.get(f"{PROJECTS}/beta", headers=dev), 403, "Forbidden.RAM")
    nobody = ram_user(api, owner, "nobody")
    message = expect(api.get(PROJECTS, headers=nobody), 403, "Forbidden.RAM")["message"]
    assert "stream:ListProjects" in message
