"""Whether a zone and a subnet can hold an order: the one rule of the wizard, the API and
creation (domain/networks.py)."""

from __future__ import annotations

from rtcompute import errors
from rtcompute.domain import networks


def test_nodes_needed_adds_masters_and_slaves_of_one_type() -> None:
    assert networks.nodes_needed("4c16g", 1, "4c16g", 4) == {"4c16g": 5}
    assert networks.nodes_needed("8c32g", 3, "4c16g", 2) == {"8c32g": 3, "4c16g": 2}


def test_a_zone_lacking_one_type_is_refused_with_the_numbers() -> None:
    needed = {"8c32g": 3, "4c16g": 2}
    assert networks.zone_shortfall(needed, {"8c32g": 3, "4c16g": 2}) is None
    assert networks.zone_refusal("zone-a", needed, {"8c32g": 3, "4c16g": 2}) is None
    assert networks.zone_shortfall(needed, {"8c32g": 2, "4c16g": 9}) == ("8c32g", 2, 3)
    refused = networks.zone_refusal("zone-a", needed, {"4c16g": 9})
    assert isinstance(refused, errors.QuotaExceeded)
    assert refused.code == "ZoneCapacityExceeded"
    assert "zone zone-a can place 0 more 8c32g nodes but 3 are needed" in refused.message
    assert "可用区 zone-a 还能放置 0 个 8c32g 节点，但需要 3 个" in refused.zh


def test_a_subnet_needs_one_free_address_per_node() -> None:
    assert networks.subnet_refusal("sw1", "10.0.1.0/24", 5, 5) is None
    refused = networks.subnet_refusal("tiny", "10.0.2.0/29", 4, 5)
    assert isinstance(refused, errors.QuotaExceeded)
    assert refused.code == "SubnetAddressesExhausted"
    assert "subnet tiny (10.0.2.0/29) has 4 free addresses but 5 are needed" in refused.message
    assert "只有 4 个空闲地址，但需要 5 个" in refused.zh
