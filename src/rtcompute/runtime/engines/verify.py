"""What a working engine environment is, checked by the environment's own interpreter.

The installer builds and places environments; this module knows what makes one usable: Java
new enough for the release, pyflink importable, the Flink jars inside the package, and a
2-row VALUES job that returns its rows on a local mini-cluster. It also turns a failed check
into a message that says what to do. Kept apart so the checks can change (a new release's
jars, a different probe job) without touching pip, progress or the atomic rename.

The checks run as one script in one interpreter, with a client JVM tuned for start-up (C1
only, serial GC): a few seconds, not ten. The installer runs it, under the install's deadline
and in its own process group, so one timeout and one kill cover pip and the verification
alike. The script answers in `RTC-` lines: `RTC-STEP <name>` as each check passes,
`RTC-MISSING` or `RTC-ROWS` when one fails, `RTC-RESULT <json>` at the end.

A failure here is `Failed`; the installer reports its message as the install's own failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

# a client JVM that lives seconds: C1 only and the serial collector start it fastest
JVM_ARGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData"
# percent of the whole install reached as each step of the script passes
STEPS = {"import": 80, "jars": 82, "environment": 90, "job": 98}

# one process: pyflink imports, the jars are there, a job runs on the local mini-cluster
SCRIPT = r"""
import json, os, sys
release = sys.argv[1]
def step(name):
    print("RTC-STEP " + name, flush=True)
import pyflink, pyflink.version
step("import")
home = os.path.dirname(pyflink.__file__)
wanted = ["lib/flink-dist-%s.jar", "lib/flink-table-runtime-%s.jar",
          "lib/flink-table-api-java-uber-%s.jar", "opt/flink-python-%s.jar"]
missing = [w % release for w in wanted if not os.path.isfile(os.path.join(home, w % release))]
lib = os.listdir(os.path.join(home, "lib"))
if not any(n.startswith("flink-table-planner") for n in lib):
    missing.append("lib/flink-table-planner-loader-%s.jar" % release)
if missing:
    print("RTC-MISSING " + json.dumps(missing), flush=True)
    sys.exit(3)
step("jars")
from pyflink.table import EnvironmentSettings, TableEnvironment
env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
env.get_config().set("parallelism.default", "1")
step("environment")
query = "SELECT id, name FROM (VALUES (1, 'a'), (2, 'b')) AS t(id, name)"
with env.execute_sql(query).collect() as results:
    rows = sorted([row[0], row[1]] for row in results)
if rows != [[1, "a"], [2, "b"]]:
    print("RTC-ROWS " + json.dumps(rows), flush=True)
    sys.exit(4)
step("job")
print("RTC-RESULT " + json.dumps({"flink_version": pyflink.version.__version__}), flush=True)
"""


class Failed(Exception):
    """A check failed; `message` says what failed and what to do about it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def java_home(java: str, release: str) -> Path:
    """Java is there and new enough for `release`; returns its JAVA_HOME."""
    found = shutil.which(java)
    advice = "install Java 17 (e.g. `apt-get install openjdk-17-jre-headless`)"
    if found is None:
        raise Failed(
            f"Java not found (`{java}`): {advice} or set RTC_ENGINES__JAVA to a java binary"
        )
    try:
        done = subprocess.run(
            [found, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Failed(f"`{found} -version` failed ({exc}): {advice}") from exc
    said = done.stderr + done.stdout
    matched = re.search(r'version "(\d+)(?:\.(\d+))?', said)
    if done.returncode != 0 or matched is None:
        raise Failed(f"`{found} -version` does not answer like Java: {advice}")
    major = int(matched.group(1))
    if major == 1:  # "1.8.0_392"
        major = int(matched.group(2) or 0)
    needed = 11 if int(release.split(".")[0]) >= 2 else 8
    if major < needed:
        raise Failed(
            f"Java {major} at {found} is too old for Flink {release} "
            f"(needs {needed} or newer): {advice}"
        )
    return Path(os.path.realpath(found)).parent.parent


def command(python: Path, release: str) -> list[str]:
    return [str(python), "-c", SCRIPT, release]


def environment(base: dict[str, str], java: Path, scratch: str) -> dict[str, str]:
    """The script's environment: `base` with this Java and everything temporary in `scratch`."""
    env = dict(base)
    env["JAVA_HOME"] = str(java)
    env["PATH"] = os.pathsep.join([str(java / "bin"), env.get("PATH", "")])
    env["FLINK_LOG_DIR"] = scratch  # keep the client's log out of the package
    env["JVM_ARGS"] = f"{JVM_ARGS} -Djava.io.tmpdir={scratch}"
    env["TMPDIR"] = scratch
    return env


class Answers:
    """Reads the script's output: steps go to `report` as progress, the rest is kept."""

    def __init__(self, report: Callable[[str, int, str], None]) -> None:
        self._report = report
        self.found: dict[str, str] = {}

    def feed(self, line: str) -> None:
        key, _, value = line.partition(" ")
        if key == "RTC-STEP" and value in STEPS:
            self._report("verifying", STEPS[value], f"{value} ok")
        elif key.startswith("RTC-"):
            self.found[key] = value

    def flink_version(self, release: str, code: int, tail: Sequence[str]) -> str:
        """The Flink version the environment runs, once the script exited with `code`."""
        if code == 0 and "RTC-RESULT" in self.found:
            flink_version = str(json.loads(self.found["RTC-RESULT"])["flink_version"])
            if flink_version != release:
                raise Failed(
                    f"the environment holds Flink {flink_version}, not {release}: "
                    "the wheelhouse or index served another release; rebuild the wheelhouse"
                )
            return flink_version
        raise Failed(_failure(release, self.found, tail))


def _failure(release: str, found: dict[str, str], tail: Sequence[str]) -> str:
    if "RTC-MISSING" in found:
        return (
            f"the Flink jars are missing from pyflink: {found['RTC-MISSING']}; the package "
            f"apache-flink-libraries=={release} is incomplete: rebuild the wheelhouse"
        )
    if "RTC-ROWS" in found:
        return f"the test job returned wrong rows {found['RTC-ROWS']}: this Flink is broken"
    said = _last_error(tail)
    if any("ModuleNotFoundError" in line or "ImportError" in line for line in tail):
        return f"pyflink does not import in the new environment: {said}; install it again"
    return (
        f"the test job (a 2-row VALUES query on a local mini-cluster) did not run: {said}; "
        "check that Java 17 works (`java -version`) and install again"
    )


def _last_error(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        if re.search(r"(Error|Exception)\b", line):
            return line.strip()[:500]
    return " ".join(line.strip() for line in tail[-3:])[:500] or "no output"
