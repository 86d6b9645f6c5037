"""Checks what the project cannot install itself, with a message that says how to get it."""

import importlib.util
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
print(f"prerequisites: Python {sys.version.split()[0]} with venv: ok")
