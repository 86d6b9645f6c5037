"""`rtc ram` and `rtc projects` against a live `rtc up`.

The guide's flow, the simulator's exit codes and bad input run `rtc` as a subprocess, as a user
or a script does. The remaining commands run in-process through Typer's runner, against the same
live server over HTTP: the same code path, without half a second of interpreter start per call.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from rtcompute import main
from rtcompute.cli import ram
from tests.conftest import PASSWORD, LiveServer
from tests.e2e.test_cli import rtc

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
USER_PASSWORD = "dev-password-42"
STREAM_STATEMENT = {
    "Action": "stream:*",
    "Resource": "acs:stream:*:*:projectname",
    "Effect": "Allow",
}
PASS_ROLE_STATEMENT = {"Action": "ram:PassRole", "Resource": "acs:ram:*:*:*", "Effect": "Allow"}
# bucket writes are where a RAM user's ram:PassRole is checked (the guide: 922019 arises
# "子账号在操作数据存储的时候"); this statement lets the user reach that check
OSS_STATEMENT = {"Action": "oss:*", "Resource": "*", "Effect": "Allow"}
PASS_ROLE_ZH = "子账号没有passRole权限，请到RAM对该子账号赋权"


def flat(text: str) -> str:
    """Rich wraps long lines at the terminal width; compare messages without the wrapping."""
    return " ".join(text.split())


def document(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)}, indent=2)


@dataclass
class Tenant:
    """A freshly signed-up account whose owner is signed in under `config_dir`."""

    server: LiveServer
    alias: str
    account_id: str
    config_dir: Path
    files: Path

    def file(self, name: str, text: str) -> str:
        path = self.files / name
        path.write_text(text)
        return str(path)


@pytest.fixture(scope="module")
def tenant(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    alias = "ram-" + secrets.token_hex(4)
    answer = httpx.post(
        live_server.url + "/api/v1/signup",
        json={"alias": alias, "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    root = tmp_path_factory.mktemp("cli-ram")
    config_dir = root / "owner"
    signed_in = rtc(
        config_dir,
        "login",
        "--endpoint",
        live_server.url,
        "--account",
        alias,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert signed_in.returncode == 0, signed_in.stderr
    (root / "files").mkdir()
    yield Tenant(live_server, alias, answer.json()["id"], config_dir, root / "files")


def paid_shared_order(config_dir: Path) -> str:
    """`rtc orders buy shared` then `rtc orders pay` as the account: the paid order's id."""
    bought = rtc(
        config_dir, "orders", "buy", "shared", "--agree", "--cu", "2", "--months", "1", "-o", "json"
    )
    assert bought.returncode == 0, bought.stderr
    order_id = str(json.loads(bought.stdout)["id"])
    paid = rtc(config_dir, "orders", "pay", order_id, "-o", "json")
    assert paid.returncode == 0, paid.stderr
    assert json.loads(paid.stdout)["state"] == "paid"
    return order_id


def run(tenant: Tenant, *args: str, stdin: str = "") -> Result:
    """`rtc ARGS` in-process, as the tenant's owner."""
    env = {"RTC_CONFIG_DIR": str(tenant.config_dir), "COLUMNS": "200", "RTC_PROFILE": "default"}
    return CliRunner().invoke(main.build_app(), list(args), input=stdin, env=env)


def run_json(tenant: Tenant, *args: str, stdin: str = "") -> Any:
    result = run(tenant, *args, "-o", "json", stdin=stdin)
    assert result.exit_code == 0, (args, result.output)
    return json.loads(result.stdout)


