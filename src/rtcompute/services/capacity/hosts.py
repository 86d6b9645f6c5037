"""Hosts join a zone with a token, report through signed heartbeats, and are drained,
removed or found lost (domain/hosts.py; docs/hosts.md).

The join proves three things at once: the agent holds a token the operator made (single
use, unexpired, its secret compared against the stored SHA-256), it reads the probe object
the token wrote under the storage root (so it mounts the platform's storage at the same
path), and it owns the key pair whose public half it sends (every later call is signed with
it). The platform's own key signs what it sends to agents; its fingerprint travels in the
token, so an agent never trusts a platform it was not sent to.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import job_placement, signatures
from rtcompute.services.capacity import cluster_nodes, machine_types, zones
from rtcompute.services.kernel import alerts
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import engines as engine_store
from rtcompute.store import hosts as host_store
from rtcompute.store import jobs as job_store
from rtcompute.store import zones as zone_store
from rtcompute.store.tables import capacity as capacity_tables

log = logging.getLogger("rtcompute.hosts")

Host = capacity_tables.Host
MAX_REPORT_BYTES = 12 * 1024


# ---------------------------------------------------------------------------- keys and paths


_KEYS: dict[Path, signatures.KeyPair] = {}


def platform_keys(platform: platform_module.Platform) -> signatures.KeyPair:
    """The platform's signing key, made on first use (0600: the operator's secret); read
    once per process, not on every answer to an agent."""
    path = platform.settings.platform_key_file
    found = _KEYS.get(path)
    if found is None:
        found = _KEYS[path] = _load_or_make(path)
    return found


def _load_or_make(path: Path) -> signatures.KeyPair:
    try:
        return signatures.KeyPair.from_bytes(path.read_bytes())
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise errors.Unavailable(
            f"the platform's host key {path} is damaged; restore it from a backup "
            "(every joined agent trusts it)",
            f"平台的主机密钥 {path} 已损坏；请从备份恢复（所有已加入的代理都信任它）",
        ) from exc
    keys = signatures.KeyPair.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(keys.private_bytes())
    try:
        os.link(temporary, path)  # the first writer wins; a racing one reads the winner's
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return signatures.KeyPair.from_bytes(path.read_bytes())


def storage_root(platform: platform_module.Platform) -> Path:
    """What every host mounts at the same path: buckets, job runs, checkpoints, savepoints."""
    return platform.settings.data_dir


def probe_path(platform: platform_module.Platform, token_id: str) -> Path:
    return storage_root(platform) / "hosts" / "probes" / token_id


# ---------------------------------------------------------------------------- views


@dataclass(frozen=True)
class HostView:
    name: str
    zone: str
    state: str
    address: str
    agent_port: int
    cores: int
    memory_mb: int
    detected_cores: int
    detected_memory_mb: int
    disk_mb: int
    pinned_type: str | None
    cluster: str | None
    node: str | None
    agent_version: str
    joined_at: datetime
    last_heartbeat_at: datetime
    lost_since: datetime | None
    report: dict[str, Any]


def _report(host: Host) -> dict[str, Any]:
    try:
        found = json.loads(host.report)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def pool_zone_id(session: db.Session, platform: platform_module.Platform) -> int | None:
    """The hosts zone that serves the shared pool (`RTC_JOBS__POOL_ZONE`), if any."""
    name = platform.settings.jobs.pool_zone
    if not name:
        return None
    zone = zone_store.read_zone(session=session, region=platform.settings.region, name=name)
    return zone.id if zone is not None and zone.provider == host_rules.HOSTS else None


def pool_hosts(session: db.Session, platform: platform_module.Platform) -> list[Host]:
    """The shared pool's hosts new work may go to (not draining, not lost)."""
    zone_id = pool_zone_id(session, platform)
    return [] if zone_id is None else host_store.usable_hosts(session=session, zone_id=zone_id)


