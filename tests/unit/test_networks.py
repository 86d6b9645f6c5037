"""Network, subnet and zone rules: private CIDR blocks, overlaps, addresses, names, capacity."""

from __future__ import annotations

import ipaddress

import pytest

from rtcompute import errors
from rtcompute.domain import names, networks


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


# --- parse_cidr -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["10.0.0.0/8", "10.1.0.0/16", "172.16.0.0/12", "172.31.255.0/24", "192.168.1.0/29"]
)
def test_private_blocks_parse(text: str) -> None:
    assert networks.parse_cidr(text) == net(text)
    assert isinstance(networks.parse_cidr(text), ipaddress.IPv4Network)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10.0.0.1/8", "host bits set: did you mean 10.0.0.0/8"),
        ("192.168.1.5/24", "did you mean 192.168.1.0/24"),
        ("8.8.8.0/24", "not a private block"),
        ("172.32.0.0/16", "not a private block"),
        ("172.0.0.0/8", "not a private block"),  # contains 172.16/12 but is larger
        ("0.0.0.0/0", "not a private block"),
        ("11.0.0.0/8", "not a private block"),
        ("10.0.0.0", "IPv4 only, with a prefix"),
        ("fd00::/8", "IPv4 only"),
        ("10.0.0.0/255.0.0.0", "IPv4 only, with a prefix"),
        ("10.0.0.0/08", "IPv4 only, with a prefix"),
        (" 10.0.0.0/8", "not an IPv4 CIDR block"),
        ("10.0.0.0/8\n", "not an IPv4 CIDR block"),
        ("10.0.0.0/33", "not a valid IPv4 CIDR block"),
        ("256.0.0.0/8", "not a valid IPv4 CIDR block"),
        ("010.0.0.0/8", "not a valid IPv4 CIDR block"),
        ("", "not an IPv4 CIDR block"),
    ],
)
def test_bad_blocks_are_refused(text: str, words: str) -> None:
    with pytest.raises(errors.Invalid, match=words):
        networks.parse_cidr(text)


@pytest.mark.parametrize(
    ("text", "ok"),
    [("10.0.0.0/8", True), ("10.0.0.0/24", True), ("10.0.0.0/25", False), ("10.0.0.0/29", False)],
)
def test_network_prefixes(text: str, ok: bool) -> None:
    assert networks.NETWORK_PREFIXES == (8, 24)
    if ok:
        assert networks.check_network_cidr(text) == net(text)
    else:
        with pytest.raises(errors.Invalid, match=r"network prefix must be between /8 and /24"):
            networks.check_network_cidr(text)


def test_network_cidr_is_private_and_strict_too() -> None:
    with pytest.raises(errors.Invalid, match="not a private block"):
        networks.check_network_cidr("100.64.0.0/10")
    with pytest.raises(errors.Invalid, match="host bits"):
        networks.check_network_cidr("10.0.0.1/16")


# --- check_subnet_cidr ------------------------------------------------------------------


def test_subnet_inside_its_network() -> None:
    network = net("10.0.0.0/16")
    assert networks.check_subnet_cidr("10.0.1.0/24", network, []) == net("10.0.1.0/24")
    # a subnet may span its whole network, like a VSwitch the size of its VPC
    assert networks.check_subnet_cidr("10.0.0.0/16", network, []) == network


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10.1.0.0/24", "not inside its network 10.0.0.0/16"),
        ("10.0.0.0/15", "subnet prefix must be between /16 and /29"),
        ("10.0.0.0/30", "subnet prefix must be between /16 and /29"),
        ("10.0.0.8/28", "did you mean 10.0.0.0/28"),
        ("192.168.0.0/24", "not inside its network"),
    ],
)
def test_bad_subnets_are_refused(text: str, words: str) -> None:
    with pytest.raises(errors.Invalid, match=words):
        networks.check_subnet_cidr(text, net("10.0.0.0/16"), [])


