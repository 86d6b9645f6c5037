"""The `rtc` CLI as a user runs it: a subprocess against a live `rtc up`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.slow


def rtc(
    config_dir: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "RTC_CONFIG_DIR": str(config_dir), "COLUMNS": "200", **(env or {})}
    for name in ("RTC_ENDPOINT", "RTC_ACCESS_KEY_ID", "RTC_ACCESS_KEY_SECRET", "RTC_PROFILE"):
        if not env or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "rtcompute.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def login(server: LiveServer, config_dir: Path) -> None:
    result = rtc(
        config_dir,
        "login",
        "--endpoint",
        server.url,
        "--account",
        server.account,
        "--password-stdin",
        stdin=server.password + "\n",
    )
    assert result.returncode == 0, result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    version = rtc(tmp_path, "version")
    assert version.returncode == 0
    assert version.stdout.startswith("rtcompute ")
    for command in (
        [],
        ["login"],
        ["whoami"],
        ["access-keys"],
        ["access-keys", "create"],
        ["audit", "list"],
        ["accounts", "create"],
        ["db"],
        ["up"],
    ):
        result = rtc(tmp_path, *command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage" in result.stdout


def test_login_whoami_profile_file(live_server: LiveServer, tmp_path: Path) -> None:
    login(live_server, tmp_path)
    config = tmp_path / "config.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert "rtcs_" in config.read_text()
    result = rtc(tmp_path, "whoami", "--output", "json")
    assert result.returncode == 0, result.stderr
    me = json.loads(result.stdout)
    assert me["account_alias"] == "operator"
    assert me["identity_type"] == "account"
    assert me["is_operator"] is True
    table = rtc(tmp_path, "whoami")
    assert "operator" in table.stdout


def test_wrong_password_is_a_clear_error(live_server: LiveServer, tmp_path: Path) -> None:
    result = rtc(
        tmp_path,
        "login",
        "--endpoint",
        live_server.url,
        "--account",
        live_server.account,
        "--password-stdin",
        stdin="not-the-password\n",
    )
    assert result.returncode == 1
    assert "InvalidCredentials" in result.stderr
    assert not (tmp_path / "config.toml").exists()


def test_not_signed_in(tmp_path: Path) -> None:
    result = rtc(tmp_path, "whoami")
    assert result.returncode == 1
    assert "rtc login" in result.stderr


def test_access_key_lifecycle_and_use(live_server: LiveServer, tmp_path: Path) -> None:
    session_dir = tmp_path / "session"
    login(live_server, session_dir)
    before = json.loads(rtc(session_dir, "access-keys", "list", "-o", "json").stdout)
    for key in before:  # leave room: at most 2 per identity
        rtc(session_dir, "access-keys", "delete", key["id"])
    created = rtc(session_dir, "access-keys", "create", "-o", "json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["id"].startswith("RTCAK") and len(key["secret"]) >= 30
    listed = rtc(session_dir, "access-keys", "list", "-o", "json")
    assert [k["id"] for k in json.loads(listed.stdout)] == [key["id"]]
    assert key["secret"] not in listed.stdout

    # the key signs in a second profile and through environment variables
    key_dir = tmp_path / "key"
    with_key = rtc(
        key_dir,
        "login",
        "--endpoint",
        live_server.url,
        "--access-key-id",
        key["id"],
        "--password-stdin",
        "-o",
        "json",
        stdin=key["secret"] + "\n",
    )
    assert with_key.returncode == 0, with_key.stderr
    me = json.loads(rtc(key_dir, "whoami", "-o", "json").stdout)
    assert me["auth_method"] == "access_key"
    env = {
        "RTC_ENDPOINT": live_server.url,
        "RTC_ACCESS_KEY_ID": key["id"],
        "RTC_ACCESS_KEY_SECRET": key["secret"],
    }
    assert json.loads(rtc(tmp_path / "none", "whoami", "-o", "json", env=env).stdout)["name"]

    disabled = rtc(session_dir, "access-keys", "disable", key["id"], "-o", "json")
    assert json.loads(disabled.stdout)["status"] == "Inactive"
    refused = rtc(key_dir, "whoami")
    assert refused.returncode == 1 and "AccessKeyDisabled" in refused.stderr
    assert rtc(session_dir, "access-keys", "enable", key["id"]).returncode == 0
    assert rtc(key_dir, "whoami").returncode == 0
    assert rtc(session_dir, "access-keys", "delete", key["id"]).returncode == 0
    gone = rtc(key_dir, "whoami")
    assert gone.returncode == 1 and "InvalidAccessKey" in gone.stderr


def test_access_key_limit(live_server: LiveServer, tmp_path: Path) -> None:
    login(live_server, tmp_path)
    existing = json.loads(rtc(tmp_path, "access-keys", "list", "-o", "json").stdout)
    for _ in range(2 - len(existing)):
        assert rtc(tmp_path, "access-keys", "create").returncode == 0
    third = rtc(tmp_path, "access-keys", "create")
    assert third.returncode == 1
    assert "AccessKeyLimitExceeded" in third.stderr and "at most 2" in third.stderr
    for key in json.loads(rtc(tmp_path, "access-keys", "list", "-o", "json").stdout):
        rtc(tmp_path, "access-keys", "delete", key["id"])


def test_audit_list_and_accounts(live_server: LiveServer, tmp_path: Path) -> None:
    login(live_server, tmp_path)
    made = rtc(
        tmp_path,
        "accounts",
        "create",
        "cli-tenant",
        "--password-stdin",
        "-o",
        "json",
        stdin="tenant-password-1\n",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["login_url"].endswith("/login/cli-tenant")
    listed = json.loads(rtc(tmp_path, "accounts", "list", "-o", "json").stdout)
    assert "cli-tenant" in {a["alias"] for a in listed}
    page = json.loads(
        rtc(tmp_path, "audit", "list", "--action", "rtc:CreateAccount", "-o", "json").stdout
    )
    assert page["events"][0]["action"] == "rtc:CreateAccount"
    assert page["events"][0]["outcome"] == "success"
    table = rtc(tmp_path, "audit", "list", "--limit", "1")
    assert table.returncode == 0 and "more: --page-token" in table.stdout

    tenant_dir = tmp_path / "tenant"
    result = rtc(
        tenant_dir,
        "login",
        "--endpoint",
        live_server.url,
        "--account",
        "cli-tenant",
        "--password-stdin",
        stdin="tenant-password-1\n",
    )
    assert result.returncode == 0, result.stderr
    denied = rtc(tenant_dir, "accounts", "list")
    assert denied.returncode == 1 and "Forbidden.RAM" in denied.stderr
    assert rtc(tenant_dir, "audit", "list", "--all-accounts").returncode == 1


def test_logout_ends_the_session(live_server: LiveServer, tmp_path: Path) -> None:
    login(live_server, tmp_path)
    token_line = next(
        line for line in (tmp_path / "config.toml").read_text().splitlines() if "rtcs_" in line
    )
    assert rtc(tmp_path, "logout").returncode == 0
    assert rtc(tmp_path, "whoami").returncode == 1
    token = token_line.split('"')[1]
    answer = httpx.get(
        live_server.url + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert answer.status_code == 401


def test_db_commands(tmp_path: Path) -> None:
    env = {"RTC_DATA_DIR": str(tmp_path / "data")}
    empty = rtc(tmp_path, "db", "current", env=env)
    assert empty.returncode == 0 and "empty" in empty.stdout
    assert rtc(tmp_path, "db", "upgrade", env=env).returncode == 0
    current = rtc(tmp_path, "db", "current", env=env)
    assert "(head)" in current.stdout


def test_resource_names_print_literally(live_server: LiveServer, tmp_path: Path) -> None:
    """Rich would turn `acs:ram::...` into an emoji (:ram:) unless told not to."""
    login(live_server, tmp_path)
    result = rtc(tmp_path, "audit", "list", "--limit", "5", env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    assert "acs:ram::" in result.stdout
    assert "\N{RAM}" not in result.stdout


def test_json_output_of_version_and_logout(live_server: LiveServer, tmp_path: Path) -> None:
    version = rtc(tmp_path, "version", "-o", "json")
    assert json.loads(version.stdout)["version"].count(".") == 2
    login(live_server, tmp_path)
    out = rtc(tmp_path, "logout", "-o", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"signed_out": True, "profile": "default"}
