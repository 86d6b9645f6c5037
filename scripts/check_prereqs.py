"""Checks what the project cannot install itself, with a message that says how to get it."""

import sys

if sys.version_info < (3, 11):
    sys.exit(
        f"rtcompute needs Python >= 3.11 (found {sys.version.split()[0]}). "
        "Install it from your distribution (e.g. `apt-get install python3.11`) or pyenv, "
        "then run `make PYTHON=python3.11 run`."
    )
print(f"prerequisites: Python {sys.version.split()[0]} ok")
