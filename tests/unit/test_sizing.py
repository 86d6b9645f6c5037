"""The guide's sizing rules: records/s to CU, and CU to the cheapest machine mix.

`quote` claims an exact search while trying one slave count per slave type; these tests
check that claim against a brute force over every type and count, on the default catalog
and on random catalogs where bigger machines are sometimes cheaper.
"""

from __future__ import annotations

import dataclasses
import random
import time

import pytest

from rtcompute import errors
from rtcompute.domain import catalog, sizing

DEFAULT = catalog.DEFAULT_CATALOG


def brute_force(
    cu: int, ha: bool, table: catalog.Catalog, max_slaves: int = 30
) -> tuple[int, int, int] | None:
    """(month, nodes, hour) of the cheapest slave type x count (2..max_slaves) x master type."""
    master_count = 3 if ha else 1
    best: tuple[int, int, int] | None = None
    masters = table.of_role(catalog.MASTER)
    for slave in table.of_role(catalog.SLAVE):
        assert slave.cu is not None
        for count in range(2, max_slaves + 1):
            usable = count * slave.cu
            if usable < cu:
                continue
            for master in masters:
                if master.cu is not None and master.cu < usable:
                    continue
                key = (
                    count * slave.month_cents + master_count * master.month_cents,
                    count + master_count,
                    count * slave.hour_cents + master_count * master.hour_cents,
                )
                if best is None or key < best:
                    best = key
    return best


def comparable(q: sizing.Quote) -> tuple[int, int, int]:
    return (q.month_cents, q.slave_count + q.master_count, q.hour_cents)


# --- cu_for_qps -------------------------------------------------------------------------


def test_simple_50000_qps_is_5_cu_with_the_arithmetic() -> None:
    estimate = sizing.cu_for_qps(50_000, "simple")
    assert (estimate.low, estimate.high) == (5, 5)
    assert "50,000 records/s" in estimate.reasoning
    assert "10,000 records/s per CU" in estimate.reasoning
    assert "needs 5 CU." in estimate.reasoning


@pytest.mark.parametrize(
    ("qps", "cu"), [(1, 1), (9_999, 1), (10_000, 1), (10_001, 2), (100_000_000, 10_000)]
)
def test_simple_rounds_up(qps: int, cu: int) -> None:
    estimate = sizing.cu_for_qps(qps, "simple")
    assert estimate.low == estimate.high == cu
    assert ("rounded up" in estimate.reasoning) == (qps % 10_000 != 0)


@pytest.mark.parametrize(
    ("qps", "low", "high"),
    [(50_000, 10, 50), (1, 1, 1), (5_000, 1, 5), (5_001, 2, 6), (45_001, 10, 46)],
)
def test_complex_is_a_range_from_5000_to_1000_per_cu(qps: int, low: int, high: int) -> None:
    estimate = sizing.cu_for_qps(qps, "complex")
    assert (estimate.low, estimate.high) == (low, high)
    assert f"needs {low:,} to {high:,} CU" in estimate.reasoning
    assert "1,000-5,000 records/s per CU" in estimate.reasoning


@pytest.mark.parametrize(
    ("qps", "complexity", "numbers"),
    [
        (50_000, "simple", ("50,000", "10,000", "需要 5 CU。")),
        (10_001, "simple", ("10,001", "需要 2 CU（向上取整）")),
        (45_001, "complex", ("45,001", "1,000-5,000", "需要 10 到 46 CU")),
    ],
)
def test_the_reasoning_is_chinese_on_a_chinese_page(
    qps: int, complexity: str, numbers: tuple[str, ...]
) -> None:
    estimate = sizing.cu_for_qps(qps, complexity)
    chinese = estimate.reasoning_in("zh-CN")
    assert chinese == estimate.reasoning_zh != estimate.reasoning
    assert all(number in chinese for number in numbers)
    assert "records" not in chinese and "needs" not in chinese
    assert estimate.reasoning_in("en-US") == estimate.reasoning
    assert estimate.reasoning_in("fr") == estimate.reasoning


def test_constants_are_the_guides() -> None:
    assert sizing.SIMPLE_RECORDS_PER_CU == 10_000
    assert sizing.COMPLEX_RECORDS_PER_CU == (1_000, 5_000)


@pytest.mark.parametrize(
    ("qps", "complexity", "words"),
    [
        (0, "simple", "between 1 and 100,000,000"),
        (-5, "complex", "between 1 and 100,000,000"),
        (100_000_001, "simple", "between 1 and 100,000,000"),
        (1000, "medium", "'simple' or 'complex'"),
        (1000, "Simple", "'simple' or 'complex'"),
    ],
)
def test_cu_for_qps_refuses(qps: int, complexity: str, words: str) -> None:
    with pytest.raises(errors.Invalid, match=words):
        sizing.cu_for_qps(qps, complexity)


