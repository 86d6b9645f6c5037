"""The default catalog: machine types with their CU figures, and prices.

The CU figures are the guide's (独享模式集群配置): a slave type gives a fixed number of usable
CU (the rest runs the node's own services); a master type caps the whole cluster's CU. The
operator may change prices and add types; these rows seed an empty catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute.domain import names

# guide, glossary: 1 CU = 1 CPU core + 4 GB of memory
CORES_PER_CU = 1
MEMORY_GB_PER_CU = 4

MASTER = "master"
SLAVE = "slave"
ROLES = (MASTER, SLAVE)

TYPE_NAME = names.MACHINE_TYPE.compiled


@dataclass(frozen=True)
class MachineType:
    role: str
    name: str
    cores: int
    memory_gb: int
    # slave: usable CU; master: the cluster's maximum CU (None: no maximum)
    cu: int | None
    month_cents: int
    hour_cents: int


def _default(role: str, name: str, cu: int | None) -> MachineType:
    match = TYPE_NAME.fullmatch(name)
    assert match is not None
    cores, memory = int(match.group(1)), int(match.group(2))
    # list prices: 150.00 per core and month on subscription, 0.30 per core and hour
    return MachineType(role, name, cores, memory, cu, cores * 15000, cores * 30)


# guide, exclusive cluster configuration table: slave type -> usable CU
DEFAULT_SLAVES = tuple(
    _default(SLAVE, name, cu)
    for name, cu in (
        ("4c16g", 3),
        ("8c32g", 6),
        ("16c64g", 13),
        ("24c96g", 21),
        ("32c128g", 28),
        ("56c224g", 52),
        ("64c256g", 60),
    )
)
# guide, exclusive cluster configuration table: master type -> the cluster's maximum CU;
# 24c96g is "above 800": no maximum
DEFAULT_MASTERS = tuple(
    _default(MASTER, name, cu)
    for name, cu in (("4c16g", 80), ("8c32g", 160), ("16c64g", 800), ("24c96g", None))
)
DEFAULT_MACHINE_TYPES = DEFAULT_MASTERS + DEFAULT_SLAVES

# shared mode: 200.00 per CU and month
DEFAULT_SHARED_CU_MONTH_CENTS = 20000
DEFAULT_REGION_DISPLAY = "Local (this installation)"


@dataclass(frozen=True)
class Catalog:
    """What a region sells: machine types by role and name, and the shared CU price."""

    machine_types: tuple[MachineType, ...]
    shared_cu_month_cents: int

    def of_role(self, role: str) -> tuple[MachineType, ...]:
        return tuple(t for t in self.machine_types if t.role == role)

    def find(self, role: str, name: str) -> MachineType | None:
        for machine_type in self.machine_types:
            if machine_type.role == role and machine_type.name == name:
                return machine_type
        return None


DEFAULT_CATALOG = Catalog(DEFAULT_MACHINE_TYPES, DEFAULT_SHARED_CU_MONTH_CENTS)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def priced(cents: int, symbol: str) -> str:
    """An amount with its currency's symbol: `¥150.00`."""
    return f"{symbol}{money(cents)}"