def test_subnets_must_not_overlap_siblings() -> None:
    network = net("10.0.0.0/16")
    siblings = [net("10.0.0.0/24"), net("10.0.4.0/22")]
    assert networks.check_subnet_cidr("10.0.1.0/24", network, siblings) == net("10.0.1.0/24")
    assert networks.check_subnet_cidr("10.0.8.0/29", network, siblings) == net("10.0.8.0/29")
    with pytest.raises(errors.Invalid, match=r"overlaps the existing subnet 10\.0\.4\.0/22"):
        networks.check_subnet_cidr("10.0.5.0/24", network, siblings)  # inside a sibling
    with pytest.raises(errors.Invalid, match=r"overlaps the existing subnet 10\.0\.0\.0/24"):
        networks.check_subnet_cidr("10.0.0.0/23", network, siblings)  # contains a sibling
    with pytest.raises(errors.Invalid, match=r"overlaps the existing subnet 10\.0\.0\.0/24"):
        networks.check_subnet_cidr("10.0.0.0/24", network, siblings)  # the same block


# --- addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "usable"), [("10.0.0.0/29", 4), ("10.0.0.0/24", 252)])
def test_usable_addresses_leave_four_reserved(text: str, usable: int) -> None:
    assert networks.RESERVED_PER_SUBNET == 4
    assert networks.usable_addresses(net(text)) == usable
    assert networks.free_addresses(net(text), []) == usable


def test_next_free_skips_the_reserved_and_taken_addresses() -> None:
    subnet = net("192.168.0.0/29")  # .0 network, .1 gateway, .2 DNS, .7 broadcast
    assert networks.next_free(subnet, [], 4) == [
        "192.168.0.3",
        "192.168.0.4",
        "192.168.0.5",
        "192.168.0.6",
    ]
    assert networks.next_free(subnet, ["192.168.0.4"], 2) == ["192.168.0.3", "192.168.0.5"]
    assert networks.next_free(subnet, {"192.168.0.3", "192.168.0.5"}, 2) == [
        "192.168.0.4",
        "192.168.0.6",
    ]
    assert networks.next_free(subnet, [], 0) == []


def test_free_addresses_count_only_usable_addresses_of_the_subnet() -> None:
    subnet = net("192.168.0.0/29")
    taken = [
        "192.168.0.3",
        "192.168.0.3",  # a duplicate counts once
        "192.168.0.1",  # reserved: was never free
        "192.168.0.7",  # broadcast
        "10.0.0.4",  # another subnet
        "not an address",
    ]
    assert networks.free_addresses(subnet, taken) == 3
    assert networks.next_free(subnet, taken, 3) == ["192.168.0.4", "192.168.0.5", "192.168.0.6"]


def test_next_free_refuses_when_the_subnet_is_full() -> None:
    subnet = net("192.168.0.0/29")
    with pytest.raises(ValueError, match=r"192\.168\.0\.0/29 has 4 free addresses; 5 are needed"):
        networks.next_free(subnet, [], 5)
    full = ["192.168.0.3", "192.168.0.4", "192.168.0.5", "192.168.0.6"]
    assert networks.free_addresses(subnet, full) == 0
    with pytest.raises(ValueError, match="has 0 free addresses; 1 are needed"):
        networks.next_free(subnet, full, 1)
    with pytest.raises(ValueError, match="must not be negative"):
        networks.next_free(subnet, [], -1)


def test_next_free_in_a_large_subnet_finds_the_gap() -> None:
    subnet = net("10.0.0.0/16")
    taken = [str(ipaddress.IPv4Address(int(subnet.network_address) + i)) for i in range(3, 60_003)]
    assert networks.free_addresses(subnet, taken) == 65_532 - 60_000
    assert networks.next_free(subnet, taken, 2) == ["10.0.234.99", "10.0.234.100"]


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ab", "vpc-1", "Zone_A", "z" * 64, "a1", "A-_-"])
def test_good_names(name: str) -> None:
    assert names.NETWORK.check(name) == name