# --- quote on the default catalog -----------------------------------------------------


def test_quote_40_cu_without_ha() -> None:
    q = sizing.quote(40, ha=False, catalog=DEFAULT)
    # 2 x 24c96g = 42 CU on 48 cores beats 7 x 8c32g = 42 CU on 56 cores
    assert (q.slave.name, q.slave_count) == ("24c96g", 2)
    assert (q.master.name, q.master_count) == ("4c16g", 1)
    assert q.usable_cu == 42
    assert q.month_cents == 2 * q.slave.month_cents + q.master.month_cents
    assert q.hour_cents == 2 * q.slave.hour_cents + q.master.hour_cents
    assert comparable(q) == brute_force(40, False, DEFAULT)


@pytest.mark.parametrize("ha", [False, True])
@pytest.mark.parametrize("cu", [*range(1, 301), 400, 500, 799, 800, 801, 1000, 1500, 1740])
def test_quote_is_as_cheap_as_brute_force(cu: int, ha: bool) -> None:
    q = sizing.quote(cu, ha, DEFAULT)
    # the smallest slave gives 3 CU: more than cu / 3 + 10 slaves is never useful, and a cap
    # of 30 would miss the cheap 53 x 4c16g answer for 159 CU
    best = brute_force(cu, ha, DEFAULT, max_slaves=cu // 3 + 10)
    assert best is not None
    assert comparable(q) == best, (q, best)
    assert q.usable_cu >= cu
    assert q.slave_count >= 2


def test_ha_quotes_three_masters() -> None:
    single = sizing.quote(40, ha=False, catalog=DEFAULT)
    ha = sizing.quote(40, ha=True, catalog=DEFAULT)
    assert (single.master_count, ha.master_count) == (1, 3)
    assert ha.month_cents == single.month_cents + 2 * single.master.month_cents


def test_small_requests_still_buy_two_slaves() -> None:
    q = sizing.quote(1, ha=False, catalog=DEFAULT)
    assert (q.slave.name, q.slave_count, q.usable_cu) == ("4c16g", 2, 6)


@pytest.mark.parametrize(
    ("cu", "master"),
    [
        (78, "4c16g"),  # 78 = 13 x 6: fits under the 4c16g cap of 80
        (100, "8c32g"),  # above 80: the guide's 8c32g master caps at 160
        (156, "8c32g"),  # 156 = 3 x 52
        (160, "16c64g"),  # no slave type makes exactly 160 CU: 162+ needs the next master
        (200, "16c64g"),  # above 160
        (780, "16c64g"),  # 780 = 13 x 60
        (800, "24c96g"),  # no slave type makes exactly 800 CU either
        (801, "24c96g"),  # above 800: only the uncapped master
    ],
)
def test_master_cap_is_respected(cu: int, master: str) -> None:
    q = sizing.quote(cu, ha=False, catalog=DEFAULT)
    assert q.master.name == master
    assert q.master.cu is None or q.master.cu >= q.usable_cu


def test_80_cu_overshoots_the_smallest_master() -> None:
    # no slave mix gives exactly 80 CU, and anything above 80 needs an 8c32g master
    q = sizing.quote(80, ha=False, catalog=DEFAULT)
    assert q.usable_cu > 80
    assert q.master.name == "8c32g"


def test_the_largest_quote_is_fast_and_uncapped() -> None:
    q = sizing.quote(sizing.MAX_QUOTE_CU, ha=True, catalog=DEFAULT)
    assert q.usable_cu >= 10_000
    assert q.master.cu is None
    started = time.perf_counter()
    for cu in range(1, 201):
        sizing.quote(cu * 50, ha=True, catalog=DEFAULT)
    per_quote = (time.perf_counter() - started) / 200
    assert per_quote < 0.010


@pytest.mark.parametrize("cu", [0, -1, 10_001])
def test_quote_refuses_out_of_range(cu: int) -> None:
    with pytest.raises(errors.Invalid, match="between 1 and 10,000"):
        sizing.quote(cu, ha=False, catalog=DEFAULT)


def test_quote_refuses_when_no_master_is_big_enough() -> None:
    capped = catalog.Catalog(
        tuple(t for t in DEFAULT.machine_types if t.role == catalog.SLAVE or t.cu == 80),
        DEFAULT.shared_cu_month_cents,
    )
    assert sizing.quote(78, ha=False, catalog=capped).usable_cu == 78
    with pytest.raises(errors.Invalid, match=r"4c16g, allows at most 80 CU"):
        sizing.quote(79, ha=False, catalog=capped)


def test_quote_refuses_an_empty_catalog() -> None:
    masters_only = catalog.Catalog(DEFAULT.of_role(catalog.MASTER), 0)
    with pytest.raises(errors.Invalid, match="no slave type"):
        sizing.quote(10, ha=False, catalog=masters_only)
    slaves_only = catalog.Catalog(DEFAULT.of_role(catalog.SLAVE), 0)
    with pytest.raises(errors.Invalid, match="no master type"):
        sizing.quote(10, ha=False, catalog=slaves_only)


def test_refusals_carry_the_sizing_code_and_a_chinese_sentence() -> None:
    with pytest.raises(errors.Invalid) as qps:
        sizing.cu_for_qps(0, "simple")
    assert qps.value.code == "InvalidParameter.Sizing"
    assert qps.value.text("zh-CN") == "QPS 须在每秒 1 到 100,000,000 条记录之间，而不是 0"
    with pytest.raises(errors.Invalid) as cu:
        sizing.quote(10_001, ha=False, catalog=DEFAULT)
    assert cu.value.zh == "CU 须在 1 到 10,000 之间，而不是 10,001"
    masters_only = catalog.Catalog(DEFAULT.of_role(catalog.MASTER), 0)
    with pytest.raises(errors.Invalid) as none:
        sizing.quote(10, ha=False, catalog=masters_only)
    assert none.value.code == "InvalidParameter.Sizing"
    assert (
        none.value.zh
        == "价目表中没有能提供 10 可用 CU 的机型组合：价目表中没有提供可用 CU 的 slave 机型"
    )


# --- quote on random catalogs ---------------------------------------------------------


def random_catalog(rng: random.Random) -> catalog.Catalog:
    slaves = tuple(
        catalog.MachineType(
            catalog.SLAVE,
            f"s{i}",
            4,
            16,
            rng.randint(1, 40),
            rng.randint(0, 50) * 1000,
            rng.randint(0, 50),
        )
        for i in range(rng.randint(1, 6))
    )
    caps = sorted(rng.sample(range(10, 400), rng.randint(1, 4)))
    masters = tuple(
        catalog.MachineType(
            catalog.MASTER,
            f"m{i}",
            4,
            16,
            cap,
            rng.randint(0, 80) * 1000,
            rng.randint(0, 80),
        )
        for i, cap in enumerate([*caps, None] if rng.random() < 0.5 else caps)
    )
    return catalog.Catalog(slaves + masters, 0)


def test_quote_matches_brute_force_on_random_catalogs() -> None:
    rng = random.Random(4)
    checked = 0
    for _ in range(300):
        table = random_catalog(rng)
        for _ in range(4):
            cu = rng.randint(1, 120)
            ha = rng.random() < 0.5
            # every slave type gives >= 1 CU, so counts up to cu + 10 cover all useful mixes
            expected = brute_force(cu, ha, table, max_slaves=cu + 10)
            if expected is None:
                with pytest.raises(errors.Invalid, match="no machine mix"):
                    sizing.quote(cu, ha, table)
                continue
            got = sizing.quote(cu, ha, table)
            assert comparable(got) == expected, (table, cu, ha, got, expected)
            assert got.usable_cu >= cu
            assert got.master.cu is None or got.master.cu >= got.usable_cu
            checked += 1
    assert checked > 400


def test_an_expensive_master_can_make_a_bigger_slave_type_win() -> None:
    # the cheaper slave type overshoots the small master's cap; its mix needs the expensive
    # master, and the slightly dearer slave type that stays under the cap wins overall
    small_slave = catalog.MachineType(catalog.SLAVE, "small", 4, 16, 7, 10_000, 10)
    big_slave = catalog.MachineType(catalog.SLAVE, "big", 8, 32, 10, 16_000, 16)
    cheap_master = catalog.MachineType(catalog.MASTER, "cheap", 4, 16, 20, 1_000, 1)
    dear_master = catalog.MachineType(catalog.MASTER, "dear", 8, 32, None, 100_000, 100)
    table = catalog.Catalog((small_slave, big_slave, cheap_master, dear_master), 0)
    # 20 CU: 3 x small = 21 CU (> 20, dear master) vs 2 x big = 20 CU (cheap master)
    q = sizing.quote(20, ha=False, catalog=table)
    assert (q.slave.name, q.slave_count, q.master.name) == ("big", 2, "cheap")
    assert q.month_cents == 2 * 16_000 + 1_000


def test_zero_cu_slave_types_are_skipped() -> None:
    useless = catalog.MachineType(catalog.SLAVE, "useless", 1, 4, 0, 0, 0)
    table = dataclasses.replace(DEFAULT, machine_types=(*DEFAULT.machine_types, useless))
    assert sizing.quote(40, ha=False, catalog=table) == sizing.quote(40, False, DEFAULT)
