"""Engine versions: the catalog's defaults and the guide's version-management rules.

Guide, chapter 独享集群Blink版本管理: at most 3 versions installed on a cluster (one that
already has more keeps them), one install at a time (the cluster shows 版本部署中
meanwhile), an installed version cannot be installed again, the current version and a
version an online job references cannot be uninstalled, and every version has an end of
service (one year after release by default) after which it stays usable but unmaintained.
A version is an `apache-flink` release: `flink-2.2.1` is `apache-flink==2.2.1`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rtcompute import errors
from rtcompute.domain import names

# guide: 最多安装3个版本 (Flink versions exceeded max limitation:3)
MAX_INSTALLED = 3
# guide: 每个版本设有服役时间, 默认一年 (one year of service by default)
DEFAULT_SERVICE_DAYS = 365

NAME = names.ENGINE_VERSION.compiled

# guide's tags: stable (recommended), beta (special cases only), none (historic stable)
STABLE = "stable"
BETA = "beta"
NO_TAG = "none"
TAGS = (STABLE, BETA, NO_TAG)

# a version on a cluster (or on the shared pool)
INSTALLING = "installing"
INSTALLED = "installed"
FAILED = "failed"
DEPLOYMENT_STATES = (INSTALLING, INSTALLED, FAILED)
# states that count towards the limit of 3 and block installing the same version again
HELD = frozenset({INSTALLING, INSTALLED})

# the copy of a version on a machine, shared by every cluster there that uses it
COPY_INSTALLING = "installing"
COPY_READY = "ready"
COPY_FAILED = "failed"

# the guide's error of a syntax check or a submission on a version that is not installed
SCRIPT_MISSING_CODE = "30006"

# the shared pool is one target; clusters are `cluster:<id>`
POOL = "pool"


def cluster_target(cluster_id: int) -> str:
    return f"cluster:{cluster_id}"


def install_request(deployment_id: int, created_at: datetime) -> str:
    """Names one request to install a version on a target: a joined host's failed install
    answers this request only, never the next one (SQLite may give a deleted row's id to
    the next row: the time tells them apart)."""
    return f"{deployment_id}.{int(created_at.timestamp() * 1000)}"


def is_name(name: str) -> bool:
    return names.ENGINE_VERSION.fits(name)


def release_of(name: str) -> str:
    """`flink-2.2.1` -> `2.2.1` (the apache-flink release); the name must be valid."""
    found = NAME.fullmatch(name)
    if found is None:  # invariant: catalog and deployment rows hold checked names
        raise ValueError(f"not an engine version name: {name!r}")
    return ".".join(found.groups())


def sort_key(name: str) -> tuple[int, ...]:
    found = NAME.fullmatch(name)
    return tuple(int(part) for part in found.groups()) if found else (-1,)


def default_end_of_service(released_on: date) -> date:
    return released_on + timedelta(days=DEFAULT_SERVICE_DAYS)


def is_retired(end_of_service: date, today: date) -> bool:
    """Past its end of service: still usable, no longer maintained (flag it in every list)."""
    return today > end_of_service


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    tag: str
    released_on: date
    end_of_service: date
    notes: str = ""

    @property
    def release(self) -> str:
        return release_of(self.name)


def _entry(name: str, tag: str, released_on: date, notes: str) -> CatalogEntry:
    return CatalogEntry(name, tag, released_on, default_end_of_service(released_on), notes)


# Current releases of the 1.20 and 2.x lines with wheels for Python 3.11 (release dates from
# the package index). The operator edits tags and dates and adds versions; these rows are
# the catalog of an installation that has not changed them.
# each default entry's note, in English and in Chinese
_NOTES = {
    "flink-2.3.0": (
        "Newest release line; under evaluation here. Install only for a specific need.",
        "最新的版本系列，尚在评估中。仅在有特定需求时安装。",
    ),
    "flink-2.2.1": ("Recommended: the default engine.", "推荐使用：默认引擎。"),
    "flink-2.2.0": ("Earlier 2.2 release.", "2.2 系列的较早版本。"),
    "flink-2.1.3": ("Last 2.1 release.", "2.1 系列的最后一个版本。"),
    "flink-2.0.2": ("Last 2.0 release.", "2.0 系列的最后一个版本。"),
    "flink-1.20.5": (
        "1.x long-term line: flat flink-conf.yaml, state.checkpoints.dir keys.",
        "1.x 长期支持系列：使用扁平的 flink-conf.yaml 和 state.checkpoints.dir 等配置项。",
    ),
}
DEFAULT_CATALOG = (
    _entry("flink-2.3.0", BETA, date(2026, 6, 22), _NOTES["flink-2.3.0"][0]),
    _entry("flink-2.2.1", STABLE, date(2026, 5, 11), _NOTES["flink-2.2.1"][0]),
    _entry("flink-2.2.0", NO_TAG, date(2025, 12, 3), _NOTES["flink-2.2.0"][0]),
    _entry("flink-2.1.3", NO_TAG, date(2026, 6, 12), _NOTES["flink-2.1.3"][0]),
    _entry("flink-2.0.2", NO_TAG, date(2026, 5, 9), _NOTES["flink-2.0.2"][0]),
    _entry("flink-1.20.5", STABLE, date(2026, 6, 12), _NOTES["flink-1.20.5"][0]),
)
# the catalog's own notes, English to Chinese: a note the operator kept is shown in Chinese
# too; one the operator wrote is shown as written
NOTES_ZH = dict(_NOTES.values())


def notes_in(language: str, notes: str) -> str:
    """A catalog note in `language` (`zh_CN`, `zh` or `en`)."""
    if language.lower().startswith("zh"):
        return NOTES_ZH.get(notes, notes)
    return notes


DEFAULT_VERSION = "flink-2.2.1"


@dataclass(frozen=True)
class Held:
    """A version on a target, as the rules see it."""

    version: str
    state: str
    current: bool


def check_install(held: Iterable[Held], entry: CatalogEntry, *, confirm_beta: bool) -> None:
    """Raise when installing `entry` breaks one of the guide's rules."""
    versions = [h for h in held if h.state in HELD]
    if any(h.state == INSTALLING for h in versions):
        raise errors.Conflict(
            "another version is being installed; one install at a time: wait for it to finish",
            "另一个引擎版本正在安装，一次只能安装一个，请等待其完成",
            code="VersionDeploying",
        )
    if any(h.version == entry.name for h in versions):
        raise already_installed(entry.name)
    if len(versions) >= MAX_INSTALLED:
        raise errors.Conflict(
            f"Flink versions exceeded max limitation:{MAX_INSTALLED}",
            f"引擎版本已达上限 {MAX_INSTALLED} 个，请先卸载一个"
            f"（Flink versions exceeded max limitation:{MAX_INSTALLED}）",
            code="VersionLimitExceeded",
        )
    if entry.tag == BETA and not confirm_beta:
        raise errors.Invalid(
            f"{entry.name} is a beta version: only for specific cases, its quality and "
            "stability are not guaranteed; confirm to install it (confirm_beta=true)",
            f"{entry.name} 是 beta 版本：仅用于特定场景，质量和稳定性不作保证；确认后才能安装",
            code="BetaNotConfirmed",
        )


