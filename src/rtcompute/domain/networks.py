"""Networks, subnets and zones: the self-hosted stand-ins for VPC, VSwitch and Zone.

A tenant's network is a private IPv4 block, its subnets are non-overlapping blocks inside
it, and a cluster's nodes take addresses from one subnet. The rules copy a cloud VPC
(private ranges only, a few reserved addresses per subnet) so that a configuration that
works here reads the same as the guide's; nothing here touches a real interface. A
refusal is an `errors.Invalid` with the code the API has always answered for that field.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence

from rtcompute import errors

# RFC 1918: the ranges a VPC accepts
PRIVATE_RANGES = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
# prefix lengths, inclusive: a network from /8 to /24, a subnet from /16 to /29
NETWORK_PREFIXES = (8, 24)
SUBNET_PREFIXES = (16, 29)
# like a cloud VSwitch: the network address, the gateway, DNS, and the broadcast address
RESERVED_PER_SUBNET = 4
_RESERVED_AT_START = 3

MAX_NODES_PER_TYPE = 100_000

CIDR_CODE = "InvalidParameter.CidrBlock"
CAPACITY_CODE = "InvalidParameter.Capacity"
# what each kind is called in Chinese, and the code of a refused name
_NAME_KINDS = {
    "network": ("专有网络", "InvalidParameter.NetworkName"),
    "subnet": ("交换机", "InvalidParameter.SubnetName"),
    "zone": ("可用区", "InvalidParameter.ZoneName"),
}

_CIDR_SHAPE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[1-9]?[0-9]")


def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """A private IPv4 block in a.b.c.d/n form with no host bits set."""
    if not _CIDR_SHAPE.fullmatch(text):
        raise errors.Invalid(
            f"{text!r} is not an IPv4 CIDR block such as 10.0.0.0/16 (IPv4 only, with a prefix)",
            f"{text!r} 不是 10.0.0.0/16 这样的 IPv4 CIDR 地址块（仅支持 IPv4，须带前缀长度）",
            code=CIDR_CODE,
        )
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError as exc:
        raise errors.Invalid(
            f"{text!r} is not a valid IPv4 CIDR block: {exc}",
            f"{text!r} 不是有效的 IPv4 CIDR 地址块：每段地址须在 0 到 255 之间，前缀长度不超过 32",
            code=CIDR_CODE,
        ) from None
    if ipaddress.IPv4Address(text.split("/")[0]) != network.network_address:
        raise errors.Invalid(
            f"{text} has host bits set: did you mean {network}?",
            f"{text} 的主机位不为 0：是否想填 {network}？",
            code=CIDR_CODE,
        )
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        ranges = ", ".join(str(r) for r in PRIVATE_RANGES)
        raise errors.Invalid(
            f"{text} is not a private block: use one inside {ranges}",
            f"{text} 不是私网地址块：请使用 {ranges} 之内的地址块",
            code=CIDR_CODE,
        )
    return network


def _check_prefix(kind: str, network: ipaddress.IPv4Network, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= network.prefixlen <= high:
        raise errors.Invalid(
            f"a {kind} prefix must be between /{low} and /{high}; "
            f"{network} has /{network.prefixlen}",
            f"{_NAME_KINDS[kind][0]}的前缀长度须在 /{low} 到 /{high} 之间，"
            f"{network} 的前缀长度为 /{network.prefixlen}",
            code=CIDR_CODE,
        )


def check_network_cidr(text: str) -> ipaddress.IPv4Network:
    """A network's block: private, /8 to /24."""
    network = parse_cidr(text)
    _check_prefix("network", network, NETWORK_PREFIXES)
    return network


def check_subnet_cidr(
    text: str,
    network: ipaddress.IPv4Network,
    siblings: Sequence[ipaddress.IPv4Network],
) -> ipaddress.IPv4Network:
    """A subnet's block: /16 to /29, inside `network`, overlapping no sibling subnet."""
    subnet = parse_cidr(text)
    _check_prefix("subnet", subnet, SUBNET_PREFIXES)
    if not subnet.subnet_of(network):
        raise errors.Invalid(
            f"subnet {subnet} is not inside its network {network}",
            f"交换机网段 {subnet} 不在其专有网络 {network} 之内",
            code=CIDR_CODE,
        )
    for sibling in siblings:
        if subnet.overlaps(sibling):
            raise errors.Invalid(
                f"subnet {subnet} overlaps the existing subnet {sibling}",
                f"交换机网段 {subnet} 与已有交换机网段 {sibling} 重叠",
                code=CIDR_CODE,
            )
    return subnet


def usable_addresses(subnet: ipaddress.IPv4Network) -> int:
    """How many addresses nodes may take: all but the reserved ones."""
    return max(0, subnet.num_addresses - RESERVED_PER_SUBNET)


def _usable_range(subnet: ipaddress.IPv4Network) -> range:
    first = int(subnet.network_address) + _RESERVED_AT_START
    last = int(subnet.broadcast_address) - 1  # the broadcast address is reserved
    return range(first, max(first, last + 1))


def _taken_in(subnet: ipaddress.IPv4Network, taken: Collection[str]) -> set[int]:
    # addresses that do not parse or lie outside the usable range take nothing here
    usable = _usable_range(subnet)
    numbers = set()
    for address in taken:
        try:
            number = int(ipaddress.IPv4Address(address))
        except ValueError:
            continue
        if number in usable:
            numbers.add(number)
    return numbers


