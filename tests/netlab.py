"""Several test hosts on one machine: Linux network namespaces on one private Ethernet.

A multi-host feature (node agents, JobManagers and TaskManagers, ZooKeeper on different
hosts) needs hosts with their own addresses and port spaces, links that can be cut, and
processes that die with their host. A `Lab` makes them out of network namespaces: each
host is a namespace with `lo` and one `eth0` on a /24 of 10.0.0.0/8, and its only route is
that /24 (no default route, no NAT, no forwarding): a host reaches the other hosts, the
root namespace's gateway address and its own loopback, nothing else.

The bridge of the /24 lives in a namespace of its own (the lab's "switch"), not in the root
namespace. With br_netfilter loaded (`bridge-nf-call-iptables = 1`, as on this machine), a
bridge in the root namespace hands every bridged frame to the root namespace's IPv4
forward hooks, so any forward rule there (Docker's `FORWARD DROP`, a firewall's, a rule
naming the lab's subnet) would cut traffic between hosts. The bridge-nf settings are per
namespace, and a bridge's own `nf_call_iptables` can only add to them, not turn them off;
in the switch namespace bridge-nf is off (and no rule exists there). The root namespace
reaches the lab through a veth whose far end is a port of the bridge; its own end holds the
gateway address, so traffic between the root namespace and a host is plain local traffic
there: output and input hooks, no forward hook. The project's `inet rtcompute` table
(runtime/netrules.py) hooks output only: its per-run rules refuse a run's ports to users
other than the platform's and the account's whatever the destination, lab addresses
included; the tests' root user is the platform's.

Names and addresses never clash between pytest-xdist workers or with a killed run's
leftovers: namespace names carry the owning process (pid and start time), the /24 is drawn
from a hash of the lab's name and taken under a machine-wide lock only if no route of the
root namespace covers it, and `sweep_leftovers` removes what dead owners left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.waiting import wait_for

DEFAULT_PREFIX = "rtcnl"
_PREFIX_SHAPE = re.compile(r"[a-z][a-z0-9]{0,7}")  # + 4 hex digits: a 15-char interface name
_LOCK = Path("/run/lock" if Path("/run/lock").is_dir() else tempfile.gettempdir())
_LOCK_FILE = _LOCK / "rtcompute-netlab.lock"
_FIRST_HOST = 10  # host i is X.(10 + i); X.1 is the gateway
_MAX_HOSTS = 200
_labs = itertools.count()


class LabError(RuntimeError):
    """An `ip` command of the harness failed (the message quotes it)."""


def _ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and done.returncode != 0:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()[:500]}")
    return done.stdout


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the pid, it names the
    process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; fields 3.. follow ")"


def _owner() -> str:
    return f"{os.getpid()}-{_start_time(os.getpid())}"


def _alive(pid: int, start: int) -> bool:
    return _start_time(pid) == start


def _check_prefix(prefix: str) -> str:
    if not _PREFIX_SHAPE.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r}: 1-8 lowercase letters and digits, a letter first")
    return prefix


def namespaces() -> list[str]:
    """The names of `ip netns list` (each line: a name, maybe followed by its id)."""
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def namespace_pids(name: str) -> list[int]:
    return [int(pid) for pid in _ip("netns", "pids", name, check=False).split()]


def _kill_namespace(name: str) -> None:
    """SIGKILL every process in the namespace, again until none is left (a process may
    fork while its siblings are killed)."""

    def killed() -> bool:
        pids = namespace_pids(name)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return not pids

    wait_for(f"the processes of namespace {name} to die", killed, timeout=10, every=0.02)


def _links() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(_ip("-j", "link", "show") or "[]")
    return found


@contextlib.contextmanager
def machine_lock() -> Iterator[None]:
    """Held by one process of the machine at a time (pytest-xdist workers race): while a lab
    takes its subnet, and while a sweep runs."""
    with _LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def sweep_leftovers(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Remove the namespaces and gateway links of `prefix` whose owning process is gone (a
    killed run's); return their names."""
    with machine_lock():
        return _sweep(prefix)