def test_guide_flow(tenant: Tenant) -> None:
    owner, dev = tenant.config_dir, tenant.config_dir.parent / "dev"
    refused = rtc(owner, "projects", "list")
    assert refused.returncode == 1
    assert "ServiceRoleNotAuthorized" in flat(refused.stderr)
    assert "rtc ram service-role authorize" in flat(refused.stderr)
    agreed = rtc(owner, "ram", "service-role", "authorize", "-o", "json")
    assert agreed.returncode == 0, agreed.stderr
    assert json.loads(agreed.stdout)["authorized"] is True

    made = rtc(
        owner,
        "ram",
        "users",
        "create",
        "dev",
        "--password-stdin",
        "-o",
        "json",
        stdin=USER_PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["has_password"] is True
    assert json.loads(made.stdout)["console_enabled"] is True
    assert USER_PASSWORD not in made.stdout
    policy_file = tenant.file("guide-policy.json", document(STREAM_STATEMENT, OSS_STATEMENT))
    created = rtc(
        owner,
        "ram",
        "policies",
        "create",
        "StreamProject",
        "--document-file",
        policy_file,
        "--description",
        "the guide's project policy",
    )
    assert created.returncode == 0, created.stderr
    assert "acs:stream:*:*:projectname" in created.stdout
    assert rtc(owner, "ram", "attach", "--user", "dev", "StreamProject").returncode == 0

    signed_in = rtc(
        dev,
        "login",
        "--endpoint",
        tenant.server.url,
        "--account",
        tenant.alias,
        "--user",
        "dev",
        "--password-stdin",
        stdin=USER_PASSWORD + "\n",
    )
    assert signed_in.returncode == 0, signed_in.stderr
    assert "dev@" + tenant.alias in signed_in.stdout
    # only the account itself buys and creates projects; the policy does not change that
    main_only = rtc(dev, "projects", "create", "projectname", "--order", "0")
    assert main_only.returncode == 1
    assert "Forbidden.MainAccountOnly" in flat(main_only.stderr)
    order_id = paid_shared_order(owner)
    project = rtc(owner, "projects", "create", "projectname", "--order", order_id)
    assert project.returncode == 0, project.stderr

    bucket = tenant.alias + "-data"
    denied = rtc(dev, "buckets", "create", bucket)
    assert denied.returncode == 1
    assert "922019" in flat(denied.stderr) and "ram:PassRole" in flat(denied.stderr)
    in_chinese = rtc(
        dev,
        "buckets",
        "create",
        bucket,
        env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""},
    )
    assert in_chinese.returncode == 1
    assert PASS_ROLE_ZH in flat(in_chinese.stderr)

    pass_role = (
        "--principal",
        "user/dev",
        "--action",
        "ram:PassRole",
        "--resource",
        f"acs:ram::{tenant.account_id}:role/StreamDefaultRole",
    )
    before = rtc(owner, "ram", "simulate", *pass_role)
    assert before.returncode == 3, before.stderr
    assert "ImplicitDeny" in before.stdout

    granted = rtc(
        owner,
        "ram",
        "policies",
        "add-version",
        "StreamProject",
        "--document-file",
        "-",
        "--set-default",
        "-o",
        "json",
        stdin=document(STREAM_STATEMENT, OSS_STATEMENT, PASS_ROLE_STATEMENT),
    )
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["version_id"] == "v2"
    assert json.loads(granted.stdout)["is_default"] is True
    after = rtc(owner, "ram", "simulate", *pass_role, "-o", "json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == {
        "decision": "Allow",
        "policy_name": "StreamProject",
        "policy_type": "Custom",
        "statement": 2,
    }
    made = rtc(dev, "buckets", "create", bucket, "-o", "json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["created_by"] == "dev@" + tenant.alias
    assert rtc(owner, "buckets", "delete", bucket).returncode == 0

    created = rtc(owner, "projects", "create", "other", "--order", paid_shared_order(owner))
    assert created.returncode == 0, created.stderr
    other = rtc(dev, "projects", "show", "other")
    assert other.returncode == 1
    assert "Forbidden.RAM" in flat(other.stderr) and "stream:DescribeProject" in flat(other.stderr)
    listed = rtc(dev, "projects", "list", "-o", "json")
    assert [p["name"] for p in json.loads(listed.stdout)] == ["projectname"]


def test_simulate_policy_files_and_exit_codes(tenant: Tenant) -> None:
    allow = tenant.file(
        "allow.json",
        document(
            {
                "Effect": "Allow",
                "Action": "stream:*",
                "Resource": "acs:stream:*:*:sim-*",
                "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
            }
        ),
    )
    deny = tenant.file(
        "deny.json",
        document(
            {"Effect": "Allow", "Action": "stream:List*", "Resource": "*"},
            {"Effect": "Deny", "Action": "stream:DeleteProject", "Resource": "*"},
        ),
    )
    resource = ("--resource", f"acs:stream:local:{tenant.account_id}:sim-a")
    files = ("--policy-file", allow, "--policy-file", deny)
    allowed = rtc(
        tenant.config_dir,
        "ram",
        "simulate",
        *files,
        "--action",
        "stream:DescribeProject",
        *resource,
        "--context",
        "acs:SourceIp=10.1.2.3",
        "-o",
        "json",
    )
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout) == {
        "decision": "Allow",
        "policy_name": "policy[0]",
        "policy_type": "Inline",
        "statement": 0,
    }
    refused = rtc(
        tenant.config_dir,
        "ram",
        "simulate",
        *files,
        "--action",
        "stream:DeleteProject",
        *resource,
        "--context",
        "acs:SourceIp=10.1.2.3",
    )
    assert refused.returncode == 3, refused.stderr
    assert "ExplicitDeny" in refused.stdout
    assert f"policy[1] from {deny}" in refused.stdout
    outside = rtc(
        tenant.config_dir,
        "ram",
        "simulate",
        *files,
        "--action",
        "stream:DescribeProject",
        *resource,
        "--context",
        "acs:SourceIp=192.168.0.1",
    )
    assert outside.returncode == 3
    assert "ImplicitDeny" in outside.stdout

    # a key given twice is one key with two values: the negated operator sees both
    negated = tenant.file(
        "negated.json",
        document(
            {
                "Effect": "Allow",
                "Action": "stream:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"stream:tag": "blocked"}},
            }
        ),
    )
    base = ("--policy-file", negated, "--action", "stream:ListProjects", "--resource", "*")
    assert run(tenant, "ram", "simulate", *base, "--context", "stream:tag=open").exit_code == 0
    both = ("--context", "stream:tag=blocked", "--context", "stream:tag=open")
    assert run(tenant, "ram", "simulate", *base, *both).exit_code == 3
    assert ram.parse_context(["a=1", "A=2", "b=x=y", "c="]) == {
        "a": ["1", "2"],
        "b": "x=y",
        "c": "",
    }