@pytest.mark.parametrize(
    "name", ["", "a", "1abc", "-abc", "_abc", "z" * 65, "a b", "a.b", "ab\n", "ab/c", "żółw"]
)
def test_bad_names_name_the_kind(name: str) -> None:
    with pytest.raises(errors.Invalid, match=r"^zone name must be 2-64 characters"):
        names.ZONE.check(name)
    with pytest.raises(errors.Invalid, match=r"^subnet name"):
        names.SUBNET.check(name)


def test_refusals_carry_the_fields_code_and_a_chinese_sentence() -> None:
    with pytest.raises(errors.Invalid) as outside:
        networks.check_subnet_cidr("10.1.0.0/24", net("10.0.0.0/16"), [])
    assert outside.value.code == "InvalidParameter.CidrBlock"
    assert outside.value.text("zh-CN") == "交换机网段 10.1.0.0/24 不在其专有网络 10.0.0.0/16 之内"
    with pytest.raises(errors.Invalid) as prefix:
        networks.check_network_cidr("10.0.0.0/25")
    assert prefix.value.zh == "专有网络的前缀长度须在 /8 到 /24 之间，10.0.0.0/25 的前缀长度为 /25"
    for rule, code, word in (
        (names.NETWORK, "InvalidParameter.NetworkName", "专有网络"),
        (names.SUBNET, "InvalidParameter.SubnetName", "交换机"),
        (names.ZONE, "InvalidParameter.ZoneName", "可用区"),
    ):
        with pytest.raises(errors.Invalid) as name:
            rule.check("1abc")
        assert name.value.code == code
        assert name.value.zh.startswith(f"{word}名称须为 2-64 个字符")
        assert name.value.zh.endswith("而不是 '1abc'")


# --- capacity ---------------------------------------------------------------------------

KNOWN = ("16c64g", "4c16g", "8c32g")


def test_capacity_parses() -> None:
    assert networks.parse_capacity({"4c16g": 10, "16c64g": 0}, KNOWN) == {"4c16g": 10, "16c64g": 0}
    assert networks.parse_capacity({}, KNOWN) == {}
    assert networks.parse_capacity({"8c32g": 100_000}, KNOWN) == {"8c32g": 100_000}


def test_unknown_types_list_the_known_ones_in_size_order() -> None:
    with pytest.raises(errors.Invalid, match=r"unknown machine type '3c9g'.*known types: 4c16g, "):
        networks.parse_capacity({"3c9g": 1}, KNOWN)
    with pytest.raises(errors.Invalid, match=r"known types: 4c16g, 8c32g, 16c64g$"):
        networks.parse_capacity({"4c16g": 1, "x": 1}, set(KNOWN))


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (True, "whole number"),
        (1.0, "whole number"),
        ("3", "whole number"),
        (None, "whole number"),
        (-1, "between 0 and 100,000"),
        (100_001, "between 0 and 100,000"),
    ],
)
def test_bad_counts_are_refused(count: object, words: str) -> None:
    with pytest.raises(errors.Invalid, match=f"capacity of 4c16g must be .*{words}"):
        networks.parse_capacity({"4c16g": count}, KNOWN)


def test_capacity_must_be_a_mapping() -> None:
    with pytest.raises(errors.Invalid, match="must be an object"):
        networks.parse_capacity(["4c16g"], KNOWN)  # type: ignore[arg-type]


def test_capacity_refusals_carry_their_code_and_chinese() -> None:
    with pytest.raises(errors.Invalid) as unknown:
        networks.parse_capacity({"3c9g": 1}, KNOWN)
    assert unknown.value.code == "InvalidParameter.Capacity"
    assert unknown.value.zh == "容量中的机型 '3c9g' 不存在；已有机型：4c16g, 8c32g, 16c64g"
    with pytest.raises(errors.Invalid) as count:
        networks.parse_capacity({"4c16g": -1}, KNOWN)
    assert count.value.zh == "4c16g 的容量须在 0 到 100,000 之间，而不是 -1"
