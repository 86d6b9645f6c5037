"""What every process that runs tenant input starts with: a clean environment, limits.

A tenant's SQL is planned in the engine workers and its job runs in JobManagers and
TaskManagers; none of them may see `rtc up`'s own environment (it may hold the bootstrap
password, database URLs with credentials, API keys of the operator's tools). So they start
from nothing (`env -i` for the JVMs, an explicit `env=` for the workers) plus what Flink
and Java need, set here. See docs/security.md for the layers this is one of.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# where the binaries of a clean environment come from (Java's own bin dir goes first)
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"
LOCALE = "C.UTF-8"


def clean_environment(
    extra: Mapping[str, str], *, java_home: str | None = None, home: Path | None = None
) -> dict[str, str]:
    """An environment made from nothing: PATH, locale, HOME, JAVA_HOME, then `extra`."""
    path = SAFE_PATH if java_home is None else f"{Path(java_home) / 'bin'}:{SAFE_PATH}"
    env = {"PATH": path, "LANG": LOCALE, "LC_ALL": LOCALE}
    if home is not None:
        env["HOME"] = str(home)
    if java_home is not None:
        env["JAVA_HOME"] = java_home
    env.update(extra)
    return env


def java_home_of(java: str) -> str | None:
    """JAVA_HOME of a `java` binary (its real path's grandparent), or None if not found."""
    if not os.path.exists(java):
        return None
    return str(Path(os.path.realpath(java)).parent.parent)
