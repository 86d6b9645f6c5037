"""Virtual-environment chores of the installer, apart so that installer.py stays the
orchestration: pip's output turned into progress, the size of an environment counted while
the verification runs, the venv command, and pointing scripts at the renamed directory."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path

# percent at the end of each phase (monotonic over the whole install)
ENVIRONMENT_DONE = 5
COLLECTING_DONE = 35
INSTALLING_DONE = 75  # then verify.STEPS, up to 98


class PipProgress:
    """Turns pip's output into progress: packages collected, then packages installed."""

    def __init__(self, phase: str, installed_before: int) -> None:
        self.phase = phase
        self.collected = 0
        self.before = installed_before
        self.total = 0
        self.installed = -1

    def feed(self, line: str) -> tuple[str, int, str] | None:
        text = line.strip()
        if text.startswith(("Collecting ", "Processing ", "Downloading ", "Building wheel")):
            if text.startswith(("Downloading ", "Building wheel")):
                self.phase = "downloading"
            else:
                self.collected += 1
            # a version pulls in 30-50 packages: approach the phase's end, never reach it
            share = 1 - 0.93**self.collected
            percent = ENVIRONMENT_DONE + int((COLLECTING_DONE - ENVIRONMENT_DONE) * share)
            return self.phase, percent, text[:200]
        if text.startswith("Installing collected packages:"):
            self.total = len(text.split(":", 1)[1].split(","))
            self.installed = 0
            return "installing", COLLECTING_DONE, f"{self.total} packages"
        if text.startswith("Successfully installed"):
            return "installing", INSTALLING_DONE, "packages installed"
        return None

    def tick(self, site: Path) -> tuple[str, int, str] | None:
        if self.total <= 0:
            return None
        installed = min(self.total, max(0, dist_infos(site) - self.before))
        if installed == self.installed:
            return None
        self.installed = installed
        percent = COLLECTING_DONE + (INSTALLING_DONE - COLLECTING_DONE) * installed // self.total
        return "installing", percent, f"{installed}/{self.total} packages"


class Sizing:
    """Adds up the environment's size in a thread while the verification job runs."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._size = 0
        self._thread = threading.Thread(target=self._walk, name="installer-size", daemon=True)
        self._thread.start()

    def _walk(self) -> None:
        total = 0
        for folder, _dirs, files in os.walk(self._root):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(folder, name)).st_size
        self._size = total

    def result(self) -> int:
        self._thread.join()
        return self._size


def venv_command(path: Path, *, prompt: str, with_pip: bool) -> list[str]:
    # the base interpreter: a venv made from the control plane's venv still links to it
    base = getattr(sys, "_base_executable", "") or sys.executable
    options = ["--prompt", prompt, *([] if with_pip else ["--without-pip"])]
    return [base, "-m", "venv", *options, str(path)]


def dist_infos(site: Path) -> int:
    try:
        return sum(1 for name in os.listdir(site) if name.endswith(".dist-info"))
    except OSError:
        return 0


def relocate(partial: Path, final: Path) -> None:
    """Point the environment's scripts at the place it is renamed to (shebangs, activate)."""
    old, new = str(partial), str(final)
    for script in (partial / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        try:
            text = script.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        if old in text:
            mode = script.stat().st_mode
            script.write_text(text.replace(old, new))
            script.chmod(mode)
    config = partial / "pyvenv.cfg"
    if config.exists():
        config.write_text(config.read_text().replace(old, new))
