"""Liveness, readiness (database and schema) and Prometheus metrics (both databases)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rtcompute.api import app as app_module
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import migrate
from tests.conftest import FakeClock, RecordingNotifier, login, make_settings, signup


def test_healthz(api: TestClient) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def test_readyz_when_ready(api: TestClient) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "writes": "ok", "migrations": "ok"},
    }


@pytest.fixture
def empty_database_api(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "data")
    built = platform_module.build_platform(
        settings, notifier=RecordingNotifier(), clock=FakeClock()
    )
    with TestClient(app_module.create_app(built), raise_server_exceptions=False) as client:
        yield client
    built.engine.dispose()


def test_readyz_when_the_schema_is_behind(empty_database_api: TestClient) -> None:
    response = empty_database_api.get("/readyz")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] != "ok"
    assert "rtc db upgrade" in body["checks"]["migrations"]
    assert str(migrate.head_revision()) in body["checks"]["migrations"]
    # liveness does not depend on the schema
    assert empty_database_api.get("/healthz").status_code == 200


def test_readyz_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}", tmp_path / "d")
    built = platform_module.build_platform(settings, notifier=RecordingNotifier())
    with TestClient(app_module.create_app(built), raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    built.engine.dispose()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


def sample(text: str, method: str, route: str, status: str) -> float:
    """The value of rtc_http_requests_total with these labels, 0 when absent."""
    wanted = {"method": method, "route": route, "status": status}
    for line in text.splitlines():
        if not line.startswith("rtc_http_requests_total{"):
            continue
        labels_part, _, value = line.rpartition(" ")
        labels = dict(re.findall(r'(\w+)="([^"]*)"', labels_part))
        if labels == wanted:
            return float(value)
    return 0.0


def test_metrics_count_requests_by_route_template(api: TestClient) -> None:
    signup(api, "acme")
    headers = login(api, "acme")
    before = api.get("/metrics").text
    for _ in range(3):
        assert api.get("/api/v1/me", headers=headers).status_code == 200
    api.get("/api/v1/me")
    api.patch(
        "/api/v1/access-keys/RTCAK0000000000000000000", headers=headers, json={"status": "Active"}
    )
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "rtc_http_requests_total" in text
    assert "rtc_http_request_duration_seconds_bucket" in text
    assert (
        sample(text, "GET", "/api/v1/me", "200") - sample(before, "GET", "/api/v1/me", "200") == 3
    )
    assert sample(text, "GET", "/api/v1/me", "401") >= 1
    # the template, not the concrete key id, so labels stay bounded
    assert sample(text, "PATCH", "/api/v1/access-keys/{key_id}", "404") == 1
    assert "RTCAK0000000000000000000" not in text
    api.get("/no/such/page")
    assert 'route="unmatched"' in api.get("/metrics").text
