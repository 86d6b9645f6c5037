"""The CLI profile file: `~/.config/rtcompute/config.toml` (or `$RTC_CONFIG_DIR`), mode 600.

Environment variables win over the file: `RTC_ENDPOINT`, and `RTC_ACCESS_KEY_ID` with
`RTC_ACCESS_KEY_SECRET` for scripts that should not keep a session on disk.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Profile:
    endpoint: str = ""
    token: str = ""
    account: str = ""
    user: str = ""


def config_path() -> Path:
    base = os.environ.get("RTC_CONFIG_DIR")
    root = Path(base) if base else Path.home() / ".config" / "rtcompute"
    return root / "config.toml"


def load_all() -> dict[str, Profile]:
    path = config_path()
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    profiles = data.get("profiles", {})
    return {
        name: Profile(**{k: str(v) for k, v in values.items() if k in Profile.__annotations__})
        for name, values in profiles.items()
    }


def load(name: str) -> Profile:
    profile = load_all().get(name, Profile())
    if os.environ.get("RTC_ENDPOINT"):
        profile.endpoint = os.environ["RTC_ENDPOINT"]
    key_id = os.environ.get("RTC_ACCESS_KEY_ID")
    secret = os.environ.get("RTC_ACCESS_KEY_SECRET")
    if key_id and secret:
        profile.token = f"{key_id}:{secret}"
    return profile


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def save(name: str, profile: Profile) -> Path:
    profiles = load_all()
    profiles[name] = profile
    lines = ["# rtcompute CLI profiles; holds credentials: keep it private (mode 600)", ""]
    for profile_name, values in sorted(profiles.items()):
        lines.append(f"[profiles.{_toml_string(profile_name)}]")
        for field in Profile.__annotations__:
            lines.append(f"{field} = {_toml_string(getattr(values, field))}")
        lines.append("")
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines))
    os.chmod(path, 0o600)
    return path