def test_bad_input(tenant: Tenant) -> None:
    owner = tenant.config_dir
    missing = rtc(
        owner, "ram", "policies", "create", "Nope", "--document-file", str(tenant.files / "no")
    )
    assert missing.returncode == 2
    assert "--document-file" in flat(missing.stderr) and "no such file" in flat(missing.stderr)

    bad = tenant.file("bad.json", '{"Version": "1", "Statement": [{"Effect": "Alow"}]}')
    refused = rtc(owner, "ram", "policies", "create", "Bad", "--document-file", bad)
    assert refused.returncode == 1
    assert "InvalidPolicyDocument" in flat(refused.stderr)
    assert "Statement[0].Effect" in flat(refused.stderr)
    assert "Traceback" not in flat(refused.stderr)
    checked = rtc(owner, "ram", "policies", "validate", "--document-file", bad, "-o", "json")
    assert checked.returncode == 3
    problems = json.loads(checked.stdout)["problems"]
    assert {(p["statement"], p["element"]) for p in problems} >= {(0, "Effect"), (0, "Action")}

    no_value = rtc(
        owner,
        "ram",
        "simulate",
        "--principal",
        "user/dev",
        "--action",
        "stream:ListProjects",
        "--resource",
        "*",
        "--context",
        "acs:SourceIp",
    )
    assert no_value.returncode == 2
    assert "'acs:SourceIp' is not key=value" in flat(no_value.stderr)

    # the same mistakes in-process, and the rest of the usage errors
    assert run(tenant, "ram", "simulate", "--action", "a", "--resource", "r").exit_code == 2
    both = ("--principal", "user/dev", "--policy-file", bad, "--action", "a", "--resource", "r")
    assert run(tenant, "ram", "simulate", *both).exit_code == 2
    assert run(tenant, "ram", "simulate", *both[2:], "--context", "=v").exit_code == 2
    not_json = run(tenant, "ram", "policies", "validate", "--document-file", "-", stdin="{nope")
    assert not_json.exit_code == 3 and "not valid JSON" in not_json.stdout
    empty = run(tenant, "ram", "policies", "validate", "--document-file", "-", stdin="  \n")
    assert empty.exit_code == 2 and "stdin is empty" in flat(empty.output)
    assert run(tenant, "ram", "attach", "StreamProject").exit_code == 2
    two = run(tenant, "ram", "attached", "--user", "dev", "--group", "g")
    assert two.exit_code == 2 and "exactly one of --user, --group or --role" in flat(two.output)
    no_password = run(tenant, "ram", "users", "create", "nopw", "--password-stdin", stdin="\n")
    assert no_password.exit_code == 2
    assert run(tenant, "ram", "users", "update", "dev").exit_code == 2
    absent = run(tenant, "ram", "users", "show", "ghost")
    assert absent.exit_code == 1 and "EntityNotExist.User" in flat(absent.output)


