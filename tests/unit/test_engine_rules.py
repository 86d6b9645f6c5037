"""The guide's version rules (ch. 7) as pure functions: each refusal, its code and message."""

from __future__ import annotations

from datetime import date

import pytest

from rtcompute import errors
from rtcompute.domain import engines as engine_rules

STABLE = engine_rules.CatalogEntry(
    "flink-2.2.1", engine_rules.STABLE, date(2026, 5, 11), date(2027, 5, 11)
)
BETA = engine_rules.CatalogEntry(
    "flink-2.3.0", engine_rules.BETA, date(2026, 6, 22), date(2027, 6, 22)
)


def held(*rows: tuple[str, str, bool]) -> list[engine_rules.Held]:
    return [engine_rules.Held(version, state, current) for version, state, current in rows]


def broken(call: object, *args: object, **kwargs: object) -> errors.RtcError:
    with pytest.raises(errors.RtcError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


INSTALLED = engine_rules.INSTALLED
INSTALLING = engine_rules.INSTALLING
FAILED = engine_rules.FAILED


@pytest.mark.parametrize(
    ("rows", "entry", "confirm", "expected"),
    [
        # (class, code, message); None: allowed
        ((), STABLE, False, None),
        ((("flink-1.20.5", INSTALLED, True),), STABLE, False, None),
        (
            (("flink-1.20.5", INSTALLED, True), ("flink-2.0.2", INSTALLED, False)),
            STABLE,
            False,
            None,
        ),
        (
            (("flink-2.2.1", INSTALLED, True),),
            STABLE,
            False,
            (errors.Conflict, "VersionAlreadyInstalled", "flink-2.2.1 already installed"),
        ),
        (
            (
                ("flink-1.20.5", INSTALLED, True),
                ("flink-2.0.2", INSTALLED, False),
                ("flink-2.1.3", INSTALLED, False),
            ),
            STABLE,
            False,
            (errors.Conflict, "VersionLimitExceeded", "Flink versions exceeded max limitation:3"),
        ),
        # a cluster that already has more than 3 keeps them but gets no new one
        (
            (
                ("flink-1.20.5", INSTALLED, True),
                ("flink-2.0.2", INSTALLED, False),
                ("flink-2.1.3", INSTALLED, False),
                ("flink-2.2.0", INSTALLED, False),
            ),
            STABLE,
            False,
            (errors.Conflict, "VersionLimitExceeded", "Flink versions exceeded max limitation:3"),
        ),
        # failed rows do not count towards the limit, nor block the same version again
        (
            (
                ("flink-1.20.5", INSTALLED, True),
                ("flink-2.0.2", INSTALLED, False),
                ("flink-2.2.1", FAILED, False),
            ),
            STABLE,
            False,
            None,
        ),
        (
            (
                ("flink-1.20.5", INSTALLED, True),
                ("flink-2.0.2", INSTALLED, False),
                ("flink-2.1.3", FAILED, False),
                ("flink-2.2.0", FAILED, False),
            ),
            STABLE,
            False,
            None,
        ),
        # one install at a time (an installing row also counts as held)
        (
            (("flink-1.20.5", INSTALLING, False),),
            STABLE,
            False,
            (errors.Conflict, "VersionDeploying", None),
        ),
        (
            (("flink-2.2.1", INSTALLING, False),),
            STABLE,
            False,
            (errors.Conflict, "VersionDeploying", None),
        ),
        # beta: only with an explicit confirmation
        ((), BETA, False, (errors.Invalid, "BetaNotConfirmed", None)),
        ((), BETA, True, None),
        (
            (("flink-2.3.0", INSTALLED, True),),
            BETA,
            True,
            (errors.Conflict, "VersionAlreadyInstalled", "flink-2.3.0 already installed"),
        ),
    ],
)
def test_check_install(
    rows: tuple[tuple[str, str, bool], ...],
    entry: engine_rules.CatalogEntry,
    confirm: bool,
    expected: tuple[type[errors.RtcError], str, str | None] | None,
) -> None:
    if expected is None:
        engine_rules.check_install(held(*rows), entry, confirm_beta=confirm)
        return
    found = broken(engine_rules.check_install, held(*rows), entry, confirm_beta=confirm)
    kind, code, message = expected
    assert (type(found), found.code) == (kind, code)
    if message is not None:
        assert found.message == message
    assert str(found) == found.message


def test_an_install_under_way_refuses_before_the_limit() -> None:
    """With 2 installed and 1 installing the 4th is refused: one install at a time comes
    first (the installing one holds the third place either way)."""
    rows = held(
        ("flink-1.20.5", INSTALLED, True),
        ("flink-2.0.2", INSTALLED, False),
        ("flink-2.1.3", INSTALLING, False),
    )
    found = broken(engine_rules.check_install, rows, STABLE, confirm_beta=False)
    assert (type(found), found.code) == (errors.Conflict, "VersionDeploying")
    assert "one install at a time" in found.message
    assert engine_rules.MAX_INSTALLED == 3


def test_the_beta_message_says_how_to_confirm() -> None:
    found = broken(engine_rules.check_install, [], BETA, confirm_beta=False)
    assert "flink-2.3.0" in found.message and "confirm_beta" in found.message


@pytest.mark.parametrize(
    ("rows", "version", "code"),
    [
        ((("flink-2.2.1", INSTALLED, True),), "flink-2.2.1", None),
        (
            (("flink-2.2.1", INSTALLED, True), ("flink-1.20.5", INSTALLED, False)),
            "flink-1.20.5",
            None,
        ),
        ((("flink-2.2.1", INSTALLED, True),), "flink-1.20.5", "VersionNotInstalled"),
        ((("flink-1.20.5", INSTALLING, False),), "flink-1.20.5", "VersionNotInstalled"),
        ((("flink-1.20.5", FAILED, False),), "flink-1.20.5", "VersionNotInstalled"),
        ((), "flink-2.2.1", "VersionNotInstalled"),
    ],
)
def test_check_set_current(
    rows: tuple[tuple[str, str, bool], ...], version: str, code: str | None
) -> None:
    if code is None:
        engine_rules.check_set_current(held(*rows), version)
        return
    found = broken(engine_rules.check_set_current, held(*rows), version)
    assert (type(found), found.code) == (errors.Conflict, code)
    assert version in found.message


TWO = (("flink-2.2.1", INSTALLED, True), ("flink-1.20.5", INSTALLED, False))


@pytest.mark.parametrize(
    ("rows", "version", "referencing", "expected"),
    [
        (TWO, "flink-1.20.5", (), None),
        (TWO, "flink-2.2.1", (), (errors.Conflict, "VersionIsCurrent")),
        (TWO, "flink-2.0.2", (), (errors.NotFound, "VersionNotInstalled")),
        (
            (("flink-2.2.1", INSTALLED, True), ("flink-1.20.5", INSTALLING, False)),
            "flink-1.20.5",
            (),
            (errors.Conflict, "VersionDeploying"),
        ),
        (
            (("flink-2.2.1", INSTALLED, True), ("flink-1.20.5", FAILED, False)),
            "flink-1.20.5",
            (),
            None,
        ),
        (TWO, "flink-1.20.5", (("orders_etl", "alpha"),), (errors.Conflict, "VersionInUse")),
        # the current one is refused as current, whoever references it
        (TWO, "flink-2.2.1", (("orders_etl", "alpha"),), (errors.Conflict, "VersionIsCurrent")),
    ],
)
def test_check_uninstall(
    rows: tuple[tuple[str, str, bool], ...],
    version: str,
    referencing: tuple[tuple[str, str], ...],
    expected: tuple[type[errors.RtcError], str] | None,
) -> None:
    if expected is None:
        engine_rules.check_uninstall(held(*rows), version, referencing)
        return
    found = broken(engine_rules.check_uninstall, held(*rows), version, referencing)
    assert (type(found), found.code) == expected
    assert version in found.message


def test_uninstall_in_use_is_the_guides_message_naming_the_first_job() -> None:
    found = broken(
        engine_rules.check_uninstall,
        held(*TWO),
        "flink-1.20.5",
        [("orders_etl", "alpha"), ("clicks", "beta")],
    )
    assert found.message == "Node:orders_etl in project:alpha still ref the version:flink-1.20.5"


def test_the_chinese_sentences_keep_the_guides_messages() -> None:
    """A user of a Chinese page can search the guide for its exact (English) message."""
    three = held(
        ("flink-1.20.5", INSTALLED, True),
        ("flink-2.0.2", INSTALLED, False),
        ("flink-2.1.3", INSTALLED, False),
    )
    limit = broken(engine_rules.check_install, three, STABLE, confirm_beta=False)
    assert limit.zh == (
        "引擎版本已达上限 3 个，请先卸载一个（Flink versions exceeded max limitation:3）"
    )
    again = broken(
        engine_rules.check_install,
        held(("flink-2.2.1", INSTALLED, True)),
        STABLE,
        confirm_beta=False,
    )
    assert again.zh == "该引擎版本已安装（flink-2.2.1 already installed）"
    in_use = broken(engine_rules.check_uninstall, held(*TWO), "flink-1.20.5", [("j", "p")])
    assert in_use.zh == (
        "项目 p 中的作业 j 仍在使用该引擎版本，请先将作业下线"
        "（Node:j in project:p still ref the version:flink-1.20.5）"
    )
    missing = engine_rules.version_missing("flink-2.0.2", "flink-2.0.2/bin/flink")
    assert missing.code == "30006" and missing.zh.startswith("引擎版本 flink-2.0.2 未安装")
    assert missing.zh.endswith(f"（{missing.message}）")


def test_uninstall_reads_the_references_lazily_only_when_needed() -> None:
    """A generator of references is fine (the rule iterates it once)."""
    refs = iter([("j", "p")])
    found = broken(engine_rules.check_uninstall, held(*TWO), "flink-1.20.5", refs)
    assert found.message == "Node:j in project:p still ref the version:flink-1.20.5"


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("flink-2.2.1", "2.2.1"),
        ("flink-1.20.5", "1.20.5"),
        ("flink-10.0.123", "10.0.123"),
    ],
)
def test_release_of(name: str, release: str) -> None:
    assert engine_rules.is_name(name)
    assert engine_rules.release_of(name) == release


