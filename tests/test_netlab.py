"""The network lab of the multi-host tests, on real namespaces: who reaches whom, a cut link,
killed processes, and nothing left behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netlab
from tests.waiting import wait_for

# a TCP server on (address, any port): prints its port, then greets each client with a tag
SERVER = """
import socket, sys
server = socket.create_server((sys.argv[1], 0))
print(server.getsockname()[1], flush=True)
while True:
    connection, _ = server.accept()
    connection.sendall(sys.argv[2].encode())
    connection.close()
"""
# a client: prints the greeting of (address, port), or why it got none
CLIENT = """
import socket, sys
try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])) as c:
        print(c.recv(100).decode())
except OSError as error:
    print(f"failed: {error!r}")
"""
ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "198.51.100.1"  # TEST-NET-2: an address beyond the lab (only routes are looked up)


@pytest.fixture(scope="module")
def lab() -> Iterator[netlab.Lab]:
    netlab.require(netlab.available())
    with netlab.Lab(3) as made:
        yield made


@contextlib.contextmanager
def listener(lab: netlab.Lab, index: int, tag: str) -> Iterator[int]:
    """A greeting server on host `index`'s address; yields its port."""
    server = lab.popen(
        index, [sys.executable, "-c", SERVER, lab.address(index), tag], stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.kill()
        server.wait(10)


def greeting(lab: netlab.Lab, index: int | None, address: str, port: int, timeout: float) -> str:
    """What (address, port) says to a client on host `index` (None: the root namespace)."""
    if index is None:
        try:
            with socket.create_connection((address, port), timeout=timeout) as client:
                return client.recv(100).decode()
        except OSError as error:
            return f"failed: {error!r}"
    argv = [sys.executable, "-c", CLIENT, address, str(port), str(timeout)]
    return lab.run(index, argv, timeout=timeout + 30).stdout.strip()


def test_root_namespace_reaches_a_server_on_a_host(lab: netlab.Lab) -> None:
    with listener(lab, 1, "host 1") as port:
        assert greeting(lab, None, lab.address(1), port, timeout=5) == "host 1"


def test_a_host_reaches_a_server_on_another_host(lab: netlab.Lab) -> None:
    with listener(lab, 1, "host 1") as port:
        assert greeting(lab, 0, lab.address(1), port, timeout=5) == "host 1"
        assert greeting(lab, 2, lab.address(1), port, timeout=5) == "host 1"


@pytest.mark.parametrize("bound_to", ["gateway", "0.0.0.0"])
def test_hosts_reach_a_server_of_the_root_namespace_at_the_gateway(
    lab: netlab.Lab, bound_to: str
) -> None:
    address = lab.gateway if bound_to == "gateway" else bound_to
    with socket.create_server((address, 0)) as server:
        server.settimeout(10)
        client = lab.popen(
            0, [sys.executable, "-c", CLIENT, lab.gateway, str(server.getsockname()[1]), "5"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        connection, (peer, _) = server.accept()
        with connection:
            connection.sendall(b"root")
        assert client.communicate(timeout=10)[0].strip() == "root"
    assert peer == lab.address(0)


def test_a_host_has_a_route_to_the_lab_only(lab: netlab.Lab) -> None:
    routes = lab.run(2, ["ip", "-4", "route", "show", "table", "all"]).stdout.splitlines()
    assert not [line for line in routes if line.startswith("default")], routes
    lan = f"{lab.subnet} dev eth0 proto kernel scope link src {lab.address(2)}"
    assert lan in {line.strip() for line in routes}
    beyond = lab.run(2, ["ip", "route", "get", OUTSIDE], check=False)
    assert beyond.returncode != 0
    assert "unreachable" in beyond.stderr


def test_link_down_cuts_a_host_off_and_link_up_restores_it(lab: netlab.Lab) -> None:
    with listener(lab, 1, "host 1") as port:
        assert greeting(lab, 2, lab.address(1), port, timeout=5) == "host 1"
        lab.link_down(1)
        try:
            # frames to a port that is down are dropped: the connection times out
            assert "timed out" in greeting(lab, 2, lab.address(1), port, timeout=1)
            assert "timed out" in greeting(lab, None, lab.address(1), port, timeout=1)
            with listener(lab, 0, "host 0") as other:  # the rest of the lab still talks
                assert greeting(lab, 2, lab.address(0), other, timeout=5) == "host 0"
        finally:
            lab.link_up(1)
        wait_for(
            "host 1 back",
            lambda: greeting(lab, 2, lab.address(1), port, timeout=1) == "host 1",
            timeout=15,
        )


def test_kill_all_kills_every_process_of_a_host(lab: netlab.Lab) -> None:
    sleepers = [
        lab.popen(2, ["sleep", "300"]),
        lab.popen(2, ["sh", "-c", "sleep 300 & sleep 300"]),  # with a grandchild
    ]
    # 3 sleeps, and the shell unless it ran its last command in its own process
    wait_for("3 sleepers on host 2", lambda: len(netlab.namespace_pids(lab.names[2])) >= 3)
    with listener(lab, 1, "host 1"):
        lab.kill_all(2)
        assert netlab.namespace_pids(lab.names[2]) == []
        assert [sleeper.wait(10) for sleeper in sleepers] == [-9, -9]
        assert len(netlab.namespace_pids(lab.names[1])) == 1  # other hosts untouched


def _dead(pid: int) -> bool:
    """Gone, or a zombie its new parent has not reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _root_links() -> set[str]:
    return {link["ifname"] for link in json.loads(subprocess.check_output(["ip", "-j", "link"]))}


def test_close_kills_and_removes_everything_and_can_be_repeated() -> None:
    netlab.require(netlab.available())
    lab = netlab.Lab(2)
    sleeper = lab.popen(1, ["sleep", "300"])
    made = {*lab.names, lab.switch}
    assert made <= set(netlab.namespaces())
    assert lab.uplink in _root_links()
    lab.close()
    assert sleeper.wait(10) == -9
    assert not made & set(netlab.namespaces())
    assert lab.uplink not in _root_links()
    lab.close()


# a run killed with its lab up: prints the lab's names, starts a process on a host, waits
KILLED_RUN = """
import json, time
from tests import netlab
lab = netlab.Lab(2, prefix="rtcnlk")
sleeper = lab.popen(1, ["sleep", "300"])
print(json.dumps([sleeper.pid, lab.uplink, lab.switch, *lab.names]), flush=True)
time.sleep(300)
"""


def test_sweep_removes_the_lab_of_a_killed_run() -> None:
    netlab.require(netlab.available())
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert run.stdout is not None
    sleeper, uplink, *namespaces = json.loads(run.stdout.readline())
    run.kill()
    run.wait(10)
    netlab.sweep_leftovers("rtcnlk")  # (or a concurrent run of this file did)
    assert not set(namespaces) & set(netlab.namespaces())
    wait_for("the killed run's process on host 1 to die", lambda: _dead(sleeper), timeout=10)
    assert uplink not in _root_links()


def test_sweep_removes_what_dead_owners_left_only() -> None:
    netlab.require(netlab.available())
    prefix = "rtcnlt"  # apart from the other labs of the run
    # a dead owner: this pid with another start time (a killed run whose pid was reused)
    leftover, uplink = f"{prefix}-{os.getpid()}-0-0-sw", f"{prefix}{os.getpid() % 65536:04x}"
    with netlab.machine_lock():  # dead from birth: no sweep may see it half made
        subprocess.run(["ip", "netns", "add", leftover], check=True)
        subprocess.run(
            ["ip", "link", "add", uplink, "type", "veth", "peer", "name", "up0", "netns", leftover],
            check=True,
        )
        subprocess.run(
            ["ip", "link", "set", uplink, "alias", f"netlab {os.getpid()}-0"], check=True
        )
    with netlab.Lab(1, prefix=prefix) as alive:
        assert leftover not in netlab.namespaces()  # a new lab sweeps first
        assert uplink not in _root_links()
        assert not {alive.uplink, alive.switch, *alive.names} & set(netlab.sweep_leftovers(prefix))
        assert {*alive.names, alive.switch} <= set(netlab.namespaces())
        assert alive.uplink in _root_links()


def test_forward_rules_of_the_root_namespace_do_not_reach_the_lab(lab: netlab.Lab) -> None:
    """A forward rule of the root namespace (Docker's FORWARD DROP, or this one, which drops
    the lab's own subnet) would cut traffic between hosts of a bridge in the root namespace
    under br_netfilter; the lab's bridge is in its own namespace."""
    netlab.require(None if shutil.which("nft") else "`nft` is missing (Debian package nftables)")
    table = f"rtcnl_drop_{os.getpid()}"
    drops = f"ip saddr {lab.subnet} drop; ip daddr {lab.subnet} drop;"
    rules = "\n".join(
        f"table {family} {table} {{\n chain forward {{\n"
        f"  type filter hook forward priority -300; {drops}\n }}\n}}"
        for family in ("inet", "bridge")
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
    try:
        with listener(lab, 1, "host 1") as port:
            assert greeting(lab, 0, lab.address(1), port, timeout=5) == "host 1"
    finally:
        for family in ("inet", "bridge"):
            subprocess.run(["nft", "delete", "table", family, table], check=True)
