"""The API docs page works without internet: its assets come from this server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from rtcompute.domain import names
from tests.conftest import login, signup


def signed_up(api: TestClient) -> dict[str, str]:
    """Account acme signed up and in: its Authorization headers."""
    signup(api, "acme")
    return login(api, "acme")


def test_docs_page_uses_local_assets(api: TestClient) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200
    assert "/api/openapi.json" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls, page.text
    assert all(url.startswith("/") for url in urls), urls  # nothing from a CDN
    for url in urls:
        assert api.get(url).status_code == 200, url
    assert '"validatorUrl": null' in page.text


def test_openapi_lists_the_api(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/access-keys", "/api/v1/audit-events"} <= set(spec["paths"])


def test_errors_are_documented_as_they_are_sent(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"code", "message", "request_id"}
    signup = spec["paths"]["/api/v1/signup"]["post"]["responses"]
    assert signup["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    sent = api.post("/api/v1/signup", json={"alias": "acme"})  # password missing
    assert sent.status_code == 422
    assert set(sent.json()) == set(error_body["properties"])


def test_bearer_scheme_on_protected_routes_only(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert spec["paths"]["/api/v1/access-keys"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/api/v1/signup"]["post"]
    assert "security" not in spec["paths"]["/api/v1/sessions"]["post"]


def test_api_answers_are_not_cached(api: TestClient) -> None:
    answer = api.post("/api/v1/sessions", json={"account": "nobody", "password": "x" * 8})
    assert answer.headers["cache-control"] == "no-store"
    assert "cache-control" not in api.get("/healthz").headers


def test_largest_page_token_reaches_the_query(api: TestClient) -> None:
    """audit_events.id is 64-bit on PostgreSQL too: no "integer out of range"."""
    headers = signed_up(api)
    for page_token in (str(2**31), str(2**63 - 1)):
        page = api.get("/api/v1/audit-events", params={"page_token": page_token}, headers=headers)
        assert page.status_code == 200, page.text
    too_big = api.get("/api/v1/audit-events", params={"page_token": str(2**63)}, headers=headers)
    assert too_big.json()["code"] == "InvalidPageToken"


def _field(spec: dict[str, Any], schema: str, field: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][schema]["properties"][field]
    return next((part for part in found.get("anyOf", []) if "pattern" in part), found)


@pytest.mark.parametrize(
    ("schema", "field", "rule"),
    [
        ("ProjectCreate", "name", names.PROJECT),
        ("ClusterCreate", "name", names.CLUSTER),
        ("ClusterCreate", "bucket", names.BUCKET),
        ("BucketCreate", "name", names.BUCKET),
        ("JobCreate", "name", names.JOB),
        ("NetworkCreate", "name", names.NETWORK),
        ("SubnetCreate", "name", names.SUBNET),
        ("UserCreate", "name", names.USER),
        ("UserUpdate", "new_name", names.USER),
        ("GroupCreate", "name", names.GROUP),
        ("RoleCreate", "name", names.ROLE),
        ("PolicyCreate", "name", names.POLICY),
        ("VersionInstall", "version", names.ENGINE_VERSION),
    ],
)
def test_the_openapi_document_states_the_name_rules(
    api: TestClient, schema: str, field: str, rule: names.Rule
) -> None:
    stated = _field(api.get("/api/openapi.json").json(), schema, field)
    assert stated["pattern"] == rule.pattern
    assert stated["maxLength"] == rule.max_length


def test_a_name_the_schema_refuses_gets_the_rule_s_code(api: TestClient) -> None:
    headers = signed_up(api)
    refused = api.post("/api/v1/ram/users", headers=headers, json={"name": "-alice"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "InvalidParameter.UserName"
    assert names.USER.words in refused.json()["message"]
    chinese = api.post(
        "/api/v1/ram/users",
        headers={**headers, "Accept-Language": "zh-CN"},
        json={"name": "-alice"},
    )
    assert chinese.json()["message"] == names.USER.refusal("-alice").zh
    assert api.get("/api/v1/ram/users", headers=headers).json()["users"] == []
