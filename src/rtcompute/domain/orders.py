"""Orders: what may be bought, what it costs, and the moves of its state.

The rules are the guide's (开通服务, 独享模式集群配置): masters 1 or 3, at least 2 slaves, the
cluster's usable CU within its master type's maximum. Each refusal says which rule failed and
what would fit, so a user can correct the order in one step; it is a `Problem` in English and
Chinese, and `refusal` makes the error of an order's problems (one code, every rule at once).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rtcompute import errors
from rtcompute.domain import catalog as catalog_module
from rtcompute.domain import clusters

SHARED = "shared"
EXCLUSIVE = "exclusive"
MODES = (SHARED, EXCLUSIVE)
SUBSCRIPTION = "subscription"
PAYG = "payg"
BILLINGS = (SUBSCRIPTION, PAYG)
NEW = "new"
RENEW = "renew"
SCALE_OUT = "scale_out"
SCALE_IN = "scale_in"
PURPOSES = (NEW, RENEW, SCALE_OUT, SCALE_IN)

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
CONSUMED = "consumed"
EXPIRED = "expired"
RELEASED = "released"
CANCELLED = "cancelled"
STATES = (PENDING_PAYMENT, PAID, CONSUMED, EXPIRED, RELEASED, CANCELLED)
# the Chinese of the states and modes, for the sentences of errors
STATES_ZH = {
    PENDING_PAYMENT: "待支付",
    PAID: "已支付",
    CONSUMED: "已使用",
    EXPIRED: "已过期",
    RELEASED: "已释放",
    CANCELLED: "已取消",
}
MODES_ZH = {SHARED: "共享模式", EXCLUSIVE: "独享模式"}

# purchase limits (the guide's console offers 1-36 months and up to a few thousand CU)
MIN_MONTHS, MAX_MONTHS = 1, 36
MIN_SHARED_CU, MAX_SHARED_CU = 1, 2000
ORDER_CODE = "InvalidParameter.Order"
AGREEMENT_CODE = "InvalidParameter.ServiceAgreement"


@dataclass(frozen=True)
class Problem:
    """One broken purchase rule, in English and in Chinese."""

    en: str
    zh: str

    def text(self, language: str) -> str:
        """The sentence in `language` (a tag such as `zh-CN`)."""
        return self.zh if errors.language_of(language) == errors.CHINESE else self.en

    def error(self, code: str) -> errors.Invalid:
        """This one problem as the error of a single field."""
        return errors.Invalid(self.en, self.zh, code=code)


def refusal(problems: Sequence[Problem]) -> errors.Invalid:
    """The error of an order that breaks `problems`: every rule at once."""
    return errors.Invalid(
        "; ".join(p.en for p in problems), "；".join(p.zh for p in problems), code=ORDER_CODE
    )


@dataclass(frozen=True)
class StateRule:
    """FROM -> TO; `why` names the race it prevents."""

    sources: frozenset[str]
    target: str
    why: str


STATE_RULES = (
    StateRule(
        frozenset({PENDING_PAYMENT}),
        PAID,
        "an order is paid once: a second payment (or approval) of the same order is refused",
    ),
    StateRule(
        frozenset({PENDING_PAYMENT}), CANCELLED, "a paid order is not cancelled; it is released"
    ),
    StateRule(
        frozenset({PAID}),
        CONSUMED,
        "one order makes one project or cluster: two creations racing for it, one wins",
    ),
    StateRule(frozenset({CONSUMED}), EXPIRED, "only what was made from an order expires"),
    StateRule(
        frozenset({PAID, CONSUMED, EXPIRED}),
        RELEASED,
        "a released order's capacity is gone; it is never consumed again",
    ),
    StateRule(frozenset({EXPIRED}), CONSUMED, "a renewal brings an expired order back"),
)


def can_move(source: str, target: str) -> bool:
    return any(source in rule.sources and rule.target == target for rule in STATE_RULES)


def check_months(months: int) -> list[Problem]:
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        return [
            Problem(
                f"months must be between {MIN_MONTHS} and {MAX_MONTHS}; got {months}",
                f"购买时长须在 {MIN_MONTHS} 到 {MAX_MONTHS} 个月之间，而不是 {months}",
            )
        ]
    return []


def shared_problems(cu: int, months: int) -> list[Problem]:
    problems = check_months(months)
    if not MIN_SHARED_CU <= cu <= MAX_SHARED_CU:
        problems.append(
            Problem(
                f"shared mode sells {MIN_SHARED_CU} to {MAX_SHARED_CU} CU per order; got {cu}",
                f"共享模式每个订单可购买 {MIN_SHARED_CU} 到 {MAX_SHARED_CU} CU，而不是 {cu}",
            )
        )
    return problems


def _names(types: tuple[catalog_module.MachineType, ...]) -> str:
    return ", ".join(t.name for t in types)


def exclusive_problems(
    catalog: catalog_module.Catalog,
    master_type: str,
    master_count: int,
    slave_type: str,
    slave_count: int,
) -> list[Problem]:
    """Every broken sizing rule of an exclusive cluster, each with what would fit."""
    problems: list[Problem] = []
    master = catalog.find(catalog_module.MASTER, master_type)
    slave = catalog.find(catalog_module.SLAVE, slave_type)
    if master is None:
        masters = _names(catalog.of_role(catalog_module.MASTER))
        problems.append(
            Problem(
                f"unknown master type {master_type[:32]!r}; choose one of {masters}",
                f"master 机型 {master_type[:32]!r} 不存在，请从 {masters} 中选择",
            )
        )
    if slave is None:
        slaves = _names(catalog.of_role(catalog_module.SLAVE))
        problems.append(
            Problem(
                f"unknown slave type {slave_type[:32]!r}; choose one of {slaves}",
                f"slave 机型 {slave_type[:32]!r} 不存在，请从 {slaves} 中选择",
            )
        )
    if master_count not in clusters.MASTER_COUNTS:
        problems.append(
            Problem(
                f"a cluster has 1 master, or 3 for high availability; got {master_count}",
                f"集群有 1 个 master，高可用时为 3 个，而不是 {master_count}",
            )
        )
    if slave_count < clusters.MIN_SLAVES:
        problems.append(
            Problem(
                f"a cluster needs at least {clusters.MIN_SLAVES} slaves; got {slave_count}",
                f"集群至少需要 {clusters.MIN_SLAVES} 个 slave，而不是 {slave_count}",
            )
        )
    elif slave_count > clusters.MAX_SLAVES:
        problems.append(
            Problem(
                f"a cluster has at most {clusters.MAX_SLAVES} slaves; got {slave_count}",
                f"集群最多有 {clusters.MAX_SLAVES} 个 slave，而不是 {slave_count}",
            )
        )
    if master is None or slave is None or slave.cu is None or problems:
        return problems
    usable = clusters.usable_cu(slave.cu, slave_count)
    if master.cu is not None and usable > master.cu:
        problems.append(cap_problem(catalog, master, slave, slave_count))
    return problems


def cap_problem(
    catalog: catalog_module.Catalog,
    master: catalog_module.MachineType,
    slave: catalog_module.MachineType,
    slave_count: int,
) -> Problem:
    """The master-cap rule's message: the numbers, and the two ways to make it fit."""
    assert slave.cu is not None and master.cu is not None
    usable = clusters.usable_cu(slave.cu, slave_count)
    fits = max_slaves(master, slave)
    bigger = [
        t.name for t in catalog.of_role(catalog_module.MASTER) if t.cu is None or t.cu >= usable
    ]
    ways: list[str] = []
    ways_zh: list[str] = []
    if fits >= clusters.MIN_SLAVES:
        ways.append(f"at most {fits} slaves of type {slave.name}")
        ways_zh.append(f"最多 {fits} 个 {slave.name} 机型的 slave")
    if bigger:
        ways.append(f"master type {' or '.join(bigger)}")
        ways_zh.append(f"更大的 master 机型 {' 或 '.join(bigger)}")
    advice = f"; choose {', or '.join(ways)}" if ways else ""
    advice_zh = f"，请选择{'，或'.join(ways_zh)}" if ways_zh else ""
    return Problem(
        f"the cluster's usable CU ({slave_count} x {slave.cu} CU of {slave.name} = {usable}) "
        f"exceeds the maximum of master type {master.name} ({master.cu} CU){advice}",
        f"集群的可用 CU（{slave_count} x {slave.cu} CU 的 {slave.name} = {usable}）"
        f"超过了 master 机型 {master.name} 的上限（{master.cu} CU）{advice_zh}",
    )


