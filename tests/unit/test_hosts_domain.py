"""Host placement and signatures: pure rules (domain/hosts.py, domain/signatures.py)."""

from __future__ import annotations

import pytest

from rtcompute import errors
from rtcompute.domain import catalog, signatures
from rtcompute.domain import hosts as host_rules


def machine(name: str, role: str = catalog.SLAVE) -> catalog.MachineType:
    cores, memory = name[:-1].split("c")
    return catalog.MachineType(role, name, int(cores), int(memory), 3, 0, 0)


def host(
    i: int, cores: int, memory_gb: float, pin: str | None = None, net: str = "10.0.9"
) -> host_rules.Candidate:
    return host_rules.Candidate(i, f"h{i}", f"{net}.{i}", cores, int(memory_gb * 1024), pin)


def test_a_machine_fits_from_ninety_percent_of_its_memory_and_its_pin() -> None:
    assert host_rules.fits(host(1, 8, 31.3), machine("8c32g"))  # what 32 GB reports
    assert not host_rules.fits(host(1, 8, 28), machine("8c32g"))
    assert not host_rules.fits(host(1, 7, 64), machine("8c32g"))
    assert not host_rules.fits(host(1, 64, 256, pin="4c16g"), machine("8c32g"))
    assert host_rules.fits(host(1, 64, 256, pin="4c16g"), machine("4c16g"))


def test_big_nodes_choose_first_and_take_the_smallest_host_that_fits() -> None:
    hosts = [host(1, 4, 16), host(2, 16, 64), host(3, 8, 32)]
    chosen = host_rules.choose("z", hosts, [machine("4c16g"), machine("8c32g"), machine("4c16g")])
    # the 8c32g node takes h3 (smallest fit), the 4c16g ones h1 then h2
    assert [c.name for c in chosen] == ["h1", "h3", "h2"]
    pinned = [host(1, 16, 64), host(2, 16, 64, pin="4c16g")]
    assert [c.name for c in host_rules.choose("z", pinned, [machine("4c16g")])] == ["h2"]


def test_too_few_hosts_is_the_guides_ecs_stock_refusal() -> None:
    with pytest.raises(errors.QuotaExceeded) as short:
        host_rules.choose("z", [host(1, 4, 16)], [machine("4c16g"), machine("4c16g")])
    assert short.value.code == "ZoneCapacityExceeded" and "ECS 库存不足" in short.value.zh
    assert "1 free hosts fit 4c16g" in short.value.message and "2 are needed" in short.value.message


def test_hosts_outside_the_subnet_are_named_as_the_reason() -> None:
    hosts = [host(1, 4, 16), host(2, 4, 16, net="10.0.1")]
    with pytest.raises(errors.Invalid) as outside:
        host_rules.choose("z", hosts, [machine("4c16g")] * 2, subnet=("s", "10.0.9.0/24"))
    assert (
        outside.value.code == "InvalidParameter.Subnet"
        and "only 1 lie in subnet s" in outside.value.message
    )


def test_state_is_derived_lost_over_draining_over_in_use() -> None:
    assert host_rules.state(lost=True, draining=True, serving=True) == host_rules.LOST
    assert host_rules.state(lost=False, draining=True, serving=True) == host_rules.DRAINING
    assert host_rules.state(lost=False, draining=False, serving=True) == host_rules.IN_USE
    assert host_rules.state(lost=False, draining=False, serving=False) == host_rules.READY


def test_a_token_round_trips_and_nothing_else_parses() -> None:
    token = host_rules.new_token("0123456789abcdef")
    assert host_rules.parse_token(token.text) == token
    for bad in ("", token.text + "x", token.text.replace("rtcjoin", "rtcjoim"), "rtcjoin...."):
        assert host_rules.parse_token(bad) is None


def test_a_signed_request_verifies_once_and_only_as_sent() -> None:
    keys = signatures.KeyPair.generate()
    replays = signatures.Replays()
    headers = signatures.sign_request(keys, "host-1", "POST", "/a?b=1", b"{}", now=1000.0)
    assert signatures.verify_request(
        keys.public, headers, "POST", "/a?b=1", b"{}", now=1001.0, replays=replays
    )
    with pytest.raises(signatures.BadSignature, match="replay"):
        signatures.verify_request(
            keys.public, headers, "POST", "/a?b=1", b"{}", now=1001.0, replays=replays
        )
    for method, target, body, now in (
        ("GET", "/a?b=1", b"{}", 1000.0),
        ("POST", "/a?b=2", b"{}", 1000.0),
        ("POST", "/a?b=1", b"{ }", 1000.0),
    ):
        fresh = signatures.sign_request(keys, "host-1", "POST", "/a?b=1", b"{}", now=1000.0)
        with pytest.raises(signatures.BadSignature):
            signatures.verify_request(
                keys.public, fresh, method, target, body, now=now, replays=replays
            )
    late = signatures.sign_request(keys, "host-1", "POST", "/a", b"", now=1000.0)
    with pytest.raises(signatures.BadSignature, match="off this clock"):
        signatures.verify_request(
            keys.public, late, "POST", "/a", b"", now=1000.0 + 61, replays=replays
        )
    other = signatures.KeyPair.generate()
    forged = signatures.sign_request(other, "host-1", "POST", "/a", b"", now=1000.0)
    with pytest.raises(signatures.BadSignature):
        signatures.verify_request(
            keys.public, forged, "POST", "/a", b"", now=1000.0, replays=replays
        )
    answer = signatures.sign_answer(keys, 200, "n1", b"ok")
    signatures.verify_answer(keys.public, answer, 200, "n1", b"ok")
    with pytest.raises(signatures.BadSignature):
        signatures.verify_answer(keys.public, answer, 200, "n2", b"ok")  # another request's