def _sweep(prefix: str) -> list[str]:
    owned = re.compile(rf"{re.escape(_check_prefix(prefix))}-(\d+)-(\d+)-.+")
    uplink = re.compile(rf"{re.escape(prefix)}[0-9a-f]{{4}}")
    removed = []
    for link in _links():
        name, alias = link.get("ifname", ""), str(link.get("ifalias", ""))
        tag = re.fullmatch(r"netlab (\d+)-(\d+)", alias)
        if uplink.fullmatch(name) and tag and not _alive(int(tag[1]), int(tag[2])):
            _ip("link", "del", name, check=False)
            removed.append(name)
    for name in namespaces():
        tag = owned.fullmatch(name)
        if tag and not _alive(int(tag[1]), int(tag[2])):
            _kill_namespace(name)
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


def _routed_networks() -> list[ipaddress.IPv4Network]:
    """The IPv4 destinations of every routing table of the root namespace, /16 or longer
    (a /24 of the lab beats a broader route, such as a VPN's 10.0.0.0/8, for its own
    addresses)."""
    routes = json.loads(_ip("-j", "-4", "route", "show", "table", "all") or "[]")
    networks = []
    for route in routes:
        with contextlib.suppress(ValueError):
            network = ipaddress.IPv4Network(route.get("dst", ""), strict=False)
            if network.prefixlen >= 16:
                networks.append(network)
    return networks


def _free_subnet(seed: str) -> ipaddress.IPv4Network:
    """The first /24 of 10.0.0.0/8, from the seed's hash on, that no route covers."""
    taken = _routed_networks()
    start = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=2).digest(), "big")
    for step in range(1 << 16):
        number = (start + step) % (1 << 16)
        subnet = ipaddress.IPv4Network(f"10.{number >> 8}.{number & 0xFF}.0/24")
        if not any(subnet.overlaps(network) for network in taken):
            return subnet
    raise LabError("no free /24 in 10.0.0.0/8 on this machine")


