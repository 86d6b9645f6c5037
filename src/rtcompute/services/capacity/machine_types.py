"""The catalog a region sells: machine types with CU figures and prices, the shared CU price.

The guide's table is the default (domain/catalog.py); a row the operator writes overrides
the default of the same role and name, or adds a type. Reading never writes, so an empty
database sells the defaults without a seeding step that could race.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import catalog as catalog_domain
from rtcompute.domain import names, text
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import catalog as catalog_store
from rtcompute.store import db
from rtcompute.store.tables import capacity as capacity_tables

MAX_PRICE_CENTS = 10**10


@dataclass(frozen=True)
class RegionInfo:
    name: str
    display_name: str
    shared_cu_month_cents: int


def _regions(session: db.Session, default_region: str) -> dict[str, RegionInfo]:
    found = {
        default_region: RegionInfo(
            default_region,
            catalog_domain.DEFAULT_REGION_DISPLAY,
            catalog_domain.DEFAULT_SHARED_CU_MONTH_CENTS,
        )
    }
    for row in catalog_store.list_regions(session=session):
        found[row.name] = RegionInfo(row.name, row.display_name, row.shared_cu_month_cents)
    return found


def list_regions(platform: platform_module.Platform) -> list[RegionInfo]:
    with db.transaction(platform.sessions) as session:
        return sorted(_regions(session, platform.settings.region).values(), key=lambda r: r.name)


def region_info(session: db.Session, platform: platform_module.Platform, name: str) -> RegionInfo:
    """The region, or Invalid naming the regions there are."""
    regions = _regions(session, platform.settings.region)
    found = regions.get(name) if text.is_storable(name) else None
    if found is None:
        known = ", ".join(sorted(regions))
        raise errors.Invalid(
            f"unknown region {name[:32]!r}; choose one of {known}",
            f"地域 {name[:32]!r} 不存在，请从 {known} 中选择",
            code="InvalidParameter.Region",
        )
    return found


def load(
    session: db.Session, platform: platform_module.Platform, region: str
) -> catalog_domain.Catalog:
    """The catalog of a region: defaults overridden and extended by the operator's rows."""
    info = region_info(session, platform, region)
    types = {(t.role, t.name): t for t in catalog_domain.DEFAULT_MACHINE_TYPES}
    for row in catalog_store.list_machine_types(session=session):
        types[(row.role, row.name)] = catalog_domain.MachineType(
            row.role, row.name, row.cores, row.memory_gb, row.cu, row.month_cents, row.hour_cents
        )
    ordered = sorted(types.values(), key=lambda t: (t.role, t.cores, t.memory_gb))
    return catalog_domain.Catalog(tuple(ordered), info.shared_cu_month_cents)


def read_catalog(platform: platform_module.Platform, region: str) -> catalog_domain.Catalog:
    with db.transaction(platform.sessions) as session:
        return load(session, platform, region)


def _check_price(field: str, cents: int) -> None:
    if not 0 <= cents <= MAX_PRICE_CENTS:
        raise errors.Invalid(
            f"{field} must be between 0 and {MAX_PRICE_CENTS} cents",
            f"{field} 须在 0 到 {MAX_PRICE_CENTS} 分之间",
            code="InvalidParameter.Price",
        )


def update_region(
    platform: platform_module.Platform,
    name: str,
    *,
    display_name: str,
    shared_cu_month_cents: int,
) -> RegionInfo:
    """Add a region or change its shared CU price (operator)."""
    names.REGION.check(name)
    if not text.is_name_text(display_name) or len(display_name) > 64:
        raise errors.Invalid(
            "display name: at most 64 characters, without NUL or bidirectional control characters",
            "显示名称最多 64 个字符，且不能包含 NUL 或双向控制字符",
            code="InvalidParameter",
        )
    _check_price("shared_cu_month_cents", shared_cu_month_cents)
    with db.transaction(platform.sessions) as session:
        row = catalog_store.read_region(session=session, name=name)
        new = row is None
        row = row or capacity_tables.Region(name=name)
        row.display_name = display_name
        row.shared_cu_month_cents = shared_cu_month_cents
        if new:
            catalog_store.add(session=session, row=row)
        return RegionInfo(name, display_name, shared_cu_month_cents)


def update_machine_type(
    platform: platform_module.Platform,
    role: str,
    name: str,
    *,
    cu: int | None,
    month_cents: int,
    hour_cents: int,
) -> catalog_domain.MachineType:
    """Add a machine type or change its CU figure and prices (operator)."""
    if role not in catalog_domain.ROLES:
        raise errors.Invalid(
            "role must be master or slave",
            "节点类型须为 master 或 slave",
            code="InvalidParameter.Role",
        )
    match = catalog_domain.TYPE_NAME.fullmatch(name) if text.is_storable(name) else None
    if match is None:
        raise errors.Invalid(
            "machine type names read <cores>c<memory GB>g, e.g. 8c32g",
            "机型名称的格式为 <核数>c<内存 GB>g，例如 8c32g",
            code="InvalidParameter.MachineType",
        )
    cores, memory = int(match.group(1)), int(match.group(2))
    if role == catalog_domain.SLAVE and (cu is None or not 1 <= cu <= cores):
        raise errors.Invalid(
            f"a slave type's usable CU must be between 1 and its {cores} cores",
            f"slave 机型的可用 CU 须在 1 到其核数 {cores} 之间",
            code="InvalidParameter.CU",
        )
    if cu is not None and not 1 <= cu <= 1_000_000:
        raise errors.Invalid(
            "CU must be between 1 and 1,000,000",
            "CU 须在 1 到 1,000,000 之间",
            code="InvalidParameter.CU",
        )
    _check_price("month_cents", month_cents)
    _check_price("hour_cents", hour_cents)
    with db.transaction(platform.sessions) as session:
        row = catalog_store.read_machine_type(session=session, role=role, name=name)
        new = row is None
        row = row or capacity_tables.MachineType(role=role, name=name)
        row.cores, row.memory_gb, row.cu = cores, memory, cu
        row.month_cents, row.hour_cents = month_cents, hour_cents
        if new:
            catalog_store.add(session=session, row=row)
    return catalog_domain.MachineType(role, name, cores, memory, cu, month_cents, hour_cents)
