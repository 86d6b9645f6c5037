"""Checks what the project cannot install itself, with a message that says how to get it."""

import importlib.util
import re
import shutil
import subprocess
import sys

if sys.version_info < (3, 11):  # noqa: UP036 - this script must run on older Pythons
    sys.exit(
        f"rtcompute needs Python >= 3.11 (found {sys.version.split()[0]}). "
        "Install it from your distribution (e.g. `apt-get install python3.11 python3.11-venv`) "
        "or pyenv, then run `make PYTHON=python3.11 run`."
    )
if importlib.util.find_spec("venv") is None or importlib.util.find_spec("ensurepip") is None:
    sys.exit(
        "rtcompute needs Python's venv module with ensurepip. On Debian/Ubuntu: "
        f"`apt-get install python3.{sys.version_info.minor}-venv`."
    )
JAVA_HINT = (
    "Install a Java 17 runtime (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`) "
    "and put `java` on the PATH (or set RTC_LOCAL_PROVIDER__JAVA)."
)
java = shutil.which("java")
if java is None:
    sys.exit(f"rtcompute needs Java 17 or newer for ZooKeeper and Flink. {JAVA_HINT}")
banner = subprocess.run(
    [java, "-version"], capture_output=True, text=True, timeout=60, check=False
).stderr
found = re.search(r'version "(\d+)', banner)
if found is None or int(found.group(1)) < 17:
    sys.exit(f"rtcompute needs Java 17 or newer (found: {banner.splitlines()[:1]}). {JAVA_HINT}")
print(f"prerequisites: Python {sys.version.split()[0]} with venv, Java {found.group(1)}: ok")
