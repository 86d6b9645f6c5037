"""Single-tenant mode (the operator turned the sandbox off) is said on every console page,
signed in or not, in the page's language; without it, no page says it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.integration.test_console import signup_via_form

BANNER = "Single-tenant mode: jobs run without the sandbox"
BANNER_ZH = "单租户模式"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return {"jobs": {"single_tenant": request.node.get_closest_marker("sandbox_off") is not None}}


@pytest.mark.sandbox_off
@pytest.mark.one_database
def test_every_page_says_the_sandbox_is_off(api: TestClient) -> None:
    assert BANNER in api.get("/login").text
    assert BANNER_ZH in api.get("/login?lang=zh-CN").text
    api.get("/login?lang=en")
    signup_via_form(api, "solo")
    for path in ("/console", "/console/audit", "/console/settings"):
        page = api.get(path)
        assert page.status_code == 200, path
        assert BANNER in page.text, path


@pytest.mark.one_database
def test_a_sandboxed_installation_says_nothing(api: TestClient) -> None:
    assert BANNER not in api.get("/login").text
    signup_via_form(api, "many")
    assert BANNER not in api.get("/console").text
