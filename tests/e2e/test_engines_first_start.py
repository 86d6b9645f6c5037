"""`make run` on a fresh machine: the first `rtc up` installs the default engine version on
the shared pool, for real (from the offline wheelhouse here), with progress, before it
serves; a second start finds it and installs nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD, free_port, login, wait_healthy

pytestmark = pytest.mark.slow

VERSION = "flink-2.2.1"


def start(
    data_dir: Path, home: Path, wheelhouse: Path, log: Path
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {
        **os.environ,
        "RTC_DATA_DIR": str(data_dir),
        "RTC_PORT": str(port),
        "RTC_BOOTSTRAP_ACCOUNT": "operator",
        "RTC_BOOTSTRAP_PASSWORD": PASSWORD,
        "RTC_ENGINES__HOME": str(home),
        "RTC_ENGINES__INSTALL_DEFAULT": "true",
        "RTC_ENGINE_WHEELHOUSE": str(wheelhouse),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rtcompute.main", "up"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(process, url, log, timeout=300)  # a real install comes first
    return process, url


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_first_start_installs_the_default_engine_with_progress(
    tmp_path: Path, engine_wheelhouse: Path
) -> None:
    data_dir, home = tmp_path / "data", tmp_path / "engines"
    first_log = tmp_path / "first.log"
    process, url = start(data_dir, home, engine_wheelhouse, first_log)
    try:
        output = first_log.read_text()
        assert f"first start, installing engine {VERSION}" in output
        assert "100%" in output, output
        assert f"engine {VERSION} installed" in output
        assert (home / VERSION / "bin" / "python").exists()
        with httpx.Client(base_url=url, timeout=30) as client:
            client.headers.update(login(client, "operator"))  # type: ignore[arg-type]
            pool = client.get("/api/v1/pool/versions").json()
            assert [(v["version"], v["state"], v["current"]) for v in pool] == [
                (VERSION, "installed", True)
            ]
    finally:
        stop(process)
    second_log = tmp_path / "second.log"
    process, _ = start(data_dir, home, engine_wheelhouse, second_log)
    try:
        assert "installing engine" not in second_log.read_text()
    finally:
        stop(process)
