"""`rtc up` / `rtc db` refuse bad configuration with one clear line, not a traceback."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, LiveServer, suite_now

pytestmark = pytest.mark.slow


def rtc(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "RTC_DATA_DIR": str(tmp_path / "data"), **env}
    for name in ("RTC_DATABASE_URL", "RTC_BOOTSTRAP_PASSWORD", "RTC_ENVIRONMENT"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "rtcompute.main", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["up"], {"RTC_BOOTSTRAP_PASSWORD": "short"}, "at least 8 characters"),
        (["up"], {"RTC_PORT": "not-a-port"}, "port: Input should be a valid integer"),
        (["db", "current"], {"RTC_ENVIRONMENT": "production"}, "needs RTC_DATABASE_URL"),
        (["up"], {"RTC_ALERTS__WEBHOOK_URL": "http://[::1/alerts"}, "alerts.webhook_url"),
        (["up"], {"RTC_ALERTS__WEBHOOK_URL": "ftp://example.org/x"}, "http:// or https://"),
    ],
)
def test_bad_configuration(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = rtc(tmp_path, *args, **env)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_live_servers_run_on_the_suites_clock(live_server: LiveServer) -> None:
    """A server the suite starts dates what it makes by the suite's clock (suite_now, which
    RTC_TEST_CLOCK_SHIFT_DAYS moves through RTC_CLOCK_OFFSET_DAYS), not the machine's."""
    alias = "clock-" + secrets.token_hex(3)
    made = httpx.post(
        f"{live_server.url}/api/v1/signup", json={"alias": alias, "password": PASSWORD}, timeout=10
    )
    assert made.status_code == 201, made.text
    created = datetime.fromisoformat(made.json()["created_at"].replace("Z", "+00:00"))
    assert abs(created - suite_now()) < timedelta(minutes=5), (created, suite_now())
