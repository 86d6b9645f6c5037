"""One settings object for the whole platform, read from `RTC_*` environment variables.

Nested areas use a double underscore: `RTC_AUTH__PUBLIC_SIGNUP=false`. A value missing from
the environment falls back to an embedded default that works on one machine; the few values
that must not keep a development default in production are refused at start.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseModel):
    """Sign-in, sessions and account security."""

    public_signup: bool = True
    password_min_length: int = 8
    max_failed_attempts: int = 5
    lockout_minutes: int = 15
    console_idle_minutes: int = 60
    console_absolute_hours: int = 12
    cli_idle_days: int = 7
    cli_absolute_days: int = 30
    # guide, chapter 账号管理 / 账号安全: after a long inactivity, sign-in needs a code
    verification_after_days: float = 30.0
    verification_code_minutes: int = 10
    max_access_keys: int = 2
    access_key_touch_seconds: int = 60
    # verified credentials are remembered this long in each process (0: off)
    credential_cache_seconds: float = 2.0


class SmtpSettings(BaseModel):
    """Outgoing e-mail for verification codes; without a host, codes go to the server log."""

    host: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    sender: str = "rtcompute@localhost"
    starttls: bool = False


class LoopSettings(BaseModel):
    """One reconciler loop: on or off, and how often it runs."""

    enabled: bool = True
    interval_seconds: float = 300.0


class ReconcilerSettings(BaseModel):
    """The runner that hosts every reconciler loop under one leader lease."""

    enabled: bool = True
    lease_seconds: float = 15.0
    session_janitor: LoopSettings = LoopSettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RTC_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".local/share/rtcompute")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    region: str = "local"
    bootstrap_account: str = "operator"
    bootstrap_password: str = ""
    max_body_bytes: int = 1024 * 1024
    # addresses of TLS-terminating proxies whose X-Forwarded-For/-Proto are believed, so that
    # client IPs in the audit trail and the console cookie's Secure flag are right behind them
    forwarded_allow_ips: str = ""
    log_level: str = "info"
    auth: AuthSettings = AuthSettings()
    smtp: SmtpSettings = SmtpSettings()
    reconcilers: ReconcilerSettings = ReconcilerSettings()

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> Settings:
        if self.environment == "production" and self.resolved_database_url.startswith("sqlite"):
            raise ValueError(
                "RTC_ENVIRONMENT=production needs RTC_DATABASE_URL pointing at PostgreSQL"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'rtcompute.db'}"


@functools.cache
def get_settings() -> Settings:
    return Settings()
