"""Benchmark RAM decisions: a user with 30 policies of 10 statements against a one-statement one.

What it does, in one invocation:

  1. builds a real `Platform` on a temporary SQLite database (migrated with `rtc db upgrade`'s
     code), signs up an account and creates, through the services, 30 custom policies of 10
     statements each (wildcards `*` and `?`, conditions on source IP, TLS, MFA, tags and
     numbers, Deny and NotAction statements; actions of stream, ram, oss, ecs, vpc and log).
     RAM allows at most 10 custom policies attached per user, so the user "heavy" gets 10
     directly and 10 through each of two groups: 30 in all. The user "light" gets one policy
     of one statement. Both authenticate with an access key (`sessions.authenticate`);
  2. times `authz.decide(platform, principal, action, resource, context)` for a fixed mix of
     8 requests (allowed, explicitly denied, denied by default) in three ways:
       from cache  the decision is in the identity's decision cache (`authz.cached_decision`);
       uncached    the compiled policy set is in memory but the identity's cached decisions
                   are cleared before each call (outside the timed region): the full
                   `decide` path of a request not seen before, evaluation included;
       cold        the identity's entry is dropped (`platform.decisions.invalidate`) before
                   each call, so the policy set is read from the database and built again
                   (the documents' parse stays cached, as for policies that did not change);
     each on "heavy" and on "light" alternately, `--repeats` times; each call is timed on its
     own with `time.perf_counter_ns` (the timer's own cost, printed, is included);
  3. prints p50/p90/p99 per mode (medians over the repeats), the ratios heavy/light, and
     PASS/FAIL against the targets; exits 1 if one is missed.

For information it also times `PolicySet.evaluate` alone, building a request's context, a
cold load that parses the documents again, each request of the mix uncached, and a user
whose 30 policies include one
`acs:CurrentTime` condition (such a policy set is never answered from cached decisions: a
time condition can change its answer from one second to the next).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform as python_platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rtcompute import settings as settings_module
from rtcompute.domain import policies
from rtcompute.services.iam import attachments, authz, groups
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.iam import users as ram_users
from rtcompute.services.kernel import access_keys, accounts, authz_cache, principals, sessions
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import migrate

# Targets of the RAM issue, section 9 (2-core machine), p50 of the heavy user.
MAX_CACHED_P50_US = 20.0
MAX_UNCACHED_P50_US = 200.0

POLICIES = 30
STATEMENTS = 10
SOURCE_IP = "192.168.7.20"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)

Statement = dict[str, Any]
Request = tuple[str, str, policies.Context]


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p90: float
    p99: float

    @staticmethod
    def of(samples_ns: Sequence[int]) -> Percentiles:
        ordered = sorted(samples_ns)

        def at(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000

        return Percentiles(at(0.50), at(0.90), at(0.99))


@dataclass(frozen=True)
class User:
    name: str
    principal: principals.Principal
    requests: list[Request]


# --- the policies -----------------------------------------------------------------------


def statements_of(p: int, account_id: str, *, timed: bool = False) -> list[Statement]:
    """Policy number `p`: ten statements in the mix a team's policies have."""
    team = f"team{p}"
    mine = f"acs:stream:*:{account_id}"
    office = {"IpAddress": {"acs:SourceIp": [f"10.{p}.0.0/16", "192.168.0.0/16", "2001:db8::/32"]}}
    listed: list[Statement] = [
        {
            "Effect": "Allow",
            "Action": ["stream:Describe*", "stream:List*", "stream:Get*", "stream:Query*"],
            "Resource": [f"acs:stream:*:*:{team}_*", f"acs:stream:*:*:{team}_*/*"],
        },
        {
            "Effect": "Allow",
            "Action": ["stream:*Job", "stream:QueryJobMetrics", "stream:CheckJob"],
            "Resource": f"{mine}:{team}_proj/job/etl_??",
            "Condition": office,
        },
        {
            "Effect": "Deny",
            "Action": ["stream:Delete*", "stream:OfflineJob"],
            "Resource": f"acs:stream:*:*:prod{p}*",
            "Condition": {"Bool": {"acs:MFAPresent": "false"}},
        },
        {
            "Effect": "Allow",
            "Action": ["ram:Get*", "ram:List*"],
            "Resource": [f"acs:ram::{account_id}:user/{team}-*", f"acs:ram::*:group/{team}"],
        },
        {
            "Effect": "Allow",
            "Action": "ram:PassRole",
            "Resource": f"acs:ram::*:role/Team{p}Role",
            "Condition": {"Bool": {"acs:SecureTransport": "true"}},
        },
        {
            "Effect": "Allow",
            "Action": ["oss:GetObject", "oss:PutObject", "oss:ListObjects"],
            "Resource": [f"acs:oss:*:*:bucket-{p}/checkpoints/*", f"acs:oss:*:*:bucket-{p}"],
            "Condition": office,
        },
        {
            "Effect": "Allow",
            "Action": ["ecs:Describe*", "ecs:CreateNetworkInterface"],
            "Resource": "acs:ecs:*:*:*",
            "Condition": {
                "StringEqualsIgnoreCase": {"ecs:tag/env": ["dev", "test"]},
                "StringLike": {"ecs:tag/team": [f"{team}*", "shared-?"]},
            },
        },
        {
            "Effect": "Allow",
            "Action": ["vpc:DescribeVpcs", "vpc:DescribeVSwitches"],
            "Resource": f"acs:vpc:*:{account_id}:vpc/*",
            "Condition": {"NumericLessThanEquals": {"stream:cu": "64"}},
        },
        {
            "Effect": "Allow",
            "Action": ["log:Get*", "log:List*", "log:Post*"],
            "Resource": f"acs:log:*:*:project/{team}-*",
        },
    ]
    if p % 5 == 4:  # every fifth policy fences everything else to the office networks
        listed.append(
            {
                "Effect": "Deny",
                "NotAction": ["stream:*", "ram:*", "oss:*", "ecs:*", "vpc:*", "log:*"],
                "Resource": "*",
                "Condition": {"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
            }
        )
    else:
        listed.append(
            {
                "Effect": "Allow",
                "Action": "stream:*Folder",
                "Resource": f"{mine}:{team}_proj/folder/*",
                "Condition": {"StringNotEquals": {"stream:folder": "/system"}},
            }
        )
    if timed:  # time-limited access: the decision cache cannot hold its answers
        listed[8]["Condition"] = {"DateLessThan": {"acs:CurrentTime": "2027-01-01T00:00:00+08:00"}}
    assert len(listed) == STATEMENTS
    return listed


def document(statements: list[Statement]) -> str:
    text = json.dumps({"Version": "1", "Statement": statements}, separators=(",", ":"))
    problems = policies.problems(text)
    assert not problems, problems
    return text


# --- the setup --------------------------------------------------------------------------


def build(work: Path) -> tuple[platform_module.Platform, str, dict[str, User]]:
    url = f"sqlite:///{work / 'rtc.db'}"
    migrate.upgrade(url)
    settings = settings_module.Settings(database_url=url, data_dir=work / "data")
    platform = platform_module.build_platform(settings, clock=lambda: NOW)
    account = accounts.sign_up(
        platform, accounts.NewAccount(alias="benchcorp", password="bench-password-9")
    )
    acct = account.id
    for p in range(POLICIES):
        ram_policies.create_policy(
            platform, acct, f"team-policy-{p:02d}", document(statements_of(p, acct))
        )
    timed_doc = document(statements_of(9, acct, timed=True))
    ram_policies.create_policy(platform, acct, "team-policy-09-timed", timed_doc)
    one = [{"Effect": "Allow", "Action": "stream:*", "Resource": "acs:stream:*:*:projectname"}]
    ram_policies.create_policy(platform, acct, "one-statement", document(one))

    for group in ("team-a", "team-b"):
        groups.create_group(platform, acct, group)
    for p in range(10, 20):
        attachments.attach(platform, acct, "Group", "team-a", "Custom", f"team-policy-{p:02d}")
    for p in range(20, 30):
        attachments.attach(platform, acct, "Group", "team-b", "Custom", f"team-policy-{p:02d}")
    direct = {
        "heavy": [f"team-policy-{p:02d}" for p in range(10)],
        "timed": [f"team-policy-{p:02d}" for p in range(9)] + ["team-policy-09-timed"],
        "light": ["one-statement"],
    }
    users: dict[str, User] = {}
    for name, names in direct.items():
        ram_users.create_user(platform, acct, ram_users.NewUser(name=name))
        for policy_name in names:
            attachments.attach(platform, acct, "User", name, "Custom", policy_name)
        if name != "light":
            for group in ("team-a", "team-b"):
                groups.add_user(platform, acct, group, name)
    for name in direct:
        identity_id = ram_users.user_id(platform, acct, name)
        created = access_keys.create_access_key(platform, identity_id)
        principal = sessions.authenticate(platform, f"{created.key.id}:{created.secret}")
        users[name] = User(name, principal, requests_for(platform, principal))
    return platform, acct, users


def requests_for(
    platform: platform_module.Platform, principal: principals.Principal
) -> list[Request]:
    """The mix of requests every mode times, with the context a request from the office has."""
    acct = principal.account_id
    region = platform.settings.region
    request = principals.RequestContext(source_ip=SOURCE_IP, secure_transport=True)
    base = authz.context_of(principal, request, platform.now())
    tagged = {**base, "ecs:tag/env": "Dev", "ecs:tag/team": "team12-etl"}
    stream = f"acs:stream:{region}:{acct}"
    return [
        ("stream:DescribeProject", f"{stream}:team17_analytics", base),
        ("stream:StartJob", f"{stream}:team29_proj/job/etl_07", base),
        ("stream:DeleteProject", f"{stream}:prod5_orders", base),
        ("stream:CreateCluster", f"{stream}:cluster/c-42", base),
        ("ram:PassRole", f"acs:ram::{acct}:role/Team12Role", base),
        ("oss:GetObject", f"acs:oss:{region}:{acct}:bucket-8/checkpoints/job1/chk-3", base),
        ("ecs:DescribeNetworkInterfaces", f"acs:ecs:{region}:{acct}:eni/eni-123", tagged),
        ("vpc:DeleteVpc", f"acs:vpc:{region}:{acct}:vpc/vpc-1", base),
    ]


# what the heavy user's policies decide for each request of the mix
EXPECTED = [
    "Allow",
    "Allow",
    "ExplicitDeny",
    "ImplicitDeny",
    "Allow",
    "Allow",
    "Allow",
    "ImplicitDeny",
]


# --- timing -----------------------------------------------------------------------------


def timed_calls(
    call: Callable[[str, str, policies.Context], object],
    requests: list[Request],
    iterations: int,
    before: Callable[[], object] | None = None,
) -> list[int]:
    """One sample per call, in nanoseconds; `before` runs untimed before each call."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    gc.collect()
    for _ in range(iterations):
        for action, resource, context in requests:
            if before is not None:
                before()
            started = clock()
            call(action, resource, context)
            samples.append(clock() - started)
    return samples


def timer_overhead_ns() -> float:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(100_000):
        started = clock()
        samples.append(clock() - started)
    return float(statistics.median(samples))


class Bench:
    def __init__(self, platform: platform_module.Platform, account_id: str) -> None:
        self.platform = platform
        self.account_id = account_id

    def decide(self, user: User) -> Callable[[str, str, policies.Context], policies.Verdict]:
        platform, principal = self.platform, user.principal
        return lambda action, resource, context: authz.decide(
            platform, principal, action, resource, context
        )

    def warm(self, user: User) -> list[str]:
        """Decide every request once (loads the entry); the decisions, for the record."""
        return [self.decide(user)(*request).decision.value for request in user.requests]

    def entry(self, user: User) -> authz_cache.Entry:
        self.warm(user)
        found = self.platform.decisions.entry(
            user.principal.identity_id, user.principal.ram_revision
        )
        assert found is not None
        return found

    def from_cache(self, user: User, iterations: int) -> list[int]:
        self.warm(user)
        return timed_calls(self.decide(user), user.requests, iterations)

    def uncached(self, user: User, iterations: int) -> list[int]:
        entry = self.entry(user)
        return timed_calls(self.decide(user), user.requests, iterations, entry.decisions.clear)

    def evaluate_only(self, user: User, iterations: int) -> list[int]:
        entry = self.entry(user)
        return timed_calls(entry.policy_set.evaluate, user.requests, iterations)

    def cold(self, user: User, iterations: int, *, parse: bool = False) -> list[int]:
        revision = self.entry(user).revision

        def drop() -> None:
            self.platform.decisions.invalidate(self.account_id, revision)
            if parse:
                authz.compiled.cache_clear()

        return timed_calls(self.decide(user), user.requests, iterations, drop)

    def context_build(self, user: User, iterations: int) -> list[int]:
        request = principals.RequestContext(source_ip=SOURCE_IP, secure_transport=True)
        platform, principal = self.platform, user.principal
        clock = time.perf_counter_ns
        samples = []
        for _ in range(iterations):
            started = clock()
            authz.context_of(principal, request, platform.now())
            samples.append(clock() - started)
        return samples


# --- report -----------------------------------------------------------------------------


def machine() -> str:
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    uname = os.uname()
    return (
        f"{os.cpu_count()} CPUs, {mem_kib / 1024**2:.1f} GiB RAM, "
        f"{uname.sysname} {uname.release} {uname.machine}, "
        f"Python {python_platform.python_version()}"
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def median_of(runs: list[Percentiles]) -> Percentiles:
    return Percentiles(
        statistics.median(r.p50 for r in runs),
        statistics.median(r.p90 for r in runs),
        statistics.median(r.p99 for r in runs),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/iam.py",
        description=(
            "Time RAM decisions (authz.decide) for a RAM user with 30 attached policies of\n"
            "10 statements against a user with one one-statement policy, in one process on a\n"
            "temporary SQLite database. Prints p50/p90/p99 (medians over the repeats), the\n"
            "ratios, and PASS/FAIL against the targets (heavy user, p50):\n"
            f"  from cache <= {MAX_CACHED_P50_US:g} us, uncached <= {MAX_UNCACHED_P50_US:g} us.\n"
            "Exit status: 0 all targets met, 1 a target missed, 2 the policies no longer\n"
            "decide the request mix as expected (the benchmark would time something else)."
        ),
        epilog="Example: .venv/bin/python bench/iam.py --repeats 3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=5_000,
        help="passes over the 8 requests per repeat, from cache (default %(default)s); "
        "uncached and evaluate-only use a fifth, cold loads a hundredth",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats; medians are quoted (default %(default)s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if args.iterations < 100 or args.repeats < 1:
        parser.error("--iterations must be >= 100 and --repeats >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rtc-bench-iam-"))
    print(f"machine: {machine()}; load average {load_average()}")
    started = time.perf_counter()
    try:
        platform, account_id, users = build(work)
        print(
            f"setup: account, {POLICIES + 2} custom policies, 2 groups, 3 users on SQLite "
            f"in {time.perf_counter() - started:.1f} s (work dir {work})"
        )
        result = run(Bench(platform, account_id), users, args)
        platform.engine.dispose()
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def run(bench: Bench, users: dict[str, User], args: argparse.Namespace) -> int:
    heavy, light = users["heavy"], users["light"]
    entry = bench.entry(heavy)
    statements = sum(len(p.policy.statements) for p in entry.policy_set.policies)
    decided = bench.warm(heavy)
    print(
        f"heavy: {len(entry.policy_set.policies)} policies, {statements} statements "
        f"(10 direct + 10 per group x 2 groups); light: 1 policy, 1 statement"
    )
    print("requests (heavy's decision / light's decision):")
    for (action, resource, _), mine, theirs in zip(
        heavy.requests, decided, bench.warm(light), strict=True
    ):
        print(f"  {action:<30} {resource.split(':', 4)[4]:<36} {mine:<13} / {theirs}")
    if decided != EXPECTED:
        print(f"error: the heavy user's decisions changed: {decided} != {EXPECTED}")
        return 2
    overhead = timer_overhead_ns()
    print(f"timer: perf_counter_ns pair costs ~{overhead:.0f} ns (included in every sample)")
    n = args.iterations
    modes: dict[str, tuple[Callable[[User, int], list[int]], int]] = {
        "from cache": (bench.from_cache, n),
        "uncached": (bench.uncached, max(20, n // 5)),
        "evaluate only": (bench.evaluate_only, max(20, n // 5)),
        "cold load": (bench.cold, max(5, n // 100)),
    }
    results: dict[tuple[str, str], list[Percentiles]] = {}
    for repeat in range(1, args.repeats + 1):
        line = []
        for mode, (measure, iterations) in modes.items():
            for user in (light, heavy):
                got = Percentiles.of(measure(user, iterations))
                results.setdefault((mode, user.name), []).append(got)
            line.append(f"{mode} {results[(mode, 'heavy')][-1].p50:.1f}")
        print(f"repeat {repeat}: heavy p50 us: " + ", ".join(line), flush=True)

    print(f"\nmedians of {args.repeats} repeats, microseconds per decision (8-request mix):")
    print(f"  {'mode':<14} {'user':<6} {'p50':>8} {'p90':>8} {'p99':>8}   heavy/light p50")
    for mode in modes:
        light_p = median_of(results[(mode, "light")])
        heavy_p = median_of(results[(mode, "heavy")])
        for name, got in (("light", light_p), ("heavy", heavy_p)):
            ratio = f"   {heavy_p.p50 / light_p.p50:.2f}" if name == "heavy" else ""
            print(f"  {mode:<14} {name:<6} {got.p50:8.1f} {got.p90:8.1f} {got.p99:8.1f}{ratio}")
    print(
        "\n  from cache:    authz.decide, the decision in the identity's decision cache\n"
        "  uncached:      authz.decide with the identity's cached decisions cleared before "
        "each call\n                 (untimed): key, miss, PolicySet.evaluate, store\n"
        "  evaluate only: PolicySet.evaluate of the compiled set, nothing else\n"
        "  cold load:     authz.decide after platform.decisions.invalidate: revision, "
        "groups,\n                 attachments and documents read from SQLite, policy set "
        "built\n                 (documents' parse cached, as for unchanged policies)"
    )

    info(bench, users, max(5, n // 100), max(20, n // 5))
    cached = median_of(results[("from cache", "heavy")]).p50
    uncached = median_of(results[("uncached", "heavy")]).p50
    checks = [
        (f"from cache p50 <= {MAX_CACHED_P50_US:g} us", cached, cached <= MAX_CACHED_P50_US),
        (
            f"uncached p50 <= {MAX_UNCACHED_P50_US:g} us",
            uncached,
            uncached <= MAX_UNCACHED_P50_US,
        ),
    ]
    print("\ntargets (heavy user, 30 policies x 10 statements):")
    for name, value, ok in checks:
        print(f"  {verdict(ok)}  {name:<28} measured {value:.1f} us")
    print(f"\nload average at the end: {load_average()} (other work on the machine skews figures)")
    return 0 if all(ok for _, _, ok in checks) else 1


def info(bench: Bench, users: dict[str, User], cold_iterations: int, n: int) -> None:
    """Figures outside the targets, one run each."""
    heavy, timed = users["heavy"], users["timed"]
    parsed = Percentiles.of(bench.cold(heavy, cold_iterations, parse=True))
    context = Percentiles.of(bench.context_build(heavy, n * 8))
    per_request = [
        (request[0], Percentiles.of(bench.uncached(User("heavy", heavy.principal, [request]), n)))
        for request in heavy.requests
    ]
    timed_entry = bench.entry(timed)
    timed_cached = Percentiles.of(bench.from_cache(timed, n))
    print("\nfor information (one run each, p50 / p99 us):")
    print(
        f"  cold load with the documents parsed again (heavy):       "
        f"{parsed.p50:8.1f} / {parsed.p99:.1f}"
    )
    print(
        f"  building a request's context (authz.context_of):          "
        f"{context.p50:8.1f} / {context.p99:.1f}"
    )
    print(
        f"  'timed' user (heavy's 30 policies, one with acs:CurrentTime; decisions cached: "
        f"{timed_entry.cache_decisions}),\n"
        f"    authz.decide with the policy set in memory:             "
        f"{timed_cached.p50:8.1f} / {timed_cached.p99:.1f}"
    )
    print("  uncached, heavy, request by request:")
    for action, got in per_request:
        print(f"    {action:<54} {got.p50:8.1f} / {got.p99:.1f}")


if __name__ == "__main__":
    sys.exit(main())