@pytest.mark.parametrize(
    "name",
    [
        "flink-2.2.1\n",
        "flink-2.2.1 ",
        " flink-2.2.1",
        "flink-2.2",
        "flink-2.2.1.0",
        "Flink-2.2.1",
        "blink-2.2.1",
        "2.2.1",
        "flink-x",
        "flink-1234.0.0",
        "flink-2.2.1-SNAPSHOT",
        "flink-\uff12.2.1",  # a full-width digit is no ASCII digit
        "",
    ],
)
def test_not_a_name(name: str) -> None:
    assert not engine_rules.is_name(name)
    with pytest.raises(ValueError):
        engine_rules.release_of(name)


def test_sort_key_orders_by_numbers_not_text() -> None:
    names = ["flink-1.20.5", "flink-2.2.1", "flink-2.10.0", "flink-2.2.0", "junk"]
    ordered = sorted(names, key=engine_rules.sort_key, reverse=True)
    assert ordered == ["flink-2.10.0", "flink-2.2.1", "flink-2.2.0", "flink-1.20.5", "junk"]


@pytest.mark.parametrize(
    ("released", "end"),
    [
        (date(2026, 5, 11), date(2027, 5, 11)),
        (date(2027, 3, 1), date(2028, 2, 29)),  # 365 days, across a leap day
        (date(2025, 12, 31), date(2026, 12, 31)),
    ],
)
def test_default_end_of_service_is_365_days_later(released: date, end: date) -> None:
    assert engine_rules.default_end_of_service(released) == end


