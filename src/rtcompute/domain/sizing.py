"""Sizing: records per second to CU, and CU to the cheapest exclusive-cluster machine mix.

Both answers come from the guide's rules of thumb (独享模式集群配置), so they live here as
pure arithmetic that the CLI, the API and the console's live calculator share. The quote
is an exact search, not a heuristic: for each slave type only one slave count can be the
cheapest (see `quote`), so the search is |slave types| x |master types| and takes
microseconds, well under the issue's 10 ms budget. A question the rules cannot answer is
an `errors.Invalid` (code InvalidParameter.Sizing) that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import catalog

# guide, 开通服务: a simple job (single-stream filter, string transformation) processes
# about 10,000 records/s per CU; a complex one (JOIN, WINDOW, GROUP BY) 1,000 to 5,000
SIMPLE_RECORDS_PER_CU = 10_000
COMPLEX_RECORDS_PER_CU = (1_000, 5_000)
SIMPLE = "simple"
COMPLEX = "complex"
COMPLEXITIES = (SIMPLE, COMPLEX)
MAX_QPS = 100_000_000

# guide, 独享模式集群配置: at least 2 slaves; masters 1, or 3 for a standby (HA)
MIN_SLAVES = 2
MASTERS_SINGLE = 1
MASTERS_HA = 3
# the largest CU a quote answers for: 167 of the biggest default slaves; beyond it the
# operator sizes by hand
MAX_QUOTE_CU = 10_000
SIZING_CODE = "InvalidParameter.Sizing"

# the parameter of `quote` is called `catalog`; keep the module's role names reachable
_SLAVE = catalog.SLAVE
_MASTER = catalog.MASTER


@dataclass(frozen=True)
class CuEstimate:
    """A CU range and why, in English (`reasoning`) and Chinese (`reasoning_zh`), made where
    the numbers are known, as errors carry both sentences."""

    low: int
    high: int
    reasoning: str
    reasoning_zh: str

    def reasoning_in(self, language: str) -> str:
        """The reasoning in `language` (a tag such as `zh-CN`)."""
        return (
            self.reasoning_zh if errors.language_of(language) == errors.CHINESE else self.reasoning
        )


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def cu_for_qps(qps: int, complexity: str) -> CuEstimate:
    """The guide's CU range for `qps` records per second of a simple or complex job."""
    if complexity not in COMPLEXITIES:
        raise errors.Invalid(
            f"complexity must be 'simple' or 'complex', not {complexity!r}",
            f"作业复杂度须为 'simple'（简单）或 'complex'（复杂），而不是 {complexity!r}",
            code=SIZING_CODE,
        )
    if qps < 1 or qps > MAX_QPS:
        raise errors.Invalid(
            f"qps must be between 1 and {MAX_QPS:,} records per second, not {qps:,}",
            f"QPS 须在每秒 1 到 {MAX_QPS:,} 条记录之间，而不是 {qps:,}",
            code=SIZING_CODE,
        )
    if complexity == SIMPLE:
        cu = _ceil_div(qps, SIMPLE_RECORDS_PER_CU)
        exact = qps % SIMPLE_RECORDS_PER_CU == 0
        rounded, rounded_zh = ("", "") if exact else (" (rounded up)", "（向上取整）")
        return CuEstimate(
            cu,
            cu,
            f"{qps:,} records/s at {SIMPLE_RECORDS_PER_CU:,} records/s per CU (simple jobs: "
            f"single-stream filtering, string transformation) needs {cu:,} CU{rounded}.",
            f"每秒 {qps:,} 条记录，按每 CU 每秒处理 {SIMPLE_RECORDS_PER_CU:,} 条（简单作业："
            f"单流过滤、字符串转换）计算，需要 {cu:,} CU{rounded_zh}。",
        )
    slow, fast = COMPLEX_RECORDS_PER_CU
    low, high = _ceil_div(qps, fast), _ceil_div(qps, slow)
    return CuEstimate(
        low,
        high,
        f"{qps:,} records/s at {slow:,}-{fast:,} records/s per CU (complex jobs: JOIN, WINDOW, "
        f"GROUP BY) needs {low:,} to {high:,} CU. Start near the high end for large joins "
        "or windows, and measure.",
        f"每秒 {qps:,} 条记录，按每 CU 每秒处理 {slow:,}-{fast:,} 条（复杂作业：JOIN、WINDOW、"
        f"GROUP BY）计算，需要 {low:,} 到 {high:,} CU。大型 JOIN 或窗口请从较高的一端开始，"
        "并实测调整。",
    )