def test_users_groups_and_access_keys(tenant: Tenant) -> None:
    made = run(tenant, "ram", "users", "create", "ops", "--with-password", stdin="pw-ops-123\n" * 2)
    assert made.exit_code == 0, made.output
    assert "pw-ops-123" not in made.output
    assert run_json(tenant, "ram", "users", "show", "ops")["has_password"] is True
    bare = run_json(tenant, "ram", "users", "create", "robot", "--display-name", "CI robot")
    assert bare == {**bare, "has_password": False, "console_enabled": False}
    changed = run_json(
        tenant, "ram", "users", "update", "robot", "--new-name", "bot", "--comment", "builds"
    )
    assert changed == {**changed, "name": "bot", "comment": "builds", "display_name": "CI robot"}
    reset = run(
        tenant, "ram", "users", "set-password", "bot", "--password-stdin", stdin="pw-bot-12345\n"
    )
    assert reset.exit_code == 0, reset.output
    assert run_json(tenant, "ram", "users", "show", "bot")["has_password"] is True
    assert run(tenant, "ram", "users", "unbind-mfa", "bot").exit_code == 0
    page = run_json(tenant, "ram", "users", "list", "--limit", "1")
    assert page["total"] >= 3 and len(page["users"]) == 1
    table = run(tenant, "ram", "users", "list", "--limit", "1")
    assert "more with --offset 1" in table.stdout

    key = run_json(tenant, "ram", "users", "access-keys", "create", "bot")
    assert key["id"].startswith("RTCAK") and key["secret"]
    listed = run(tenant, "ram", "users", "access-keys", "list", "bot")
    assert key["id"] in listed.stdout and key["secret"] not in listed.stdout
    off = run_json(tenant, "ram", "users", "access-keys", "disable", "bot", key["id"])
    assert off["status"] == "Inactive"
    on = run_json(tenant, "ram", "users", "access-keys", "enable", "bot", key["id"])
    assert on["status"] == "Active"
    assert run(tenant, "ram", "users", "access-keys", "delete", "bot", key["id"]).exit_code == 0
    assert run_json(tenant, "ram", "users", "access-keys", "list", "bot") == []

    group = run_json(tenant, "ram", "groups", "create", "builders", "--comment", "CI")
    assert group["arn"].endswith(":group/builders")
    assert run(tenant, "ram", "groups", "add-user", "builders", "bot").exit_code == 0
    members = run_json(tenant, "ram", "groups", "members", "builders")
    assert [m["name"] for m in members] == ["bot"]
    assert [g["name"] for g in run_json(tenant, "ram", "users", "groups", "bot")] == ["builders"]
    renamed = run_json(tenant, "ram", "groups", "update", "builders", "--new-name", "ci")
    assert renamed["name"] == "ci"
    assert run_json(tenant, "ram", "groups", "show", "ci")["comment"] == "CI"
    assert "ci" in run(tenant, "ram", "groups", "list").stdout
    attached = ("--group", "ci", "--type", "System", "StreamReadOnlyAccess")
    assert run(tenant, "ram", "attach", *attached).exit_code == 0
    held = run_json(tenant, "ram", "attached", "--group", "ci")
    assert [(a["policy_type"], a["policy_name"]) for a in held] == [
        ("System", "StreamReadOnlyAccess")
    ]
    via_group = run(
        tenant,
        "ram",
        "simulate",
        "--principal",
        "user/bot",
        "--action",
        "stream:ListProjects",
        "--resource",
        f"acs:stream:local:{tenant.account_id}:x",
    )
    assert via_group.exit_code == 0 and "StreamReadOnlyAccess" in via_group.stdout
    assert run(tenant, "ram", "detach", *attached).exit_code == 0
    assert run_json(tenant, "ram", "attached", "--group", "ci") == []
    assert run(tenant, "ram", "groups", "remove-user", "ci", "bot").exit_code == 0
    assert run_json(tenant, "ram", "groups", "members", "ci") == []
    assert run(tenant, "ram", "groups", "delete", "ci").exit_code == 0
    assert run(tenant, "ram", "users", "delete", "bot").exit_code == 0
    assert run(tenant, "ram", "users", "show", "bot").exit_code == 1


