"""The sandbox's cgroups on a cgroup v2 host, checked on a real v2 kernel.

These machines mount the v1 controllers, and a controller bound to v1 cannot be used in v2
at the same time. So the test boots Debian's kernel in a virtual machine (virtme-ng: the
host's own files, read-only, as the guest's root; QEMU without KVM, whose nesting hangs
here), where systemd's absence leaves the unified hierarchy with cpu, memory and pids. In
it, rtcompute's own sandbox (`sandbox.wrap`: a user, bubblewrap, the cgroups) runs small
hostile programs: one allocates past its memory, one forks past its process count, two
spin past their CPU ceiling. `make test` installs QEMU, the kernel and virtme-ng.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rtcompute
from tests.security import programs

pytestmark = pytest.mark.slow

SRC = str(Path(rtcompute.__file__).resolve().parent.parent)

GUEST = r"""
import json, os, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, SRC)
from rtcompute.runtime import cgroups, sandbox

found = {"layout": type(cgroups.host()).__name__, "problem": sandbox.unavailable()}
tenant = sandbox.Tenant(sandbox.user_of("900001"), ())


def run(key, code, limits):
    argv = sandbox.wrap(
        ["env", "-i", "/usr/bin/python3", "-c", code], key=key, tenant=tenant,
        limits=limits, readable=[], workdir=Path(tempfile.mkdtemp()),
    )
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def read(key, name):
    return cgroups.host().file(key, "", name).read_text().strip()


where = cgroups.Limits(cpu_cores=0.1, memory_mb=100, max_pids=50)
WHERE = "import os; print(open('/proc/self/cgroup').read().strip(), os.getuid())"
done = run("v2-where", WHERE, where)
found["where"] = done.stdout.split()
found["files"] = {name: read("v2-where", name)
                  for name in ("cpu.weight", "cpu.max", "memory.max", "pids.max")}
found["swap"] = read("v2-where", "memory.swap.max")
cgroups.remove("v2-where")

done = run("v2-oom", "held = bytearray(512 * 1024 * 1024)",
           cgroups.Limits(cpu_cores=1.0, memory_mb=64))
found["oom"] = [done.returncode, cgroups.oom_killed("v2-oom")]
cgroups.make("v2-oom", cgroups.Limits(cpu_cores=1.0, memory_mb=64))  # a start again
found["oom"].append(cgroups.oom_killed("v2-oom"))
cgroups.remove("v2-oom")

FORKS = '''
import os, time
made = 0
for _ in range(40):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    made += 1
print(made)
'''
done = run("v2-pids", FORKS, cgroups.Limits(cpu_cores=1.0, memory_mb=256, max_pids=8))
found["forks"] = done.stdout.split()
cgroups.remove("v2-pids", wait=5.0)

done = run("v2-spin", SPIN, cgroups.Limits(cpu_cores=0.25, memory_mb=256))
found["spin"] = done.stdout.split() + [done.stderr[-300:]]
found["throttled"] = dict(line.split() for line in read("v2-spin", "cpu.stat").splitlines())
cgroups.remove("v2-spin")
found["left"] = [cgroups.exists(k) for k in ("v2-where", "v2-oom", "v2-pids", "v2-spin")]
print("RESULT " + json.dumps(found))
"""


def _vng() -> str:
    beside = Path(sys.executable).parent / "vng"
    return str(beside) if beside.exists() else (shutil.which("vng") or "vng")


@pytest.mark.timeout(600)
def test_the_sandbox_holds_a_process_to_its_cu_on_a_cgroup_v2_kernel(tmp_path: Path) -> None:
    kernels = sorted(glob.glob("/boot/vmlinuz-*"))
    assert kernels, "no kernel in /boot: `make test` installs linux-image-amd64"
    script = tmp_path / "guest.py"
    script.write_text(f"SRC = {SRC!r}\nSPIN = {programs.SPIN!r}\n" + GUEST)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        [_vng(), "--run", kernels[-1], "--disable-kvm", "--memory", "1G", "--cpus", "1",
         "--exec", f"{sys.executable} {script}"],
        capture_output=True, text=True, timeout=540, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the guest said: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    found = json.loads(lines[-1].removeprefix("RESULT "))
    assert found["layout"] == "V2" and found["problem"] is None, found
    # the process runs as the account's user, in /rtcompute/<key> of the unified hierarchy
    assert found["where"][0] == "0::/rtcompute/v2-where", found
    assert int(found["where"][1]) >= 200000, found
    # 0.1 core: a weight by the kernel's conversion, a ceiling twice the CU
    assert found["files"] == {
        "cpu.weight": "4",
        "cpu.max": "20000 100000",
        "memory.max": str(100 * 1024 * 1024),
        "pids.max": "50",
    }, found
    assert found["swap"] == "0", found
    # past its memory: killed by its limit, the kill counted; a start again counts afresh
    returncode, killed, afresh = found["oom"]
    assert returncode != 0 and killed >= 1 and afresh == 0, found
    # past its process count: forks refused (8 in all, the shell and python among them)
    assert found["forks"] and int(found["forks"][0]) < 8, found
    # two spinning processes for 1.5 s under a 0.5-core ceiling: about 0.75 CPU-seconds
    used = float(found["spin"][0])
    assert used <= 0.5 * 1.5 + 0.25, found
    assert int(found["throttled"]["nr_throttled"]) > 0, found
    assert found["left"] == [False] * 4, found
