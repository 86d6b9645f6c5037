"""Networks, subnets and zones: the self-hosted stand-ins for VPC, VSwitch and Zone.

A tenant's network is a private IPv4 block, its subnets are non-overlapping blocks inside
it, and a cluster's nodes take addresses from one subnet. The rules copy a cloud VPC
(private ranges only, a few reserved addresses per subnet) so that a configuration that
works here reads the same as the guide's; nothing here touches a real interface.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence

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

# network, subnet and zone names
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{1,63}")
NAME_RULE = "2-64 characters: letters, digits, '-' and '_', starting with a letter"

MAX_NODES_PER_TYPE = 100_000

_CIDR_SHAPE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[1-9]?[0-9]")


def parse_cidr(text: str) -> ipaddress.IPv4Network:
    """A private IPv4 block in a.b.c.d/n form with no host bits set."""
    if not _CIDR_SHAPE.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an IPv4 CIDR block such as 10.0.0.0/16 (IPv4 only, with a prefix)"
        )
    try:
        network = ipaddress.IPv4Network(text, strict=False)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid IPv4 CIDR block: {exc}") from None
    if ipaddress.IPv4Address(text.split("/")[0]) != network.network_address:
        raise ValueError(f"{text} has host bits set: did you mean {network}?")
    if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
        ranges = ", ".join(str(r) for r in PRIVATE_RANGES)
        raise ValueError(f"{text} is not a private block: use one inside {ranges}")
    return network


def _check_prefix(kind: str, network: ipaddress.IPv4Network, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= network.prefixlen <= high:
        raise ValueError(
            f"a {kind} prefix must be between /{low} and /{high}; "
            f"{network} has /{network.prefixlen}"
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
        raise ValueError(f"subnet {subnet} is not inside its network {network}")
    for sibling in siblings:
        if subnet.overlaps(sibling):
            raise ValueError(f"subnet {subnet} overlaps the existing subnet {sibling}")
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
    """The `count` lowest usable addresses of `subnet` not in `taken`."""
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    busy = _taken_in(subnet, taken)
    free = usable_addresses(subnet) - len(busy)
    if free < count:
        raise ValueError(f"subnet {subnet} has {free} free addresses; {count} are needed")
    chosen: list[str] = []
    for number in _usable_range(subnet):
        if len(chosen) == count:
            break
        if number not in busy:
            chosen.append(str(ipaddress.IPv4Address(number)))
    return chosen


def check_name(kind: str, name: str) -> str:
    """A network, subnet or zone name; the message names the `kind`."""
    if not NAME.fullmatch(name):
        raise ValueError(f"{kind} name must be {NAME_RULE}; got {name!r}")
    return name


def _type_order(name: str) -> tuple[list[int], str]:
    # 4c16g before 16c64g: by the numbers in the name, then the name
    return ([int(d) for d in re.findall(r"[0-9]+", name)], name)


def parse_capacity(raw: Mapping[str, object], known_types: Collection[str]) -> dict[str, int]:
    """A zone's host capacity: machine type name -> how many nodes of it the zone can place."""
    if not isinstance(raw, Mapping):
        raise ValueError("capacity must be an object of machine type name -> node count")
    known = ", ".join(sorted(set(known_types), key=_type_order)) or "none"
    capacity: dict[str, int] = {}
    for name, count in raw.items():
        if not isinstance(name, str) or name not in known_types:
            raise ValueError(f"unknown machine type {name!r} in capacity; known types: {known}")
        if isinstance(count, bool) or not isinstance(count, int):
            raise ValueError(f"capacity of {name} must be a whole number, not {count!r}")
        if not 0 <= count <= MAX_NODES_PER_TYPE:
            raise ValueError(
                f"capacity of {name} must be between 0 and {MAX_NODES_PER_TYPE:,}, not {count:,}"
            )
        capacity[name] = count
    return capacity