def test_policies_versions_and_roles(tenant: Tenant) -> None:
    system = run_json(tenant, "ram", "policies", "list", "--type", "System", "--limit", "1000")
    names = {p["name"] for p in system["policies"]}
    assert {"StreamFullAccess", "AdministratorAccess"} <= names
    assert {p["policy_type"] for p in system["policies"]} == {"System"}
    shown = run(tenant, "ram", "policies", "show", "StreamFullAccess")
    assert shown.exit_code == 0 and '"stream:*"' in shown.stdout and "System" in shown.stdout

    v1 = tenant.file(
        "v1.json", document({"Effect": "Allow", "Action": "oss:Get*", "Resource": "*"})
    )
    assert run(tenant, "ram", "policies", "create", "Reader", "-f", v1).exit_code == 0
    v2 = document({"Effect": "Allow", "Action": "oss:*", "Resource": "*"})
    assert (
        run(tenant, "ram", "policies", "add-version", "Reader", "-f", "-", stdin=v2).exit_code == 0
    )
    versions = run_json(tenant, "ram", "policies", "versions", "Reader")
    assert [(v["version_id"], v["is_default"]) for v in versions] == [
        ("v1", True),
        ("v2", False),
    ]
    assert run(tenant, "ram", "policies", "set-default", "Reader", "v2").exit_code == 0
    assert run_json(tenant, "ram", "policies", "show", "Reader")["default_version"] == "v2"
    assert run(tenant, "ram", "policies", "delete-version", "Reader", "v1").exit_code == 0
    # `..` is a version id like any other, not a way up to the policy (which it would delete)
    dots = run(tenant, "ram", "policies", "delete-version", "Reader", "..")
    assert dots.exit_code == 1, dots.output
    empty = run(tenant, "ram", "policies", "delete-version", "Reader", "")
    assert empty.exit_code == 1 and "must not be empty" in flat(empty.output)
    assert run(tenant, "ram", "policies", "show", "Reader").exit_code == 0
    customs = run_json(tenant, "ram", "policies", "list", "--type", "Custom")
    assert "Reader" in {p["name"] for p in customs["policies"]}

    trust = tenant.file(
        "trust.json",
        document(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{tenant.account_id}:root"]},
            }
        ),
    )
    checked = run(tenant, "ram", "policies", "validate", "--trust", "-f", trust)
    assert checked.exit_code == 0 and "valid" in checked.stdout
    as_permission = run(tenant, "ram", "policies", "validate", "-f", trust)
    assert as_permission.exit_code == 3
    role = run_json(
        tenant,
        "ram",
        "roles",
        "create",
        "auditor",
        "--description",
        "reads",
        "--trust-policy-file",
        trust,
    )
    assert role["arn"].endswith(":role/auditor")
    assert run(tenant, "ram", "attach", "--role", "auditor", "Reader").exit_code == 0
    users_of = run_json(tenant, "ram", "policies", "attachments", "Reader")
    assert [(e["kind"], e["name"]) for e in users_of] == [("Role", "auditor")]
    in_use = run(tenant, "ram", "policies", "delete", "Reader")
    assert in_use.exit_code == 1 and "auditor" in flat(in_use.output)
    updated = run_json(tenant, "ram", "roles", "update", "auditor", "--description", "reads all")
    assert updated["description"] == "reads all"
    assert "sts:AssumeRole" in run(tenant, "ram", "roles", "show", "auditor").stdout
    assert "auditor" in run(tenant, "ram", "roles", "list").stdout
    assert run(tenant, "ram", "detach", "--role", "auditor", "Reader").exit_code == 0
    assert run(tenant, "ram", "roles", "delete", "auditor").exit_code == 0
    assert run(tenant, "ram", "policies", "delete", "Reader").exit_code == 0
    assert run(tenant, "ram", "policies", "show", "Reader").exit_code == 1