def _view(
    session: db.Session, host: Host, zone_names: Mapping[int, str], pool_zone: str = ""
) -> HostView:
    cluster = node = None
    pooled = bool(pool_zone) and zone_names.get(host.zone_id) == pool_zone
    if pooled:
        cluster = host_rules.POOL_LABEL
    if host.node_id is not None:
        found = session.get(capacity_tables.ClusterNode, host.node_id)
        if found is not None:
            node = found.name
            owner = session.get(capacity_tables.Cluster, found.cluster_id)
            cluster = owner.name if owner is not None else None
    return HostView(
        name=host.name,
        zone=zone_names.get(host.zone_id, ""),
        state=host_rules.state(
            lost=host.lost_since is not None,
            draining=host.draining,
            serving=host.node_id is not None or pooled,
        ),
        address=host.address,
        agent_port=host.agent_port,
        cores=host.cores,
        memory_mb=host.memory_mb,
        detected_cores=host.detected_cores,
        detected_memory_mb=host.detected_memory_mb,
        disk_mb=host.disk_mb,
        pinned_type=host.pinned_type,
        cluster=cluster,
        node=node,
        agent_version=host.agent_version,
        joined_at=host.joined_at,
        last_heartbeat_at=host.last_heartbeat_at,
        lost_since=host.lost_since,
        report=_report(host),
    )


def _view_one(session: db.Session, host: Host, pool_zone: str) -> HostView:
    zone = session.get(capacity_tables.Zone, host.zone_id)
    return _view(session, host, {host.zone_id: zone.name if zone else ""}, pool_zone)


def _zone_names(session: db.Session, region: str) -> dict[int, str]:
    return {z.id: z.name for z in zone_store.list_zones(session=session, region=region)}


def list_hosts(
    platform: platform_module.Platform, *, zone: str | None = None, region: str | None = None
) -> list[HostView]:
    region = region or platform.settings.region
    with db.transaction(platform.sessions) as session:
        names = _zone_names(session, region)
        ids = list(names) if zone is None else [zones.read_zone(session, region, zone).id]
        found = host_store.list_hosts(session=session, zone_ids=ids)
        pool_zone = platform.settings.jobs.pool_zone
        return [_view(session, host, names, pool_zone) for host in found]


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"host {name[:64]!r} has not joined; `rtc hosts list` shows the joined hosts",
        f"主机 {name[:64]!r} 尚未加入；rtc hosts list 列出已加入的主机",
        code="HostNotFound",
    )


def _read(session: db.Session, name: str, *, lock: bool = False) -> Host:
    found = (
        host_store.read_host_by_name(session=session, name=name)
        if host_rules.HOST_NAME.fullmatch(name)
        else None
    )
    if found is None:
        raise not_found(name)
    if lock:
        host_store.read_host(session=session, host_id=found.id, lock=True)
    return found


def read_host(platform: platform_module.Platform, name: str) -> HostView:
    with db.transaction(platform.sessions) as session:
        return _view_one(session, _read(session, name), platform.settings.jobs.pool_zone)


# ---------------------------------------------------------------------------- join tokens