def free_addresses(subnet: ipaddress.IPv4Network, taken: Collection[str]) -> int:
    """Usable addresses of `subnet` that are not in `taken`."""
    return usable_addresses(subnet) - len(_taken_in(subnet, taken))


def next_free(subnet: ipaddress.IPv4Network, taken: Collection[str], count: int) -> list[str]:
    """The `count` lowest usable addresses of `subnet` not in `taken`.

    The caller counts the free addresses first and refuses the user (QuotaExceeded), so
    the two checks here guard the arithmetic, not the user's input.
    """
    if count < 0:  # invariant: a node count is never negative
        raise ValueError(f"count must not be negative, not {count}")
    busy = _taken_in(subnet, taken)
    free = usable_addresses(subnet) - len(busy)
    if free < count:  # invariant: networks.allocate refused a subnet with too few first
        raise ValueError(f"subnet {subnet} has {free} free addresses; {count} are needed")
    chosen: list[str] = []
    for number in _usable_range(subnet):
        if len(chosen) == count:
            break
        if number not in busy:
            chosen.append(str(ipaddress.IPv4Address(number)))
    return chosen


def _type_order(name: str) -> tuple[list[int], str]:
    # 4c16g before 16c64g: by the numbers in the name, then the name
    return ([int(d) for d in re.findall(r"[0-9]+", name)], name)


def parse_capacity(raw: Mapping[str, object], known_types: Collection[str]) -> dict[str, int]:
    """A zone's host capacity: machine type name -> how many nodes of it the zone can place."""
    if not isinstance(raw, Mapping):
        raise errors.Invalid(
            "capacity must be an object of machine type name -> node count",
            "容量须为“机型名称 -> 节点数”的对象",
            code=CAPACITY_CODE,
        )
    ordered = sorted(set(known_types), key=_type_order)
    known = ", ".join(ordered) or "none"
    known_zh = ", ".join(ordered) or "无"
    capacity: dict[str, int] = {}
    for name, count in raw.items():
        if not isinstance(name, str) or name not in known_types:
            raise errors.Invalid(
                f"unknown machine type {name!r} in capacity; known types: {known}",
                f"容量中的机型 {name!r} 不存在；已有机型：{known_zh}",
                code=CAPACITY_CODE,
            )
        if isinstance(count, bool) or not isinstance(count, int):
            raise errors.Invalid(
                f"capacity of {name} must be a whole number, not {count!r}",
                f"{name} 的容量须为整数，而不是 {count!r}",
                code=CAPACITY_CODE,
            )
        if not 0 <= count <= MAX_NODES_PER_TYPE:
            raise errors.Invalid(
                f"capacity of {name} must be between 0 and {MAX_NODES_PER_TYPE:,}, not {count:,}",
                f"{name} 的容量须在 0 到 {MAX_NODES_PER_TYPE:,} 之间，而不是 {count:,}",
                code=CAPACITY_CODE,
            )
        capacity[name] = count
    return capacity


# --- can a zone and a subnet hold an order? one rule, for the wizard, the API and creation


def nodes_needed(
    master_type: str, master_count: int, slave_type: str, slave_count: int
) -> dict[str, int]:
    """Machine type -> nodes of it a cluster takes (masters and slaves may share a type)."""
    needed: dict[str, int] = {}
    for name, count in ((master_type, master_count), (slave_type, slave_count)):
        needed[name] = needed.get(name, 0) + count
    return needed


def zone_shortfall(
    needed: Mapping[str, int], remaining: Mapping[str, int]
) -> tuple[str, int, int] | None:
    """The first machine type the zone lacks room for: (type, left, needed); None if it fits."""
    for machine_type, count in sorted(needed.items()):
        left = remaining.get(machine_type, 0)
        if count > left:
            return machine_type, left, count
    return None


def zone_refusal(
    zone: str, needed: Mapping[str, int], remaining: Mapping[str, int]
) -> errors.QuotaExceeded | None:
    """Why `zone` cannot place `needed` (the guide's "no zone to choose"), or None."""
    short = zone_shortfall(needed, remaining)
    if short is None:
        return None
    machine_type, left, count = short
    return errors.QuotaExceeded(
        f"zone {zone} can place {left} more {machine_type} nodes but {count} are needed: pick "
        f"another zone or ask the operator to register more {machine_type} capacity in {zone}",
        f"可用区 {zone} 还能放置 {left} 个 {machine_type} 节点，但需要 {count} 个：请选择其他"
        f"可用区，或请运维人员为 {zone} 登记更多 {machine_type} 容量",
        code="ZoneCapacityExceeded",
    )


def subnet_refusal(subnet: str, cidr: str, free: int, count: int) -> errors.QuotaExceeded | None:
    """Why a subnet with `free` addresses cannot take `count` nodes (the guide: a VSwitch's
    free IPs must be at least the cluster's node count), or None."""
    if count <= free:
        return None
    return errors.QuotaExceeded(
        f"subnet {subnet} ({cidr}) has {free} free addresses but {count} are needed, one per "
        "node: choose a subnet with more free addresses or create a larger one",
        f"交换机 {subnet}（{cidr}）只有 {free} 个空闲地址，但需要 {count} 个（每个节点一个）："
        "请选择空闲地址更多的交换机，或创建一个更大的交换机",
        code="SubnetAddressesExhausted",
    )
