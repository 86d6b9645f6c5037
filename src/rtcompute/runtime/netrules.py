"""Who may talk to a job's ports, and where a job may connect on this host: nftables rules.

A job's JobManagers and TaskManagers listen on the node's address (REST, RPC, blob, data,
metrics query service: every port in the run's block). Flink's REST API has no
authentication, so the network decides: only the platform (the user of `rtc up`) and the
job's own account user may connect to a run's block. The other way round, an account's
processes may reach on the host's loopback only their own runs' blocks and their cluster's
ZooKeeper: not the platform's database, not another tenant's ZooKeeper, not anything else a
local service offers without a password. Rules match the connecting socket's owner (`meta
skuid`), which the kernel knows for every local connection.

One table `inet rtcompute`, an `output` base chain that accepts the packets of established
connections (replies), then jumps to `runs` (per run: the
block's guard, the account's accepts; each rule's comment is `run <run_key>`) and then to
`tenants` (per account user: reject the rest of loopback; comment `uid <uid>`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

TABLE = "rtcompute"
_lock = threading.Lock()


class RuleError(RuntimeError):
    """nft refused a rule (the message quotes it)."""


def available() -> bool:
    return shutil.which("nft") is not None


def _nft(*args: str, json_output: bool = False) -> str:
    argv = ["nft", *(["-j"] if json_output else []), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuleError(f"nft {' '.join(args)}: {done.stderr.strip()[:500]}")
    return done.stdout


def _script(lines: Sequence[str]) -> None:
    """Apply rules atomically (one `nft -f -` transaction)."""
    done = subprocess.run(
        ["nft", "-f", "-"], input="\n".join(lines) + "\n", capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuleError(f"nft: {done.stderr.strip()[:500]}")


def ensure_table() -> None:
    _script(
        [
            f"table inet {TABLE} {{",
            "  chain runs { }",
            "  chain tenants { }",
            "  chain output { type filter hook output priority 0; policy accept; }",
            "}",
        ]
    )
    rules = _rules("output")
    if not rules:
        _script(
            [
                # replies of accepted connections (a JobManager answering the platform)
                f"add rule inet {TABLE} output ct state established,related accept",
                f"add rule inet {TABLE} output jump runs",
                f"add rule inet {TABLE} output jump tenants",
            ]
        )


def _rules(chain: str) -> list[dict[str, Any]]:
    with contextlib.suppress(RuleError):
        found = json.loads(_nft("list", "chain", "inet", TABLE, chain, json_output=True))
        return [item["rule"] for item in found.get("nftables", []) if "rule" in item]
    return []


def guard_run(
    run_key: str,
    ports: tuple[int, int],
    uid: int,
    zookeeper: Sequence[int],
    *,
    closed: Sequence[tuple[int, int]] = (),
) -> None:
    """The rules of one run: its block open to the platform and the account only (the
    engine workers submit through the platform's relay); the account's own connections to
    its block and its ZooKeeper accepted; the rest of loopback closed to the account, and
    the `closed` port ranges on every address (another host's runs and ZooKeeper members:
    on joined hosts a run's ports listen on the host's address, where the rules of the
    host it runs on cannot tell one remote tenant from another). Replaces any rule of
    another run on the same ports."""
    low, high = ports
    comment = f"run {run_key}"
    platform_uid = os.geteuid()
    with _lock:
        ensure_table()
        stale = []
        for rule in _rules("runs"):
            other = str(rule.get("comment", ""))
            if other == f"{comment} {low}-{high}":
                return  # in place already
            span = other.rsplit(" ", 1)[-1] if other.startswith("run ") else ""
            if "-" in span and _overlaps(span, low, high):
                stale.append(rule["handle"])
        lines = [f"delete rule inet {TABLE} runs handle {handle}" for handle in stale]
        tag = f'comment "{comment} {low}-{high}"'
        allowed = ", ".join(str(u) for u in sorted({platform_uid, uid}))
        lines.append(
            f"add rule inet {TABLE} runs tcp dport {low}-{high} meta skuid != {{ {allowed} }} "
            f"reject with tcp reset {tag}"
        )
        lines.append(
            f"add rule inet {TABLE} runs meta skuid {uid} tcp dport {low}-{high} accept {tag}"
        )
        if zookeeper:
            zk = ", ".join(str(p) for p in sorted(set(zookeeper)))
            lines.append(
                f"add rule inet {TABLE} runs meta skuid {uid} tcp dport {{ {zk} }} accept {tag}"
            )
        present = {str(r.get("comment", "")) for r in _rules("tenants")}
        if f"uid {uid}" not in present:
            for family in ("ip daddr 127.0.0.0/8", "ip6 daddr ::1"):
                rejected = f"meta skuid {uid} {family} reject"
                lines.append(f'add rule inet {TABLE} tenants {rejected} comment "uid {uid}"')
        for low_port, high_port in closed:
            mark = f"uid {uid} ports {low_port}-{high_port}"
            if mark not in present:
                spec = f"meta skuid {uid} tcp dport {low_port}-{high_port} reject with tcp reset"
                lines.append(f'add rule inet {TABLE} tenants {spec} comment "{mark}"')
        _script(lines)


def _overlaps(span: str, low: int, high: int) -> bool:
    try:
        first, last = (int(part) for part in span.split("-", 1))
    except ValueError:
        return False
    return first <= high and low <= last


def release_run(run_key: str) -> None:
    """Remove the run's rules (its processes are gone)."""
    with _lock, contextlib.suppress(RuleError):
        handles = [
            r["handle"]
            for r in _rules("runs")
            if str(r.get("comment", "")).startswith(f"run {run_key} ")
        ]
        if handles:
            _script([f"delete rule inet {TABLE} runs handle {h}" for h in handles])
