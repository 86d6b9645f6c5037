"""Zones: the operator registers them with host capacity; placements draw on it.

Capacity is how many nodes of each machine type a zone can hold; use is counted from the
cluster nodes placed in it, so `remaining` is always capacity minus what exists. The
cluster service calls `require_capacity` inside its own transaction, after which it
inserts the nodes: on PostgreSQL the zone row stays locked until that transaction ends,
so two clusters cannot both take the last free node of a type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rtcompute import errors
from rtcompute.domain import hosts as host_rules
from rtcompute.domain import names, text
from rtcompute.domain import networks as network_domain
from rtcompute.services.capacity import machine_types
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import hosts as host_store
from rtcompute.store import zones as zone_store
from rtcompute.store.tables import capacity as capacity_tables


@dataclass(frozen=True)
class ZoneView:
    name: str
    region: str
    capacity: dict[str, int]
    used: dict[str, int]
    remaining: dict[str, int]
    created_at: datetime
    provider: str = host_rules.LOCAL


def capacity_of(zone: capacity_tables.Zone) -> dict[str, int]:
    try:
        stored = json.loads(zone.capacity)
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if isinstance(k, str) and isinstance(v, int)}


def _remaining(capacity: Mapping[str, int], used: Mapping[str, int]) -> dict[str, int]:
    return {name: max(0, capacity.get(name, 0) - used.get(name, 0)) for name in {*capacity, *used}}


def remaining(session: db.Session, zone: capacity_tables.Zone) -> dict[str, int]:
    """Nodes of each machine type a zone of this machine can still place."""
    return _remaining(capacity_of(zone), zone_store.used_by_type(session=session, zone_id=zone.id))


def candidates(session: db.Session, zone_id: int) -> list[host_rules.Candidate]:
    """The hosts of a hosts zone a new node may claim."""
    return [
        host_rules.Candidate(h.id, h.name, h.address, h.cores, h.memory_mb, h.pinned_type)
        for h in host_store.free_hosts(session=session, zone_id=zone_id)
    ]


def _host_room(
    session: db.Session, platform: platform_module.Platform, zone: capacity_tables.Zone
) -> tuple[dict[str, int], dict[str, int]]:
    """A hosts zone's capacity (hosts in service that fit each type, in use or not) and
    what remains (free hosts that fit each type)."""
    types = machine_types.load(session, platform, zone.region).machine_types
    in_service = [
        host_rules.Candidate(h.id, h.name, h.address, h.cores, h.memory_mb, h.pinned_type)
        for h in host_store.list_hosts(session=session, zone_ids=[zone.id])
        if not h.draining and h.lost_since is None
    ]
    unique = list({t.name: t for t in types}.values())  # a name is sold as master and slave
    return host_rules.remaining(in_service, unique), host_rules.remaining(
        candidates(session, zone.id), unique
    )


def require_capacity(
    session: db.Session, zone: capacity_tables.Zone, needed: Mapping[str, int]
) -> None:
    """Refuse a placement the zone has no room for (the guide's "no zone to choose"); a
    hosts zone is checked host by host where its nodes are placed (`host_rules.choose`)."""
    zone_store.lock_zone(session=session, zone_id=zone.id)
    if zone.provider == host_rules.HOSTS:
        return
    refused = network_domain.zone_refusal(zone.name, needed, remaining(session, zone))
    if refused is not None:
        raise refused


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"zone {name[:64]!r} does not exist; choose one of the region's zones (the operator "
        "registers them)",
        f"可用区 {name[:64]!r} 不存在，请从本地域的可用区中选择（可用区由运维人员登记）",
        code="ZoneNotFound",
    )


def read_zone(
    session: db.Session, region: str, name: str, *, lock: bool = False
) -> capacity_tables.Zone:
    """The zone of that name in the region, or NotFound."""
    found = (
        zone_store.read_zone(session=session, region=region, name=name, lock=lock)
        if names.ZONE.fits(name) and names.REGION.fits(region)
        else None
    )
    if found is None:
        raise not_found(name)
    return found


def _view(
    session: db.Session,
    platform: platform_module.Platform,
    zone: capacity_tables.Zone,
    used: Mapping[str, int],
) -> ZoneView:
    if zone.provider == host_rules.HOSTS:
        capacity, room = _host_room(session, platform, zone)
    else:
        capacity = capacity_of(zone)
        room = _remaining(capacity, used)
    return ZoneView(
        zone.name, zone.region, capacity, dict(used), room, zone.created_at, zone.provider
    )


def check_provider(provider: str) -> None:
    if provider not in host_rules.PROVIDERS:
        raise errors.Invalid(
            f"a zone's provider is local (this machine) or hosts (joined hosts), not "
            f"{provider[:32]!r}",
            "可用区的承载方式只能是 local（本机）或 hosts（已加入的主机），"
            f"而不是 {provider[:32]!r}",
            code="InvalidParameter.Provider",
        )


def _capacity(
    session: db.Session, platform: platform_module.Platform, region: str, raw: Mapping[str, object]
) -> dict[str, int]:
    known = {t.name for t in machine_types.load(session, platform, region).machine_types}
    return network_domain.parse_capacity(raw, known)


def create_zone(
    platform: platform_module.Platform,
    name: str,
    capacity: Mapping[str, object],
    *,
    region: str | None = None,
    provider: str = host_rules.LOCAL,
) -> ZoneView:
    """Register a zone: `local` with its capacity, or `hosts` (its capacity is its hosts)."""
    names.ZONE.check(name)
    check_provider(provider)
    taken = errors.Conflict(
        f"a zone named {name} already exists in this region; update its capacity instead",
        f"本地域已有名为 {name} 的可用区，请改为更新它的容量",
        code="ZoneAlreadyExists",
    )
    try:
        with db.transaction(platform.sessions) as session:
            region = machine_types.region_info(
                session, platform, region or platform.settings.region
            ).name
            parsed = _capacity(session, platform, region, capacity)
            if zone_store.read_zone(session=session, region=region, name=name) is not None:
                raise taken
            zone = zone_store.create_zone(
                session=session,
                zone=capacity_tables.Zone(
                    region=region,
                    name=name,
                    capacity=json.dumps(parsed, sort_keys=True),
                    created_at=platform.now(),
                    provider=provider,
                ),
            )
            return _view(session, platform, zone, {})
    except IntegrityError as exc:
        raise taken from exc


def update_zone(
    platform: platform_module.Platform,
    name: str,
    capacity: Mapping[str, object],
    *,
    region: str | None = None,
) -> ZoneView:
    """Replace the zone's capacity; never below the nodes already placed in it."""
    region = region or platform.settings.region
    with db.transaction(platform.sessions) as session:
        zone = read_zone(session, region, name, lock=True)
        if zone.provider == host_rules.HOSTS:
            raise errors.Conflict(
                f"zone {name} is backed by joined hosts: its capacity is its hosts; join, "
                "drain or remove hosts instead (`rtc hosts`)",
                f"可用区 {name} 由已加入的主机承载：其容量就是这些主机；请改为加入、排空或移除"
                "主机（rtc hosts）",
                code="ZoneCapacityFromHosts",
            )
        parsed = _capacity(session, platform, region, capacity)
        used = zone_store.used_by_type(session=session, zone_id=zone.id)
        for machine_type, count in sorted(used.items()):
            if parsed.get(machine_type, 0) < count:
                raise errors.Conflict(
                    f"zone {name} holds {count} {machine_type} nodes: its {machine_type} "
                    f"capacity cannot go below {count} until clusters there are released or "
                    "scaled in",
                    f"可用区 {name} 中已有 {count} 个 {machine_type} 节点：在那里的集群释放或"
                    f"缩容之前，其 {machine_type} 容量不能低于 {count}",
                    code="ZoneCapacityInUse",
                )
        zone.capacity = json.dumps(parsed, sort_keys=True)
        return _view(session, platform, zone, used)


def delete_zone(
    platform: platform_module.Platform, name: str, *, region: str | None = None
) -> None:
    """Remove a zone no node, subnet or cluster refers to."""
    region = region or platform.settings.region
    in_use = errors.Conflict(
        f"zone {name} is in use: delete its subnets and release its clusters first",
        f"可用区 {name} 正在使用中：请先删除其中的交换机并释放其中的集群",
        code="ZoneInUse",
    )
    try:
        with db.transaction(platform.sessions) as session:
            zone = read_zone(session, region, name, lock=True)
            nodes = zone_store.count_nodes(session=session, zone_id=zone.id)
            subnets = zone_store.count_subnets(session=session, zone_id=zone.id)
            joined = host_store.count_in_zone(session=session, zone_id=zone.id)
            if joined:
                raise errors.Conflict(
                    f"{joined} hosts have joined zone {name}: remove them first",
                    f"已有 {joined} 台主机加入可用区 {name}：请先移除它们",
                    code="ZoneInUse",
                )
            clusters = zone_store.count_clusters(session=session, zone_id=zone.id)
            if nodes or subnets or clusters[False]:
                raise errors.Conflict(
                    f"zone {name} is in use by {clusters[False]} clusters ({nodes} nodes) and "
                    f"{subnets} subnets: release those clusters and delete those subnets first",
                    f"可用区 {name} 正被 {clusters[False]} 个集群（{nodes} 个节点）和 "
                    f"{subnets} 个交换机使用：请先释放这些集群并删除这些交换机",
                    code="ZoneInUse",
                )
            if clusters[True]:
                raise errors.Conflict(
                    f"zone {name} is in the history of {clusters[True]} released clusters and "
                    "stays; to place nothing more there, set its capacity to {} instead",
                    f"可用区 {name} 记录在 {clusters[True]} 个已释放集群的历史中，不能删除；"
                    "若不再在那里放置任何节点，请将其容量设为 {}",
                    code="ZoneInHistory",
                )
            zone_store.delete_zone(session=session, zone_id=zone.id)
    except IntegrityError as exc:  # a subnet or cluster arrived between the count and delete
        raise in_use from exc


def list_zones(platform: platform_module.Platform, *, region: str | None = None) -> list[ZoneView]:
    """The region's zones with capacity, use and what remains."""
    with db.transaction(platform.sessions) as session:
        region = region or platform.settings.region
        if not text.is_storable(region):
            return []
        found = zone_store.list_zones(session=session, region=region)
        used = zone_store.used_by_zone(session=session, zone_ids=[zone.id for zone in found])
        return [_view(session, platform, zone, used[zone.id]) for zone in found]