@dataclass(frozen=True)
class CreatedToken:
    token: str  # shown once
    token_id: str
    zone: str
    expires_at: datetime
    probe: str  # where the agent must find the probe object


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_join_token(
    platform: platform_module.Platform,
    zone: str,
    *,
    ttl_seconds: int = host_rules.DEFAULT_TOKEN_SECONDS,
    created_by: str = "",
    region: str | None = None,
) -> CreatedToken:
    """A single-use token for one host to join `zone`; its secret is shown only here."""
    host_rules.check_ttl(ttl_seconds)
    region = region or platform.settings.region
    keys = platform_keys(platform)
    token = host_rules.new_token(signatures.fingerprint(keys.public))
    probe = secrets.token_urlsafe(32)
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        found = zones.read_zone(session, region, zone)
        if found.provider != host_rules.HOSTS:
            raise errors.Conflict(
                f"zone {zone} is backed by this machine (provider local); hosts join a zone "
                "of joined hosts: create one with `rtc zones create NAME --provider hosts`",
                f"可用区 {zone} 由本机承载（local）；主机只能加入由主机承载的可用区：请用 "
                "rtc zones create NAME --provider hosts 创建一个",
                code="ZoneNotHosts",
            )
        path = probe_path(platform, token.token_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(probe)
        host_store.create_token(
            session=session,
            token=capacity_tables.HostJoinToken(
                id=token.token_id,
                zone_id=found.id,
                secret_hash=_digest(token.secret),
                probe_hash=_digest(probe),
                created_by=created_by[:200],
                created_at=now,
                expires_at=now + timedelta(seconds=ttl_seconds),
            ),
        )
    return CreatedToken(
        token.text, token.token_id, zone, now + timedelta(seconds=ttl_seconds), str(path)
    )


# ---------------------------------------------------------------------------- join


def probe_of(platform: platform_module.Platform, token_id: str) -> str:
    """The probe object of a live token (an unknown, used or expired one: invalid)."""
    with db.transaction(platform.sessions) as session:
        token = (
            host_store.read_token(session=session, token_id=token_id)
            if len(token_id) == 16 and all(c in "0123456789abcdef" for c in token_id)
            else None
        )
        if token is None or token.used_at is not None or token.expires_at <= platform.now():
            raise host_rules.invalid_token()
    return str(probe_path(platform, token_id))


@dataclass(frozen=True)
class JoinRequest:
    token: str
    name: str
    address: str
    agent_port: int
    public_key: str
    detected_cores: int
    detected_memory_mb: int
    disk_mb: int
    cores: int | None = None  # the operator's declaration (else what was detected)
    memory_mb: int | None = None
    pinned_type: str | None = None
    probe: str = ""
    agent_version: str = ""


@dataclass(frozen=True)
class Joined:
    host_id: int
    name: str
    zone: str
    platform_public_key: str
    heartbeat_seconds: float


def _check_join(request: JoinRequest) -> None:
    if not host_rules.HOST_NAME.fullmatch(request.name):
        raise errors.Invalid(
            f"{request.name[:80]!r} is not a host name: letters, digits, dots and hyphens, "
            "at most 63",
            f"{request.name[:80]!r} 不是有效的主机名：只能包含字母、数字、点和连字符，最多 63 个",
            code="InvalidParameter.HostName",
        )
    try:
        address = ipaddress.IPv4Address(request.address)
    except ValueError:
        address = None
    if address is None or address.is_unspecified or address.is_multicast:
        raise errors.Invalid(
            f"{request.address[:64]!r} is not an IPv4 address the platform can reach the "
            "agent at; start the agent with --address",
            f"{request.address[:64]!r} 不是平台可访问代理的 IPv4 地址；请用 --address 启动代理",
            code="InvalidParameter.Address",
        )
    if not 1 <= request.agent_port <= 65535:
        raise errors.Invalid(
            f"port {request.agent_port} is out of range",
            f"端口 {request.agent_port} 超出范围",
            code="InvalidParameter.Port",
        )
    if request.pinned_type is not None and not catalog_domain.TYPE_NAME.fullmatch(
        request.pinned_type
    ):
        raise errors.Invalid(
            f"{request.pinned_type!r} is not a machine type such as 8c32g (--pin)",
            f"{request.pinned_type!r} 不是 8c32g 这样的机型（--pin）",
            code="InvalidParameter.PinnedType",
        )
    try:
        signatures.public_key(request.public_key)
    except ValueError:
        raise errors.Invalid(
            "the agent's public key is not a base64 Ed25519 key",
            "代理的公钥不是 base64 编码的 Ed25519 公钥",
            code="InvalidParameter.PublicKey",
        ) from None


def join(platform: platform_module.Platform, request: JoinRequest) -> Joined:
    """Register a host with a valid, unused token; refuse one that cannot see the storage."""
    _check_join(request)
    parsed = host_rules.parse_token(request.token)
    if parsed is None:
        raise host_rules.invalid_token()
    keys = platform_keys(platform)
    now = platform.now()
    taken = errors.Conflict(
        f"a host named {request.name} or at {request.address} has joined already: remove it "
        "first (`rtc hosts remove NAME`) or start this agent with another --name",
        f"名为 {request.name} 或地址为 {request.address} 的主机已加入：请先移除它（rtc hosts "
        "remove NAME），或用另一个 --name 启动本代理",
        code="HostAlreadyJoined",
    )
    try:
        with db.transaction(platform.sessions) as session:
            token = host_store.read_token(session=session, token_id=parsed.token_id)
            if (
                token is None
                or token.used_at is not None
                or token.expires_at <= now
                or not hmac.compare_digest(token.secret_hash, _digest(parsed.secret))
                or parsed.platform_fingerprint != signatures.fingerprint(keys.public)
            ):
                raise host_rules.invalid_token()
            if not hmac.compare_digest(token.probe_hash, _digest(request.probe)):
                path = probe_path(platform, token.id)
                raise errors.Invalid(
                    f"this host does not see the platform's storage: it must read {path}. "
                    f"Mount the platform's storage root {storage_root(platform)} at the same "
                    "path on this host (NFS or similar, docs/hosts.md), then start the agent "
                    "again with the same token",
                    f"本主机看不到平台的存储：它必须能读取 {path}。请在本主机上把平台的存储根目录 "
                    f"{storage_root(platform)} 挂载到相同路径（NFS 等，见 docs/hosts.md），然后用"
                    "同一个令牌重新启动代理",
                    code="HostJoin.StorageNotMounted",
                )
            if (
                host_store.read_host_by_name(session=session, name=request.name) is not None
                or session.query(Host).filter(Host.address == request.address).first() is not None
            ):
                raise taken
            zone = session.get(capacity_tables.Zone, token.zone_id)
            host = host_store.create_host(
                session=session,
                host=Host(
                    zone_id=token.zone_id,
                    name=request.name,
                    address=request.address,
                    agent_port=request.agent_port,
                    public_key=request.public_key,
                    cores=request.cores or request.detected_cores,
                    memory_mb=request.memory_mb or request.detected_memory_mb,
                    detected_cores=request.detected_cores,
                    detected_memory_mb=request.detected_memory_mb,
                    disk_mb=request.disk_mb,
                    pinned_type=request.pinned_type,
                    draining=False,
                    agent_version=request.agent_version[:32],
                    report="{}",
                    joined_at=now,
                    last_heartbeat_at=now,
                ),
            )
            if not host_store.use_token(
                session=session, token_id=token.id, used_at=now, host_id=host.id
            ):
                raise host_rules.invalid_token()  # another agent joined with it meanwhile
            joined = Joined(
                host.id,
                host.name,
                zone.name if zone else "",
                keys.public,
                platform.settings.hosts.heartbeat_seconds,
            )
    except IntegrityError as exc:
        raise taken from exc
    probe_path(platform, parsed.token_id).unlink(missing_ok=True)
    log.info("host %s (%s) joined zone %s", joined.name, request.address, joined.zone)
    return joined


# ---------------------------------------------------------------------------- agents' calls


def unknown_host() -> errors.Unauthenticated:
    return errors.Unauthenticated(
        "this host is not joined (it was removed, or never joined here): join it again with "
        "a new token",
        "本主机未加入（已被移除，或从未在此加入）：请用新的令牌重新加入",
        code="Agent.UnknownHost",
    )


def link_at(platform: platform_module.Platform, address: str) -> cluster_nodes.HostLink | None:
    """How to reach the agent of the host at `address` (None: no joined host is there)."""
    with db.transaction(platform.sessions) as session:
        found = session.query(Host).filter(Host.address == address).first()
        if found is None:
            return None
        return cluster_nodes.HostLink(
            found.name,
            found.address,
            found.agent_port,
            found.public_key,
            found.lost_since is not None,
        )


def public_key_of(platform: platform_module.Platform, host_id: int) -> str:
    with db.transaction(platform.sessions) as session:
        host = host_store.read_host(session=session, host_id=host_id)
        if host is None:
            raise unknown_host()
        return host.public_key


@dataclass(frozen=True)
class Beat:
    state: str
    draining: bool
    cluster_id: int | None
    node: str | None
    # the Flink processes that should run on the host (their conf folders): the agent stops
    # any other, so a host that comes back never runs a second copy of a job's process
    flink: tuple[str, ...] = ()
    # the engine versions the host must have (its cluster's) and where to install them from
    engines: dict[str, Any] = field(default_factory=dict)


def expected_flink(session: db.Session, address: str) -> tuple[str, ...]:
    return tuple(
        job_placement.conf_dir(run.directory, p.name)
        for run in job_store.live_runs(session=session)
        for p in run.placement
        if p.host == address
    )


def engines_of(
    platform: platform_module.Platform, session: db.Session, target: str | None
) -> dict[str, Any]:
    """The versions a host must have (those its target, a cluster or the shared pool,
    installs or holds), those it may keep (held anywhere on the platform: a free host keeps
    them for the next cluster that claims it) and the platform's install source (its
    wheelhouse, seen at the same path on every host, or its package index)."""
    held = engine_store.list_deployments(session=session, states=engine_rules.HELD)
    requests = {
        d.version: engine_rules.install_request(d.id, d.created_at)
        for d in held
        if d.target == target
    }
    wheelhouse = platform.settings.engine_wheelhouse
    source = {
        "wheelhouse": str(wheelhouse) if wheelhouse else None,
        "index_url": platform.settings.engines.index_url,
    }
    keep = sorted({d.version for d in held})
    return {
        "versions": sorted(requests),
        "requests": requests,
        "keep": keep,
        "source": source,
        "unused_seconds": platform.settings.hosts.unused_engine_seconds,
    }


def engine_target(
    session: db.Session, platform: platform_module.Platform, host: Host
) -> str | None:
    """The engine target a host serves: its node's cluster, the shared pool, or none."""
    node = (
        session.get(capacity_tables.ClusterNode, host.node_id) if host.node_id is not None else None
    )
    if node is not None:
        return engine_rules.cluster_target(node.cluster_id)
    if host.zone_id == pool_zone_id(session, platform):
        return engine_rules.POOL
    return None


def heartbeat(platform: platform_module.Platform, host_id: int, report: dict[str, Any]) -> Beat:
    """Record that the agent is alive and what runs on its host; a lost host is back."""
    text = json.dumps(report, sort_keys=True)
    if len(text) > MAX_REPORT_BYTES:
        text = json.dumps({"truncated": True})
    now = platform.now()
    with db.transaction(platform.sessions) as session:
        host = host_store.read_host(session=session, host_id=host_id)
        if host is None:
            raise unknown_host()
        if host.lost_since is not None:
            log.warning("host %s answers again (lost since %s)", host.name, host.lost_since)
            host.lost_since = None
        host.last_heartbeat_at = now
        host.report = text
        node = (
            session.get(capacity_tables.ClusterNode, host.node_id)
            if host.node_id is not None
            else None
        )
        target = engine_target(session, platform, host)  # its cluster, the pool, or none
        return Beat(
            host_rules.state(lost=False, draining=host.draining, serving=target is not None),
            host.draining,
            node.cluster_id if node else None,
            node.name if node else None,
            expected_flink(session, host.address),
            engines_of(platform, session, target),
        )


# ---------------------------------------------------------------------------- the operator


def set_draining(platform: platform_module.Platform, name: str, draining: bool) -> HostView:
    """Drain (no new node claims it; what runs there stays) or put back in service."""
    with db.transaction(platform.sessions) as session:
        host = _read(session, name, lock=True)
        host.draining = draining
        return _view_one(session, host, platform.settings.jobs.pool_zone)


def remove_host(platform: platform_module.Platform, name: str) -> None:
    """Forget a host: its agent's key stops working at once. Refused while it serves a node."""
    with db.transaction(platform.sessions) as session:
        host = _read(session, name, lock=True)
        if host.node_id is not None:
            view = _view(session, host, {})
            raise errors.Conflict(
                f"host {name} serves node {view.node} of cluster {view.cluster}: drain it, then "
                "release or scale in that cluster before removing the host",
                f"主机 {name} 正在承载集群 {view.cluster} 的节点 {view.node}：请先排空它，再释放"
                "或缩容该集群，然后移除主机",
                code="HostInUse",
            )
        if expected_flink(session, host.address):
            raise errors.Conflict(
                f"host {name} runs jobs' processes (the shared pool): drain it, then wait "
                "until those jobs stop (or stop them) before removing the host",
                f"主机 {name} 正在运行作业进程（共享资源池）：请先排空它，"
                "待这些作业停止后再移除主机",
                code="HostInUse",
            )
        host_store.delete_host(session=session, host_id=host.id)
    log.info("host %s removed", name)


# ---------------------------------------------------------------------------- placement


def claim_for_nodes(
    session: db.Session, nodes: list[capacity_tables.ClusterNode], hosts: list[int]
) -> None:
    """Give each new node its host (a hosts zone); the zone's row lock is held, so a host
    another placement took can only mean a bug: a Conflict, never two nodes on one host."""
    for node, host_id in zip(nodes, hosts, strict=False):
        if not host_store.claim(session=session, host_id=host_id, node_id=node.id):
            raise errors.Conflict(
                "a host chosen for this cluster was taken meanwhile: try again",
                "为该集群选中的主机刚被占用：请重试",
                code="HostTaken",
            )


def choose_for(
    session: db.Session,
    platform: platform_module.Platform,
    zone: capacity_tables.Zone,
    subnet: capacity_tables.Subnet,
    region: str,
    wanted: list[tuple[str, str]],
) -> list[host_rules.Candidate]:
    """In a hosts zone: one free host per wanted (role, type), inside the subnet; never in
    the zone of the shared pool."""
    if zone.id == pool_zone_id(session, platform):
        raise errors.Conflict(
            f"zone {zone.name} holds the shared pool's hosts: choose another zone for the cluster",
            f"可用区 {zone.name} 的主机用于共享资源池：请为集群选择其他可用区",
            code="ZoneServesPool",
        )
    catalog_ = machine_types.load(session, platform, region)
    types = []
    for role, name in wanted:
        found = catalog_.find(role, name)
        if found is None:
            raise errors.Conflict(
                f"machine type {name} is no longer sold",
                f"机型 {name} 已停售",
                code="PlacementGone",
            )
        types.append(found)
    return host_rules.choose(
        zone.name, zones.candidates(session, zone.id), types, subnet=(subnet.name, subnet.cidr)
    )


# ---------------------------------------------------------------------------- loss


def mark_lost(platform: platform_module.Platform) -> list[str]:
    """Hosts silent for longer than `hosts.lost_after_seconds` become lost; an alert goes
    out for each. Returns their names."""
    now = platform.now()
    limit = platform.settings.hosts.lost_after_seconds
    newly: list[tuple[str, str, datetime]] = []
    with db.transaction(platform.sessions) as session:
        for host in host_store.list_hosts(session=session):
            if host.lost_since is None and host_rules.is_lost(host.last_heartbeat_at, now, limit):
                host.lost_since = now
                view = _view(session, host, {})
                where = f" (node {view.node} of cluster {view.cluster})" if view.node else ""
                newly.append((host.name, where, host.last_heartbeat_at))
    for name, where, last in newly:
        alerts.send(
            platform,
            account_id=None,
            kind="host_lost",
            subject=f"host {name} is lost",
            body=(
                f"The agent of host {name}{where} has not reported since {last:%Y-%m-%d %H:%M:%S}"
                f" UTC (more than {limit:g} s). Check the machine and its network; when its "
                "agent answers again the host is reconciled."
            ),
        )
    return [name for name, _, _ in newly]
