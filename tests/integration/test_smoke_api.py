"""The first HTTP-level round trip: sign up, sign in, who am I, on both databases."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import login, signup


def test_signup_login_whoami(api: TestClient) -> None:
    created = signup(api, "acme")
    headers = login(api, "acme")
    me = api.get("/api/v1/me", headers=headers).json()
    assert me["account_id"] == created["id"]
    assert me["identity_type"] == "account"
    assert me["login_url"].endswith("/login/acme")
