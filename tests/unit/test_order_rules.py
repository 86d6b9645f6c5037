"""The purchase rules and state moves of orders and clusters (pure: domain/orders.py,
domain/clusters.py), against the guide's table (独享模式集群配置) and its limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtcompute import errors
from rtcompute.domain import catalog, clusters, orders

CATALOG = catalog.DEFAULT_CATALOG
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def problems(
    master: str = "4c16g", masters: int = 1, slave: str = "8c32g", slaves: int = 2
) -> list[str]:
    """The English sentences of the broken rules."""
    found = orders.exclusive_problems(CATALOG, master, masters, slave, slaves)
    return [problem.en for problem in found]


def test_a_valid_cluster_has_no_problems() -> None:
    assert problems() == []
    assert problems(masters=3) == []
    assert problems("24c96g", 3, "64c256g", 200) == []  # no maximum "above 800"


@pytest.mark.parametrize("masters", [0, 2, 4, -1])
def test_masters_are_one_or_three(masters: int) -> None:
    assert problems(masters=masters) == [
        f"a cluster has 1 master, or 3 for high availability; got {masters}"
    ]


@pytest.mark.parametrize("slaves", [0, 1, -3])
def test_at_least_two_slaves(slaves: int) -> None:
    assert problems(slaves=slaves) == [f"a cluster needs at least 2 slaves; got {slaves}"]


def test_at_most_the_slave_limit() -> None:
    limit = clusters.MAX_SLAVES
    assert problems("24c96g", 1, "4c16g", limit) == []
    assert problems("24c96g", 1, "4c16g", limit + 1) == [
        f"a cluster has at most {limit} slaves; got {limit + 1}"
    ]


def test_unknown_types_name_the_known_ones() -> None:
    found = problems("2c8g", 1, "3c12g", 2)
    assert found == [
        "unknown master type '2c8g'; choose one of 4c16g, 8c32g, 16c64g, 24c96g",
        "unknown slave type '3c12g'; choose one of "
        "4c16g, 8c32g, 16c64g, 24c96g, 32c128g, 56c224g, 64c256g",
    ]
    # a master type is no slave type and the other way round
    assert "unknown slave type '4c16g'" not in " ".join(problems(slave="4c16g"))
    assert problems(master="32c128g")[0].startswith("unknown master type '32c128g'")
    assert len(problems(master="x" * 500)[0]) < 200  # the echo is cut short


def test_every_broken_rule_at_once() -> None:
    found = problems("nope", 2, "8c32g", 1)
    assert len(found) == 3
    assert found[0].startswith("unknown master type")
    assert "1 master, or 3" in found[1] and "at least 2 slaves" in found[2]


@pytest.mark.parametrize(
    ("master", "slave", "slaves", "usable", "cap", "fits", "bigger"),
    [
        ("4c16g", "4c16g", 27, 81, 80, 26, "8c32g or 16c64g or 24c96g"),
        ("4c16g", "4c16g", 30, 90, 80, 26, "8c32g or 16c64g or 24c96g"),
        ("8c32g", "56c224g", 4, 208, 160, 3, "16c64g or 24c96g"),
        ("16c64g", "64c256g", 14, 840, 800, 13, "24c96g"),
    ],
)
def test_the_master_type_caps_the_usable_cu(
    master: str, slave: str, slaves: int, usable: int, cap: int, fits: int, bigger: str
) -> None:
    slave_cu = CATALOG.find(catalog.SLAVE, slave)
    assert slave_cu is not None
    assert problems(master, 1, slave, slaves) == [
        f"the cluster's usable CU ({slaves} x {slave_cu.cu} CU of {slave} = {usable}) exceeds "
        f"the maximum of master type {master} ({cap} CU); choose at most {fits} slaves of type "
        f"{slave}, or master type {bigger}"
    ]
    assert problems(master, 1, slave, fits) == []


def test_the_cap_names_no_slave_count_below_two() -> None:
    """A 4c16g master (80 CU) holds a single 64c256g slave (60): no count of at least 2 fits."""
    (message,) = problems("4c16g", 1, "64c256g", 2)
    assert "slaves of type" not in message
    assert message.endswith("; choose master type 8c32g or 16c64g or 24c96g")


def test_the_cap_is_exact_at_the_boundary() -> None:
    assert problems("4c16g", 1, "4c16g", 26) == []  # 78 CU
    assert problems("8c32g", 1, "4c16g", 53) == []  # 159 CU
    assert problems("8c32g", 1, "8c32g", 26) == []  # 156 CU
    assert len(problems("8c32g", 1, "8c32g", 27)) == 1  # 162 CU


@pytest.mark.parametrize(
    ("cu", "months", "found"),
    [
        (1, 1, []),
        (2000, 36, []),
        (0, 1, ["shared mode sells 1 to 2000 CU per order; got 0"]),
        (2001, 1, ["shared mode sells 1 to 2000 CU per order; got 2001"]),
        (5, 0, ["months must be between 1 and 36; got 0"]),
        (5, 37, ["months must be between 1 and 36; got 37"]),
        (
            -1,
            -1,
            [
                "months must be between 1 and 36; got -1",
                "shared mode sells 1 to 2000 CU per order; got -1",
            ],
        ),
    ],
)
def test_shared_rules(cu: int, months: int, found: list[str]) -> None:
    assert [problem.en for problem in orders.shared_problems(cu, months)] == found


def test_every_problem_is_said_in_chinese_too() -> None:
    (cap,) = orders.exclusive_problems(CATALOG, "4c16g", 1, "4c16g", 27)
    assert cap.zh == (
        "集群的可用 CU（27 x 3 CU 的 4c16g = 81）超过了 master 机型 4c16g 的上限（80 CU），"
        "请选择最多 26 个 4c16g 机型的 slave，或更大的 master 机型 8c32g 或 16c64g 或 24c96g"
    )
    assert cap.text("zh-CN") == cap.zh and cap.text("en") == cap.en
    found = orders.exclusive_problems(CATALOG, "nope", 2, "8c32g", 1)
    assert [problem.zh for problem in found] == [
        "master 机型 'nope' 不存在，请从 4c16g, 8c32g, 16c64g, 24c96g 中选择",
        "集群有 1 个 master，高可用时为 3 个，而不是 2",
        "集群至少需要 2 个 slave，而不是 1",
    ]
    (months,) = orders.check_months(0)
    assert months.zh == "购买时长须在 1 到 36 个月之间，而不是 0"


def test_the_refusal_of_an_order_holds_every_problem_in_both_languages() -> None:
    found = orders.shared_problems(0, 0)
    refused = orders.refusal(found)
    assert isinstance(refused, errors.Invalid)
    assert refused.code == "InvalidParameter.Order"
    assert refused.message == (
        "months must be between 1 and 36; got 0; shared mode sells 1 to 2000 CU per order; got 0"
    )
    assert refused.text("zh-CN") == (
        "购买时长须在 1 到 36 个月之间，而不是 0；共享模式每个订单可购买 1 到 2000 CU，而不是 0"
    )
    single = found[0].error("InvalidParameter.Months")
    assert (single.code, single.message, single.zh) == (
        "InvalidParameter.Months",
        found[0].en,
        found[0].zh,
    )


def test_prices() -> None:
    assert orders.shared_amount(20_000, 3, 2) == 120_000
    master = CATALOG.find(catalog.MASTER, "4c16g")
    slave = CATALOG.find(catalog.SLAVE, "8c32g")
    assert master is not None and slave is not None
    assert orders.exclusive_month_cents(master, 1, slave, 2) == 60_000 + 2 * 120_000
    assert orders.exclusive_hour_cents(master, 3, slave, 2) == 3 * 120 + 2 * 240


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (orders.PENDING_PAYMENT, orders.PAID, True),
        (orders.PENDING_PAYMENT, orders.CANCELLED, True),
        (orders.PAID, orders.CONSUMED, True),
        (orders.CONSUMED, orders.EXPIRED, True),
        (orders.EXPIRED, orders.CONSUMED, True),
        (orders.PAID, orders.RELEASED, True),
        (orders.CONSUMED, orders.RELEASED, True),
        (orders.PAID, orders.PAID, False),  # paid twice
        (orders.PAID, orders.CANCELLED, False),  # a paid order is released, not cancelled
        (orders.CANCELLED, orders.PAID, False),
        (orders.PENDING_PAYMENT, orders.CONSUMED, False),  # nothing made of an unpaid order
        (orders.CONSUMED, orders.PAID, False),
        (orders.RELEASED, orders.CONSUMED, False),  # a released order is never used again
        (orders.PAID, orders.EXPIRED, False),
    ],
)
def test_order_moves(source: str, target: str, allowed: bool) -> None:
    assert orders.can_move(source, target) is allowed


def test_every_order_rule_names_its_race() -> None:
    for rule in orders.STATE_RULES:
        assert rule.sources <= set(orders.STATES) and rule.target in orders.STATES
        assert rule.why


@pytest.mark.parametrize(
    ("left", "months"),
    [
        # NOW is 1 March: calendar months end on 1 April (31 days), 1 May (61), 1 June (92)
        (timedelta(days=92), 3),
        (timedelta(days=62), 3),
        (timedelta(days=61), 2),
        (timedelta(days=31, seconds=1), 2),
        (timedelta(days=31), 1),
        (timedelta(days=30, seconds=1), 1),
        (timedelta(hours=1), 1),
        (timedelta(0), 1),
        (-timedelta(days=10), 1),  # expired: a scale is still paid for one month
    ],
)
def test_remaining_months(left: timedelta, months: int) -> None:
    assert orders.remaining_months(NOW + left, NOW) == months


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (datetime(2026, 1, 31, 9, 30, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),  # leap year
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 4, 30, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 2, datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 14, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 5, 10, tzinfo=UTC), 36, datetime(2029, 5, 10, tzinfo=UTC)),
    ],
)
def test_a_month_is_a_calendar_month_with_the_day_clamped(
    start: datetime, months: int, end: datetime
) -> None:
    assert orders.add_months(start, months) == end


def test_the_hourly_rate_is_the_types_hourly_prices_and_none_for_an_unknown_type() -> None:
    rate = orders.cluster_hour_cents(catalog.DEFAULT_CATALOG, "4c16g", 1, "8c32g", 2)
    assert rate == (4 + 2 * 8) * 30  # 0.30 per core and hour
    assert orders.cluster_hour_cents(catalog.DEFAULT_CATALOG, "4c16g", 1, "9c9g", 2) is None


def test_remaining_months_without_an_end() -> None:
    assert orders.remaining_months(None, NOW) == 1


S = clusters


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (S.STARTING, S.RUNNING, True),
        (S.SCALING_OUT, S.RUNNING, True),
        (S.SCALING_IN, S.RUNNING, True),
        (S.FAILED, S.RUNNING, True),
        (S.RUNNING, S.SCALING_OUT, True),
        (S.RUNNING, S.SCALING_IN, True),
        (S.STARTING, S.SCALING_OUT, False),  # a starting cluster does not scale
        (S.SCALING_OUT, S.SCALING_OUT, False),
        (S.SCALING_OUT, S.SCALING_IN, False),
        (S.FAILED, S.SCALING_OUT, False),
        (S.RUNNING, S.EXPIRED, True),
        (S.EXPIRED, S.STARTING, True),  # a renewal restarts it
        (S.EXPIRED, S.RUNNING, False),  # only through starting
        (S.RUNNING, S.RELEASING, True),
        (S.EXPIRED, S.RELEASING, True),
        (S.RELEASING, S.RELEASED, True),
        (S.RELEASING, S.RUNNING, False),  # release is final
        (S.RELEASING, S.FAILED, False),
        (S.RELEASING, S.EXPIRED, False),
        (S.RELEASED, S.STARTING, False),
        (S.RELEASED, S.RELEASING, False),
        (S.RUNNING, S.RELEASED, False),  # only the reconciler finishes a release
        (S.RUNNING, S.STARTING, False),
    ],
)
def test_cluster_moves(source: str, target: str, allowed: bool) -> None:
    assert clusters.can_move(source, target) is allowed


def test_every_cluster_transition_names_its_race() -> None:
    for rule in clusters.TRANSITIONS:
        assert rule.sources <= set(clusters.STATES) and rule.target in clusters.STATES
        assert rule.why
    # nothing leaves released
    assert not any(clusters.can_move(clusters.RELEASED, t) for t in clusters.STATES)