def max_slaves(master: catalog_module.MachineType, slave: catalog_module.MachineType) -> int:
    if master.cu is None or not slave.cu:
        return clusters.MAX_SLAVES
    return min(master.cu // slave.cu, clusters.MAX_SLAVES)


def shared_amount(cu_month_cents: int, cu: int, months: int) -> int:
    return cu_month_cents * cu * months


def exclusive_month_cents(
    master: catalog_module.MachineType,
    master_count: int,
    slave: catalog_module.MachineType,
    slave_count: int,
) -> int:
    return master.month_cents * master_count + slave.month_cents * slave_count


def exclusive_hour_cents(
    master: catalog_module.MachineType,
    master_count: int,
    slave: catalog_module.MachineType,
    slave_count: int,
) -> int:
    return master.hour_cents * master_count + slave.hour_cents * slave_count


def add_months(start: datetime, months: int) -> datetime:
    """`start` moved by calendar months, the day clamped to the month's last day (Jan 31 + 1
    month = Feb 28 or 29): a subscription month is a calendar month, as a buyer expects."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def remaining_months(expires_at: datetime | None, now: datetime) -> int:
    """Calendar months left of a subscription, rounded up, at least 1 (a scale-out is paid to
    the end): the fewest months that, added to now, reach the end."""
    if expires_at is None or expires_at <= now:
        return 1
    months = 1
    while add_months(now, months) < expires_at and months < MAX_MONTHS * 100:
        months += 1
    return months


def cluster_hour_cents(
    catalog: catalog_module.Catalog,
    master_type: str,
    master_count: int,
    slave_type: str,
    slave_count: int,
) -> int | None:
    """The hourly rate of a pay-as-you-go cluster of this shape: what the meter records for
    each hour it holds its nodes (the types' own hourly prices, not a month divided); None
    when the catalog no longer sells a type."""
    master = catalog.find(catalog_module.MASTER, master_type)
    slave = catalog.find(catalog_module.SLAVE, slave_type)
    if master is None or slave is None:
        return None
    return exclusive_hour_cents(master, master_count, slave, slave_count)


def agreement_refusal() -> errors.Invalid:
    """An order placed without accepting the service agreement (guide: 勾选服务协议)."""
    return errors.Invalid(
        "Read and accept the service agreement to place an order.",
        "请阅读并同意服务协议后再下单。",
        code=AGREEMENT_CODE,
    )