def already_installed(version: str) -> errors.Conflict:
    """The guide's message for a second install of the same version."""
    return errors.Conflict(
        f"{version} already installed",
        f"该引擎版本已安装（{version} already installed）",
        code="VersionAlreadyInstalled",
    )


def check_set_current(held: Iterable[Held], version: str) -> None:
    if not any(h.version == version and h.state == INSTALLED for h in held):
        raise errors.Conflict(
            f"{version} is not installed; install it before setting it as current",
            f"{version} 未安装，请先安装再设为 current",
            code="VersionNotInstalled",
        )


def check_uninstall(
    held: Iterable[Held], version: str, referencing: Iterable[tuple[str, str]]
) -> None:
    """`referencing`: (job, project) pairs of online jobs that use `version`."""
    found = next((h for h in held if h.version == version), None)
    if found is None:
        raise errors.NotFound(
            f"{version} is not installed", f"{version} 未安装", code="VersionNotInstalled"
        )
    if found.state == INSTALLING:
        raise errors.Conflict(
            f"{version} is being installed; wait for the install to finish",
            f"{version} 正在安装，请等待安装完成",
            code="VersionDeploying",
        )
    if found.current:
        raise errors.Conflict(
            f"{version} is the current version; set another version as current first",
            f"{version} 是当前版本，不能卸载，请先将另一个版本设为 current",
            code="VersionIsCurrent",
        )
    for job, project in referencing:
        raise errors.Conflict(
            f"Node:{job} in project:{project} still ref the version:{version}",
            f"项目 {project} 中的作业 {job} 仍在使用该引擎版本，请先将作业下线"
            f"（Node:{job} in project:{project} still ref the version:{version}）",
            code="VersionInUse",
        )


def script_missing(version: str, script: str) -> str:
    """The guide's 30006 message, with our words for the engine."""
    return (
        f"code:[{SCRIPT_MISSING_CODE}], brief info:[engine script not exist, please check "
        f"engine version], context info:[engine script:[{script}], engine version:[{version}]]"
    )


def version_missing(version: str, script: str) -> errors.Conflict:
    """30006: the version is not installed where the SQL would run (the guide's text kept)."""
    guide = script_missing(version, script)
    return errors.Conflict(
        guide,
        f"引擎版本 {version} 未安装在项目所在的集群上，请先安装或选择已安装的版本（{guide}）",
        code=SCRIPT_MISSING_CODE,
    )
