"""The API docs page works without internet: its assets come from this server."""

from __future__ import annotations

import re

from starlette.testclient import TestClient


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
