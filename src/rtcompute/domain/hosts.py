"""Hosts: the operator's machines, joined through a node agent, that nodes are placed on.

A zone is backed by this machine (`local`, the default) or by joined hosts (`hosts`). In a
hosts zone every node of a cluster claims one free host whose cores and memory fit the
node's machine type (guide: a master of 8c32g is a machine with 8 cores and 32 GB), and the
host's address is the node's address, so it must lie in the cluster's subnet. A host's
state is derived, never stored twice: lost (its agent stopped answering) over draining (the
operator's choice: no new claims) over in use (it serves a node) over ready.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rtcompute import errors
from rtcompute.domain import catalog

LOCAL = "local"
HOSTS = "hosts"
PROVIDERS = (LOCAL, HOSTS)

READY = "ready"
IN_USE = "in_use"
DRAINING = "draining"
LOST = "lost"
STATES = (READY, IN_USE, DRAINING, LOST)
STATES_ZH = {READY: "就绪", IN_USE: "使用中", DRAINING: "排空中", LOST: "失联"}

# a machine with N GB reports a little less (the kernel's own reservation): 32 GB shows as
# about 31.3 GiB of MemTotal. A host fits a type from 90 % of the type's memory on
MEMORY_TOLERANCE = 0.9
# join tokens: single use, for one hour unless the operator says otherwise
DEFAULT_TOKEN_SECONDS = 3600
MAX_TOKEN_SECONDS = 7 * 24 * 3600
TOKEN_PREFIX = "rtcjoin"
_TOKEN = re.compile(r"rtcjoin\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([0-9a-f]{16})")
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")


# the guide: 1 CU = 1 core and 4 GB
CU_MEMORY_MB = 4096
POOL_LABEL = "the shared pool"


def pool_slots(cores: int, memory_mb: int) -> int:
    """A shared-pool host's CU (its TaskManager slots): its cores, at most its memory in
    4 GB units."""
    return max(0, min(cores, memory_mb // CU_MEMORY_MB))


def engine_copy_host(host_id: int) -> str:
    """Whose engine copies these are (the `host` of engine_copies; `local` is the
    platform's machine): a joined host's, by its id, which no name can take."""
    return f"host-{host_id}"


def state(*, lost: bool, draining: bool, serving: bool) -> str:
    if lost:
        return LOST
    if draining:
        return DRAINING
    return IN_USE if serving else READY


def is_lost(last_heartbeat: datetime, now: datetime, lost_after_seconds: float) -> bool:
    """Whether an agent silent since `last_heartbeat` counts as lost at `now`."""
    return now - last_heartbeat > timedelta(seconds=lost_after_seconds)


# ---------------------------------------------------------------------------- join tokens


@dataclass(frozen=True)
class JoinToken:
    token_id: str
    secret: str
    platform_fingerprint: str

    @property
    def text(self) -> str:
        return f"{TOKEN_PREFIX}.{self.token_id}.{self.secret}.{self.platform_fingerprint}"


def new_token(platform_fingerprint: str) -> JoinToken:
    return JoinToken(secrets.token_hex(8), secrets.token_urlsafe(32), platform_fingerprint)


def parse_token(text: str) -> JoinToken | None:
    match = _TOKEN.fullmatch(text.strip())
    return JoinToken(*match.groups()) if match else None


def invalid_token() -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "the join token is not valid: it was used already, it expired, or it was never made "
        "here; ask the operator for a new one (`rtc hosts join-token create --zone Z`)",
        "加入令牌无效：它已被使用、已过期，或并非本平台签发；请向运维人员索取新的令牌"
        "（rtc hosts join-token create --zone Z）",
        code="HostJoin.InvalidToken",
    )


def check_ttl(seconds: int) -> None:
    if not 60 <= seconds <= MAX_TOKEN_SECONDS:
        raise errors.Invalid(
            f"a join token lives from 60 s to {MAX_TOKEN_SECONDS} s (7 days), not {seconds}",
            f"加入令牌的有效期须在 60 秒到 {MAX_TOKEN_SECONDS} 秒（7 天）之间，而不是 {seconds}",
            code="InvalidParameter.TokenTtl",
        )


# ---------------------------------------------------------------------------- placement


@dataclass(frozen=True)
class Candidate:
    """A ready host of the zone, as placement sees it."""

    id: int
    name: str
    address: str
    cores: int
    memory_mb: int
    pinned_type: str | None = None


def fits(host: Candidate, machine_type: catalog.MachineType) -> bool:
    if host.pinned_type is not None and host.pinned_type != machine_type.name:
        return False
    return (
        host.cores >= machine_type.cores
        and host.memory_mb >= machine_type.memory_gb * 1024 * MEMORY_TOLERANCE
    )


def in_subnet(address: str, cidr: str) -> bool:
    try:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return False


def choose(
    zone: str,
    hosts: Sequence[Candidate],
    wanted: Sequence[catalog.MachineType],
    *,
    subnet: tuple[str, str] | None = None,
) -> list[Candidate]:
    """One host per wanted node, in the order of `wanted`; QuotaExceeded (the guide's "ECS
    库存不足") or Invalid (no host in the subnet) when the zone cannot hold them all.

    The biggest types choose first, each the smallest host that fits (a host pinned to the
    type before any other), so that big hosts stay free for big nodes."""
    in_reach = [h for h in hosts if subnet is None or in_subnet(h.address, subnet[1])]
    free = list(in_reach)
    chosen: dict[int, Candidate] = {}
    order = sorted(range(len(wanted)), key=lambda i: (-wanted[i].cores, -wanted[i].memory_gb, i))
    for i in order:
        machine_type = wanted[i]
        fitting = [h for h in free if fits(h, machine_type)]
        if not fitting:
            raise _short(zone, hosts, in_reach, wanted, machine_type, subnet)
        best = min(
            fitting,
            key=lambda h: (h.pinned_type is None, h.cores, h.memory_mb, h.name),
        )
        chosen[i] = best
        free.remove(best)
    return [chosen[i] for i in range(len(wanted))]


def _short(
    zone: str,
    hosts: Sequence[Candidate],
    in_reach: Sequence[Candidate],
    wanted: Sequence[catalog.MachineType],
    machine_type: catalog.MachineType,
    subnet: tuple[str, str] | None,
) -> errors.RtcError:
    needed = sum(1 for w in wanted if w.name == machine_type.name)
    fit_anywhere = sum(1 for h in hosts if fits(h, machine_type))
    fit_in_reach = sum(1 for h in in_reach if fits(h, machine_type))
    if subnet is not None and fit_in_reach < fit_anywhere:
        name, cidr = subnet
        return errors.Invalid(
            f"zone {zone} has {fit_anywhere} free hosts for {machine_type.name} but only "
            f"{fit_in_reach} lie in subnet {name} ({cidr}) and {needed} are needed: a node's "
            "address is its host's, so choose the subnet that holds the hosts' addresses",
            f"可用区 {zone} 有 {fit_anywhere} 台空闲主机可用于 {machine_type.name}，但只有 "
            f"{fit_in_reach} 台的地址在交换机 {name}（{cidr}）中，而需要 {needed} 台：节点的"
            "地址就是其主机的地址，请选择包含这些主机地址的交换机",
            code="InvalidParameter.Subnet",
        )
    return errors.QuotaExceeded(
        f"ECS stock is short in zone {zone}: {fit_in_reach} free hosts fit {machine_type.name} "
        f"({machine_type.cores} cores, {machine_type.memory_gb} GB) and {needed} are needed; "
        "pick another zone or ask the operator to join more hosts",
        f"所选可用区 {zone} 内，ECS 库存不足：适合 {machine_type.name}（{machine_type.cores} 核 "
        f"{machine_type.memory_gb} GB）的空闲主机有 {fit_in_reach} 台，需要 {needed} 台；请选择"
        "其他可用区，或请运维人员加入更多主机",
        code="ZoneCapacityExceeded",
    )


def remaining(hosts: Sequence[Candidate], types: Sequence[catalog.MachineType]) -> dict[str, int]:
    """How many free hosts fit each type (a zone's `remaining` in a hosts zone)."""
    return {t.name: sum(1 for h in hosts if fits(h, t)) for t in types}