@dataclass(frozen=True)
class Quote:
    slave: catalog.MachineType
    slave_count: int
    master: catalog.MachineType
    master_count: int
    usable_cu: int
    month_cents: int
    hour_cents: int


def _price_key(quote: Quote) -> tuple[int, int, int, str, str]:
    # cheapest per month; ties: fewer nodes, then cheaper per hour; names make it stable
    nodes = quote.slave_count + quote.master_count
    return (quote.month_cents, nodes, quote.hour_cents, quote.slave.name, quote.master.name)


def _cheapest_master(
    masters: tuple[catalog.MachineType, ...], usable_cu: int
) -> catalog.MachineType | None:
    fitting = [m for m in masters if m.cu is None or m.cu >= usable_cu]
    if not fitting:
        return None
    return min(fitting, key=lambda m: (m.month_cents, m.hour_cents, m.name))


def quote(cu: int, ha: bool, catalog: catalog.Catalog) -> Quote:
    """The cheapest slave x count + master x count that gives at least `cu` usable CU.

    Why one slave count per slave type is enough (prices are per node and not negative):
    fix a slave type S and let n0 = max(MIN_SLAVES, ceil(cu / S.cu)), the fewest slaves
    of S that reach `cu`. For any n > n0:
    - the slaves cost n * S.price >= n0 * S.price (month and hour);
    - usable CU n * S.cu >= n0 * S.cu, so every master type whose cap admits n slaves
      also admits n0: the set of fitting masters can only shrink as n grows, and the
      cheapest fitting master at n costs at least as much as the one at n0 (and if none
      fits n0, none fits n);
    - the node count n + masters is strictly larger.
    So (month, nodes) at n is never below n0's and nodes are strictly more: n loses the
    ordering (month, nodes, hour) to n0. With the master fixed per (S, n) as the cheapest
    fitting one by (month, hour), trying n0 for every S is an exact search.
    """
    if cu < 1 or cu > MAX_QUOTE_CU:
        raise errors.Invalid(
            f"cu must be between 1 and {MAX_QUOTE_CU:,}, not {cu:,}",
            f"CU 须在 1 到 {MAX_QUOTE_CU:,} 之间，而不是 {cu:,}",
            code=SIZING_CODE,
        )
    master_count = MASTERS_HA if ha else MASTERS_SINGLE
    masters = catalog.of_role(_MASTER)
    best: Quote | None = None
    for slave in catalog.of_role(_SLAVE):
        if slave.cu is None or slave.cu < 1:
            continue  # a slave type that gives no CU cannot be part of a quote
        count = max(MIN_SLAVES, _ceil_div(cu, slave.cu))
        usable = count * slave.cu
        master = _cheapest_master(masters, usable)
        if master is None:
            continue
        candidate = Quote(
            slave=slave,
            slave_count=count,
            master=master,
            master_count=master_count,
            usable_cu=usable,
            month_cents=count * slave.month_cents + master_count * master.month_cents,
            hour_cents=count * slave.hour_cents + master_count * master.hour_cents,
        )
        if best is None or _price_key(candidate) < _price_key(best):
            best = candidate
    if best is None:
        why, why_zh = _why_none(catalog)
        raise errors.Invalid(
            f"no machine mix in the catalog gives {cu:,} usable CU: {why}",
            f"价目表中没有能提供 {cu:,} 可用 CU 的机型组合：{why_zh}",
            code=SIZING_CODE,
        )
    return best


def _why_none(catalog: catalog.Catalog) -> tuple[str, str]:
    """Why no mix fits, in English and Chinese."""
    masters = catalog.of_role(_MASTER)
    if not masters:
        return "the catalog has no master type", "价目表中没有 master 机型"
    if not any(s.cu is not None and s.cu >= 1 for s in catalog.of_role(_SLAVE)):
        return (
            "the catalog has no slave type with usable CU",
            "价目表中没有提供可用 CU 的 slave 机型",
        )
    # every master has a cap here, or a slave type and an uncapped master would have fit
    largest = max(masters, key=lambda m: m.cu or 0)
    return (
        f"the largest master type, {largest.name}, allows at most {largest.cu:,} CU",
        f"最大的 master 机型 {largest.name} 最多支持 {largest.cu:,} CU",
    )