def test_service_role_overview_and_projects(tenant: Tenant) -> None:
    run(tenant, "ram", "service-role", "authorize")
    shown = run(tenant, "ram", "service-role", "show")
    assert (
        shown.exit_code == 0
        and "StreamRolePolicy" in shown.stdout
        and '"Statement"' in shown.stdout
    )
    kept = run(tenant, "ram", "service-role", "reinitialize", stdin="n\n")
    assert kept.exit_code == 1
    assert "running jobs lose access to external storage" in flat(kept.output)
    assert run_json(tenant, "ram", "service-role", "show")["authorized"] is True
    gone = run_json(tenant, "ram", "service-role", "reinitialize", "--yes")
    assert gone["authorized"] is False
    assert run(tenant, "projects", "list").exit_code == 1
    assert run_json(tenant, "ram", "service-role", "authorize")["authorized"] is True

    summary = run(tenant, "ram", "overview")
    assert summary.exit_code == 0
    assert f"/login/{tenant.alias}" in summary.stdout and "of 5000" in summary.stdout
    counts = run_json(tenant, "ram", "overview")
    assert counts["limits"]["users"] == 5000

    needs_order = run(tenant, "projects", "create", "cli_proj")
    assert needs_order.exit_code == 2 and "--order" in flat(needs_order.output)
    order_id = paid_shared_order(tenant.config_dir)
    made = run_json(
        tenant, "projects", "create", "cli_proj", "--order", order_id, "--description", "first"
    )
    assert made["arn"].endswith(f":{tenant.account_id}:cli_proj")
    changed = run_json(tenant, "projects", "update", "cli_proj", "--description", "second")
    assert changed["description"] == "second"
    assert run_json(tenant, "projects", "show", "cli_proj")["description"] == "second"
    assert run(tenant, "projects", "delete", "cli_proj", stdin="n\n").exit_code == 1
    assert run(tenant, "projects", "show", "cli_proj").exit_code == 0
    assert run(tenant, "projects", "delete", "cli_proj", "--yes").exit_code == 0
    assert run(tenant, "projects", "show", "cli_proj").exit_code == 1


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    children = getattr(command, "commands", None)
    if children is None:
        yield path, command
        return
    yield path, command
    for name, child in children.items():
        yield from _leaves(child, (*path, name))


def test_help_and_docs_cover_every_command(tmp_path: Path) -> None:
    top = rtc(tmp_path, "--help")
    assert "ram" in top.stdout and "projects" in top.stdout
    listing = rtc(tmp_path, "ram", "--help")
    expected = "users groups policies roles attach detach attached simulate service-role overview"
    for name in expected.split():
        assert name in listing.stdout, name
    docs = (ROOT / "docs" / "cli.md").read_text()
    tree = get_command(main.build_app())
    seen = 0
    for path, command in _leaves(tree):
        if path[:1] not in (("ram",), ("projects",)):
            continue
        assert (getattr(command, "help", None) or "").strip(), f"rtc {' '.join(path)} has no help"
        for param in getattr(command, "params", []):
            if param.name != "help":
                assert (getattr(param, "help", None) or "").strip(), (path, param.name)
        if getattr(command, "commands", None) is None:
            seen += 1
            assert f"rtc {' '.join(path)}" in docs, f"docs/cli.md lacks rtc {' '.join(path)}"
    assert seen >= 45
