"""The catalog of engine versions: the defaults of domain/engines.py, overridden and
extended by the operator's rows. Reading never writes (as with the machine-type catalog)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rtcompute import errors
from rtcompute.domain import engines as engine_rules
from rtcompute.domain import names, text
from rtcompute.services.kernel import platform as platform_module
from rtcompute.store import db
from rtcompute.store import engines as engine_store
from rtcompute.store.tables import engines as engine_tables

MAX_NOTES = 1024


@dataclass(frozen=True)
class EngineInfo:
    name: str
    release: str
    tag: str
    released_on: date
    end_of_service: date
    retired: bool
    notes: str
    listed: bool
    default: bool


def entries(session: db.Session) -> dict[str, tuple[engine_rules.CatalogEntry, bool]]:
    """name -> (entry, listed)."""
    found = {entry.name: (entry, True) for entry in engine_rules.DEFAULT_CATALOG}
    for row in engine_store.list_catalog_rows(session=session):
        entry = engine_rules.CatalogEntry(
            row.name, row.tag, row.released_on, row.end_of_service, row.notes
        )
        found[row.name] = (entry, row.listed)
    return found


def not_found(name: str) -> errors.NotFound:
    return errors.NotFound(
        f"engine version {name[:40]!r} is not in the catalog; choose one of the catalog's versions",
        f"引擎版本 {name[:40]!r} 不在版本目录中，请从版本目录中选择",
        code="EngineVersionNotFound",
    )


def entry_of(session: db.Session, name: str) -> tuple[engine_rules.CatalogEntry, bool]:
    found = entries(session).get(name) if names.ENGINE_VERSION.fits(name) else None
    if found is None:
        raise not_found(name)
    return found


def info(
    platform: platform_module.Platform, entry: engine_rules.CatalogEntry, listed: bool
) -> EngineInfo:
    return EngineInfo(
        name=entry.name,
        release=entry.release,
        tag=entry.tag,
        released_on=entry.released_on,
        end_of_service=entry.end_of_service,
        retired=engine_rules.is_retired(entry.end_of_service, platform.now().date()),
        notes=entry.notes,
        listed=listed,
        default=entry.name == platform.settings.engines.default_version,
    )


def list_catalog(platform: platform_module.Platform) -> list[EngineInfo]:
    """Newest first."""
    with db.transaction(platform.sessions) as session:
        found = entries(session)
    ordered = sorted(
        found.values(), key=lambda pair: engine_rules.sort_key(pair[0].name), reverse=True
    )
    return [info(platform, entry, listed) for entry, listed in ordered]


def update_entry(
    platform: platform_module.Platform,
    name: str,
    *,
    tag: str,
    released_on: date,
    end_of_service: date | None,
    notes: str,
    listed: bool,
) -> EngineInfo:
    """Add a version to the catalog or change one (operator)."""
    if not names.ENGINE_VERSION.fits(name):
        raise errors.Invalid(
            "engine version names read flink-<major>.<minor>.<patch>, e.g. flink-2.2.1 "
            "(the apache-flink release behind it)",
            "引擎版本名称须为 flink-<主版本>.<次版本>.<补丁版本>，例如 flink-2.2.1"
            "（对应的 apache-flink 发行版）",
            code="InvalidParameter.EngineVersion",
        )
    if tag not in engine_rules.TAGS:
        raise errors.Invalid(
            f"tag must be one of {', '.join(engine_rules.TAGS)}",
            f"标签须为 {'、'.join(engine_rules.TAGS)} 之一",
            code="InvalidParameter.Tag",
        )
    if not text.is_storable(notes) or len(notes) > MAX_NOTES:
        raise errors.Invalid(
            f"notes: at most {MAX_NOTES} characters",
            f"说明最多 {MAX_NOTES} 个字符",
            code="InvalidParameter",
        )
    latest = date.max - timedelta(days=engine_rules.DEFAULT_SERVICE_DAYS)
    if released_on > latest:
        raise errors.Invalid(
            f"released_on must be on or before {latest.isoformat()}",
            f"发布日期须不晚于 {latest.isoformat()}",
            code="InvalidParameter.ReleasedOn",
        )
    end = end_of_service or engine_rules.default_end_of_service(released_on)
    if end < released_on:
        raise errors.Invalid(
            "end_of_service must not be before released_on",
            "停止服务日期不能早于发布日期",
            code="InvalidParameter.EndOfService",
        )
    with db.transaction(platform.sessions) as session:
        engine_store.save_catalog_row(
            session=session,
            row=engine_tables.EngineVersion(
                name=name,
                tag=tag,
                released_on=released_on,
                end_of_service=end,
                notes=notes,
                listed=listed,
            ),
        )
    return info(platform, engine_rules.CatalogEntry(name, tag, released_on, end, notes), listed)
