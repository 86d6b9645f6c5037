"""The billing loop on a real database: subscriptions end and come back with a renewal;
pay-as-you-go clusters are metered once per whole hour."""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.testclient import TestClient

from rtcompute.reconcilers import billing as billing_loop
from rtcompute.services import billing
from rtcompute.services import platform as platform_module
from tests.conftest import FakeClock
from tests.integration.test_ram_support import (
    API,
    account,
    authorize_service_role,
    cheap_password_hashing,  # noqa: F401
    ok,
    shared_project,
)


def test_a_shared_project_expires_and_a_renewal_brings_it_back(
    api: TestClient, platform: platform_module.Platform, clock: FakeClock
) -> None:
    owner = account(api)
    authorize_service_role(api, owner)
    project = shared_project(api, owner, "analytics", cu=3)
    # an access key outlives the console session across the month the clock skips
    key = ok(api.post(f"{API}/access-keys", headers=owner.headers), 201)
    h = {"Authorization": f"Bearer {key['id']}:{key['secret']}"}
    order_id = project["order_id"]
    loop = billing_loop.Billing(platform, 60)
    clock.advance(days=29)
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
    expires = datetime.fromisoformat(renewed["expires_at"].replace("Z", "+00:00"))
    assert expires == clock.now + timedelta(days=60)
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
