"""Behind a TLS proxy: forwarded headers are believed only from the configured address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, start_server, stop_server

pytestmark = pytest.mark.slow
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def sign_in_source_ip(server: LiveServer) -> str:
    signed = httpx.post(
        server.url + "/api/v1/sessions",
        json={"account": server.account, "password": server.password},
        headers=FORWARDED,
        timeout=30,
    )
    assert signed.status_code == 201, signed.text
    token = signed.json()["token"]
    events = httpx.get(
        server.url + "/api/v1/audit-events",
        params={"action": "rtc:SignIn"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()["events"]
    return str(events[0]["source_ip"])


def test_trusted_proxy(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", {"RTC_FORWARDED_ALLOW_IPS": "127.0.0.1"})
    try:
        assert sign_in_source_ip(server) == "203.0.113.9"
        page = httpx.get(server.url + "/login/operator", headers=FORWARDED, timeout=30)
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("Secure" in cookie for cookie in cookies), cookies
    finally:
        stop_server(server)


def test_forwarded_headers_ignored_by_default(live_server: LiveServer) -> None:
    assert sign_in_source_ip(live_server) == "127.0.0.1"
    page = httpx.get(live_server.url + "/login/operator", headers=FORWARDED, timeout=30)
    assert not any("Secure" in cookie for cookie in page.headers.get_list("set-cookie"))
