"""The operator's accounts page in the console; a tenant cannot reach it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD
from tests.integration.test_console import form_token, signin_via_form, signup_via_form


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"bootstrap_password": PASSWORD}


def test_operator_lists_and_creates_accounts(
    api: TestClient, platform: platform_module.Platform
) -> None:
    assert accounts.bootstrap(platform) is not None
    signin_via_form(api, platform.settings.bootstrap_account)
    page = api.get("/console/accounts")
    assert page.status_code == 200
    assert 'href="/console/accounts"' in page.text  # in the operator's navigation
    assert "/login/operator" in page.text
    token = form_token(api, "/console/accounts")
    created = api.post(
        "/console/accounts",
        data={"csrf_token": token, "alias": "tenant-one", "password": "tenant-pass-1"},
    )
    assert created.status_code == 201, created.text
    assert "tenant-one" in created.text and "/login/tenant-one" in created.text
    again = api.post(
        "/console/accounts",
        data={"csrf_token": token, "alias": "tenant-one", "password": "tenant-pass-1"},
    )
    assert again.status_code == 409
    weak = api.post(
        "/console/accounts",
        data={"csrf_token": token, "alias": "tenant-two", "password": "short"},
    )
    assert weak.status_code == 400
    listed = [a.alias for a in accounts.list_accounts(platform, limit=10, offset=0)]
    assert sorted(listed) == ["operator", "tenant-one"]
    missing = api.post(
        "/console/accounts", data={"alias": "tenant-three", "password": "tenant-pass-3"}
    )
    assert missing.status_code == 403  # no CSRF token: nothing written
    assert len(accounts.list_accounts(platform, limit=10, offset=0)) == 2


def test_tenant_cannot_see_the_accounts_page(api: TestClient) -> None:
    signup_via_form(api, "acme")
    signin_via_form(api, "acme")
    overview = api.get("/console")
    assert 'href="/console/accounts"' not in overview.text
    refused = api.get("/console/accounts")
    assert refused.status_code == 403
    assert 'action="/console/accounts"' not in refused.text