@functools.cache
def available() -> str | None:
    """None when labs can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "`ip` is missing (Debian package iproute2)"
    probe = f"{DEFAULT_PREFIX}-{_owner()}-probe"
    try:
        _ip("netns", "add", probe)
        try:
            _ip("-n", probe, "link", "add", "br0", "type", "bridge")
            _ip("-n", probe, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        finally:
            _ip("netns", "del", probe, check=False)
    except LabError as error:
        return str(error)
    return None


class Lab:
    """`hosts` namespaces on one private /24 with the root namespace as gateway; a context
    manager whose exit kills every process of the lab and removes all it made."""

    def __init__(self, hosts: int, *, prefix: str | None = None) -> None:
        if not 1 <= hosts <= _MAX_HOSTS:
            raise ValueError(f"hosts: 1 to {_MAX_HOSTS}, not {hosts}")
        self.prefix = _check_prefix(prefix or DEFAULT_PREFIX)
        base = f"{self.prefix}-{_owner()}-{next(_labs)}"
        self.names = tuple(f"{base}-{index}" for index in range(hosts))
        self.switch = f"{base}-sw"  # the namespace of the bridge
        self.uplink = ""  # the root namespace's end of the link to the bridge
        self._closed = False
        self._made: list[str] = []  # namespaces made so far, for close()
        try:
            with machine_lock():
                _sweep(self.prefix)
                self._subnet = _free_subnet(base)
                # named after the subnet: unique while the subnet is held
                self.uplink = f"{self.prefix}{self._subnet.network_address.packed[1:3].hex()}"
                self._namespace(self.switch)
                _ip("link", "add", self.uplink, "type", "veth", "peer", "name", "up0",
                    "netns", self.switch)  # fmt: skip
                _ip("link", "set", self.uplink, "alias", f"netlab {_owner()}")
                _ip("addr", "add", f"{self.gateway}/24", "dev", self.uplink)
                _ip("link", "set", self.uplink, "up")
            self._switch_up()
            for index, name in enumerate(self.names):
                self._host(index, name)
        except BaseException:
            self.close()
            raise

    def _namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self._made.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def _switch_up(self) -> None:
        sw = self.switch
        # no spanning tree, no forward delay: a port forwards as soon as it is up
        _ip("-n", sw, "link", "add", "br0", "type", "bridge", "stp_state", "0",
            "forward_delay", "0")  # fmt: skip
        _ip("-n", sw, "link", "set", "up0", "master", "br0", "up")
        _ip("-n", sw, "link", "set", "br0", "up")
        # bridged frames skip IP netfilter (there is no rule in this namespace anyway);
        # the settings exist once br_netfilter is loaded
        settings = [
            f"/proc/sys/net/bridge/bridge-nf-call-{t}"
            for t in ("iptables", "ip6tables", "arptables")
        ]
        turn_off = 'for f in "$@"; do [ ! -e "$f" ] || echo 0 > "$f"; done'
        _ip("netns", "exec", sw, "sh", "-c", turn_off, "sh", *settings)

    def _host(self, index: int, name: str) -> None:
        self._namespace(name)
        port = f"h{index}"
        _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name", "eth0",
            "netns", name)  # fmt: skip
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("-n", name, "addr", "add", f"{self.address(index)}/24", "dev", "eth0")
        _ip("-n", name, "link", "set", "eth0", "up")

    @property
    def subnet(self) -> str:
        return str(self._subnet)

    @property
    def gateway(self) -> str:
        """The root namespace's address on the lab: hosts reach its servers there (bound to
        it or to 0.0.0.0)."""
        return str(self._subnet.network_address + 1)

    def _index(self, index: int) -> int:
        return range(len(self.names))[index]  # IndexError for a host the lab does not have

    def address(self, index: int) -> str:
        return str(self._subnet.network_address + _FIRST_HOST + self._index(index))

    def inside(self, index: int, argv: Sequence[str]) -> list[str]:
        """The command line that runs `argv` on host `index`: in its network namespace
        only (`nsenter --net`), not `ip netns exec`, whose own mount namespace remounts /sys
        and hides the cgroup hierarchies a real host has."""
        return ["nsenter", f"--net=/run/netns/{self.names[index]}", "--", *argv]

    def popen(self, index: int, argv: Sequence[str], **popen_kwargs: Any) -> subprocess.Popen[Any]:
        return subprocess.Popen(self.inside(index, argv), **popen_kwargs)

    def run(
        self, index: int, argv: Sequence[str], timeout: float = 30.0, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.inside(index, argv), capture_output=True, text=True, timeout=timeout, check=check
        )

    def link_down(self, index: int) -> None:
        """Cut host `index` off: its port of the bridge goes down (its eth0 loses carrier)."""
        _ip("-n", self.switch, "link", "set", f"h{self._index(index)}", "down")

    def link_up(self, index: int) -> None:
        _ip("-n", self.switch, "link", "set", f"h{self._index(index)}", "up")

    def kill_all(self, index: int) -> None:
        """SIGKILL every process in host `index`."""
        _kill_namespace(self.names[index])

    def close(self) -> None:
        """Kill every process of the lab, remove its namespaces and links; again: nothing."""
        if self._closed:
            return
        self._closed = True
        survivors = []
        for name in self._made:
            try:
                _kill_namespace(name)
            except AssertionError as error:  # unkillable (in the kernel): remove the rest
                survivors.append(str(error))
        # its peer goes at once; a namespace's own links go when the kernel frees it
        if self.uplink:
            _ip("link", "del", self.uplink, check=False)
        for name in self._made:
            _ip("netns", "del", name, check=False)
        if survivors:
            raise LabError("; ".join(survivors))

    def __enter__(self) -> Lab:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def require(reason: str | None) -> None:
    """Skip a test where namespaces cannot be made (`reason`) on a developer's machine; fail
    it under CI, where a skip would hide the multi-host tests."""
    import pytest

    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the multi-host tests, which need network namespaces: {reason}")
    pytest.skip(f"network lab off: {reason}")


def for_test(hosts: int) -> Iterator[Lab]:
    """A lab of `hosts` for one test (yield from it in a fixture), or `require`'s skip."""
    require(available())
    with Lab(hosts) as made:
        yield made
