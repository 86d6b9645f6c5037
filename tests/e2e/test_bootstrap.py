"""The first start of `rtc up`: the operator's credentials are printed once, and work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_healthy

pytestmark = pytest.mark.slow


def run_until_healthy(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], Path]:
    env = {
        **os.environ,
        "RTC_DATA_DIR": str(data_dir),
        "RTC_PORT": str(port),
        # the first start's engine install has its own test (tests/e2e/test_engines_first_start.py)
        "RTC_ENGINES__INSTALL_DEFAULT": "false",
    }
    for name in ("RTC_BOOTSTRAP_PASSWORD", "RTC_BOOTSTRAP_ACCOUNT", "RTC_DATABASE_URL"):
        env.pop(name, None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"up-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "rtcompute.main", "up"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    wait_healthy(process, f"http://127.0.0.1:{port}", log)
    return process, log


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(15)


def test_generated_operator_password_is_printed_once(tmp_path: Path) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    process, log = run_until_healthy(data_dir, port)
    try:
        first = log.read_text()
        url = re.search(r"sign-in URL: (\S+)", first)
        password = re.search(r"password:\s+(\S+)\s+\(shown once", first)
        assert url is not None and url.group(1).endswith("/login/operator"), first
        assert password is not None, first
        signed = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/sessions",
            json={"account": "operator", "password": password.group(1)},
            timeout=30,
        )
        assert signed.status_code == 201, signed.text
        assert signed.json()["principal"]["is_operator"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()["status"] == "ok"
        # the data directory is private to the server's user
        assert (data_dir.stat().st_mode & 0o077) == 0
    finally:
        stop(process)
    process, log = run_until_healthy(data_dir, port)
    try:
        again = log.read_text()
        assert "password:" not in again and password.group(1) not in again
    finally:
        stop(process)