@pytest.mark.parametrize(
    ("today", "retired"),
    [
        (date(2027, 5, 10), False),
        (date(2027, 5, 11), False),  # the last day of service is still in service
        (date(2027, 5, 12), True),
    ],
)
def test_is_retired(today: date, retired: bool) -> None:
    assert engine_rules.is_retired(date(2027, 5, 11), today) is retired


def test_default_catalog() -> None:
    names = [e.name for e in engine_rules.DEFAULT_CATALOG]
    assert len(names) == len(set(names))
    assert all(engine_rules.is_name(n) for n in names)
    assert engine_rules.DEFAULT_VERSION in names
    assert {"flink-2.2.1", "flink-1.20.5"} <= set(names)
    by_name = {e.name: e for e in engine_rules.DEFAULT_CATALOG}
    assert by_name[engine_rules.DEFAULT_VERSION].tag == engine_rules.STABLE
    assert by_name["flink-2.3.0"].tag == engine_rules.BETA
    for entry in engine_rules.DEFAULT_CATALOG:
        assert entry.tag in engine_rules.TAGS
        assert entry.end_of_service == engine_rules.default_end_of_service(entry.released_on)
        assert entry.release == engine_rules.release_of(entry.name)


def test_script_missing_is_the_guides_30006_text() -> None:
    assert engine_rules.script_missing("flink-2.0.2", "/data/engines/flink-2.0.2/bin/flink") == (
        "code:[30006], brief info:[engine script not exist, please check engine version], "
        "context info:[engine script:[/data/engines/flink-2.0.2/bin/flink], "
        "engine version:[flink-2.0.2]]"
    )
    assert engine_rules.SCRIPT_MISSING_CODE == "30006"


def test_targets() -> None:
    assert engine_rules.cluster_target(7) == "cluster:7"
    assert engine_rules.POOL == "pool"
    assert engine_rules.cluster_target(0) != engine_rules.POOL
