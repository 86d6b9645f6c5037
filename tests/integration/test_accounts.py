"""Accounts with public sign-up off: the operator creates them, nobody else can (both DBs)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from rtcompute.services.kernel import accounts
from rtcompute.services.kernel import platform as platform_module
from tests.conftest import PASSWORD, login

OPERATOR_PASSWORD = "operator-pass-42"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "auth": {"public_signup": False},
        "bootstrap_password": OPERATOR_PASSWORD,
    }


@pytest.fixture
def operator(api: TestClient, platform: platform_module.Platform) -> dict[str, str]:
    booted = accounts.bootstrap(platform)
    assert booted is not None
    assert booted.alias == "operator"
    assert booted.password is None  # it came from the settings
    return login(api, "operator", OPERATOR_PASSWORD)


def create(api: TestClient, headers: dict[str, str], alias: str, **fields: str):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/accounts", headers=headers, json={"alias": alias, "password": PASSWORD, **fields}
    )


def test_public_signup_is_off(api: TestClient) -> None:
    response = api.post("/api/v1/signup", json={"alias": "acme", "password": PASSWORD})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "SignupDisabled"
    assert set(response.json()) == {"code", "message", "request_id"}


def test_bootstrap_runs_once(api: TestClient, platform: platform_module.Platform) -> None:
    assert accounts.bootstrap(platform) is not None
    assert accounts.bootstrap(platform) is None
    me = api.get("/api/v1/me", headers=login(api, "operator", OPERATOR_PASSWORD)).json()
    assert me["is_operator"] is True


def test_operator_creates_accounts(api: TestClient, operator: dict[str, str]) -> None:
    response = create(api, operator, "acme", display_name="Acme Inc.", email="ops@acme.example")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["alias"] == "acme"
    assert body["display_name"] == "Acme Inc."
    assert body["is_operator"] is False
    assert body["login_url"].endswith("/login/acme")
    me = api.get("/api/v1/me", headers=login(api, "acme")).json()
    assert me["account_id"] == body["id"]
    assert me["is_operator"] is False
    listed = api.get("/api/v1/accounts", headers=operator)
    assert listed.status_code == 200
    assert {item["alias"] for item in listed.json()} == {"operator", "acme"}


def test_operator_creation_follows_the_rules(api: TestClient, operator: dict[str, str]) -> None:
    assert create(api, operator, "Bad_Alias").json()["code"] == "InvalidAccountAlias"
    weak = api.post(
        "/api/v1/accounts", headers=operator, json={"alias": "acme", "password": "acme"}
    )
    assert weak.status_code == 400
    assert weak.json()["code"] == "WeakPassword"
    assert create(api, operator, "acme").status_code == 201
    duplicate = create(api, operator, "acme")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "AccountAliasExists"
    taken = create(api, operator, "operator")
    assert taken.json()["code"] == "AccountAliasExists"


def test_normal_account_may_not_manage_accounts(api: TestClient, operator: dict[str, str]) -> None:
    assert create(api, operator, "acme").status_code == 201
    tenant = login(api, "acme")
    denied = create(api, tenant, "sneaky")
    assert denied.status_code == 403, denied.text
    assert denied.json()["code"] == "Forbidden.RAM"
    listed = api.get("/api/v1/accounts", headers=tenant)
    assert listed.status_code == 403
    assert listed.json()["code"] == "Forbidden.RAM"
    aliases = {item["alias"] for item in api.get("/api/v1/accounts", headers=operator).json()}
    assert "sneaky" not in aliases


def test_account_listing_pages(api: TestClient, operator: dict[str, str]) -> None:
    for alias in ("acme", "beta"):
        assert create(api, operator, alias).status_code == 201
    first = api.get("/api/v1/accounts", headers=operator, params={"limit": 2}).json()
    rest = api.get("/api/v1/accounts", headers=operator, params={"limit": 2, "offset": 2}).json()
    assert len(first) == 2
    assert len(rest) == 1
    assert {a["alias"] for a in first + rest} == {"operator", "acme", "beta"}
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "x"}):
        response = api.get("/api/v1/accounts", headers=operator, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] == "InvalidParameter"
