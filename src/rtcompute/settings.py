"""One settings object for the whole platform, read from `RTC_*` environment variables.

Nested areas use a double underscore: `RTC_AUTH__PUBLIC_SIGNUP=false`. A value missing from
the environment falls back to an embedded default that works on one machine; the few values
that must not keep a development default in production are refused at start.
"""

from __future__ import annotations

import functools
import urllib.parse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseModel):
    """Sign-in, sessions and account security."""

    public_signup: bool = True
    password_min_length: int = 8
    # sign-in throttling (domain/throttling.py): failures one source may make on one
    # identity, and on all identities, before it must wait `lockout_minutes`
    max_failed_attempts: int = Field(default=5, ge=1)
    max_failed_attempts_per_source: int = Field(default=100, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    console_idle_minutes: int = 60
    console_absolute_hours: int = 12
    cli_idle_days: int = 7
    cli_absolute_days: int = 30
    # guide, chapter 账号管理 / 账号安全: after a long inactivity, sign-in needs a code
    verification_after_days: float = 30.0
    verification_code_minutes: int = 10
    max_access_keys: int = 2
    # argon2id cost (argon2-cffi's defaults, RFC 9106 low memory); production refuses less
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)

    @model_validator(mode="after")
    def _argon2_memory_per_lane(self) -> AuthSettings:
        if self.password_memory_kib < 8 * self.password_parallelism:
            raise ValueError("auth: password_memory_kib must be at least 8 x password_parallelism")
        return self

    @property
    def weaker_passwords_than_default(self) -> bool:
        default = AuthSettings()
        return (
            self.password_time_cost < default.password_time_cost
            or self.password_memory_kib < default.password_memory_kib
            or self.password_parallelism < default.password_parallelism
        )

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
    # a standby takes over within about this plus a third of it after the leader dies
    lease_seconds: float = 3.0
    session_janitor: LoopSettings = LoopSettings()
    # brings clusters to their desired state: nodes, processes, health (one step per pass)
    clusters: LoopSettings = LoopSettings(interval_seconds=1.0)
    # expiry of subscriptions and hourly metering of pay-as-you-go clusters
    billing: LoopSettings = LoopSettings(interval_seconds=60.0)
    # installs and removals of engine versions, and stopping idle engine workers
    engines: LoopSettings = LoopSettings(interval_seconds=1.0)
    # drives online jobs to their desired state (per-job Flink clusters), one step per pass;
    # running jobs are read every `jobs.watch_interval_seconds`
    jobs: LoopSettings = LoopSettings(interval_seconds=0.5)
    # marks hosts whose agent went silent `hosts.lost_after_seconds` ago as lost
    hosts: LoopSettings = LoopSettings(interval_seconds=1.0)


class BillingSettings(BaseModel):
    """How orders get paid: `auto` (development) or `operator` (an operator approves); the
    currency prices are in; the service agreement a buyer accepts."""

    payment: Literal["auto", "operator"] | None = None
    # every price is in this currency (ISO 4217 code) and shown with its symbol; the guide's
    # prices are in yuan
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    currency_symbol: str = Field(default="¥", min_length=1, max_length=4)
    # the service agreement buyers accept (guide: 勾选服务协议): a UTF-8 text file; empty: the
    # default text shipped with rtcompute (services/capacity/agreement.py)
    agreement_file: Path | None = None

    def resolved_payment(self, environment: str) -> str:
        if self.payment is not None:
            return self.payment
        return "auto" if environment == "development" else "operator"


class LocalProviderSettings(BaseModel):
    """The `local` node provider: every node is a directory and a port range on this host."""

    port_min: int = 21000
    port_max: int = 29999
    ports_per_node: int = 10
    java: str = "java"
    # the Debian package's layout: jars under /usr/share/java, scripts here
    zookeeper_home: Path = Path("/usr/share/zookeeper")
    zookeeper_heap_mb: int = 64
    # a component that does not answer within this long after its start is failed
    start_timeout_seconds: float = 60.0


class StorageSettings(BaseModel):
    """Buckets: objects are files under `<data_dir>/buckets`."""

    max_object_bytes: int = 64 * 1024 * 1024


class EngineSettings(BaseModel):
    """Engine versions: per-version environments, the installer and the warm workers."""

    # where versions are installed (one copy per machine); default `<data_dir>/engines`
    home: Path | None = None
    # the version `rtc up` installs on the shared pool the first time (catalog name)
    default_version: str = "flink-2.2.1"
    # install it on the first start (when the pool has no version yet), with progress
    install_default: bool = True
    # package index for online installs (pip's own configuration when empty)
    index_url: str = ""
    # an install (environment, packages, verification) that takes longer has failed
    install_timeout_seconds: float = 1800.0
    # a warm worker nobody asked for this long is stopped
    worker_idle_seconds: float = 600.0
    # warm workers per version at most: an account takes one at a time, so one tenant's
    # heavy checks leave the others theirs (runtime/engines/workers.py)
    workers_per_version: int = Field(default=3, ge=1, le=16)
    # a request that keeps every worker of its version busy this long starts a spare one
    worker_spare_after_seconds: float = Field(default=1.0, ge=0.0)
    # a request a worker has not answered in this long: the worker is killed and restarted
    worker_request_timeout_seconds: float = 60.0
    # starting a worker (interpreter, JVM gateway) may take this long
    worker_start_timeout_seconds: float = 120.0
    # a job submission (DDL, planning, upload to the job's cluster) may take this long
    worker_submit_timeout_seconds: float = 120.0
    java: str = "java"


class JobsSettings(BaseModel):
    """Online jobs: each runs as its own Flink cluster (docs/jobs.md)."""

    # ports of the per-job Flink clusters (REST, RPC, blob, data), a block per run; kept
    # apart from the node providers' range
    port_min: int = 30000
    port_max: int = 39999
    ports_per_run: int = 32
    # a start (processes up, TaskManagers registered, job submitted) that takes longer fails
    start_timeout_seconds: float = 300.0
    # a stop with savepoint that takes longer is reported, and the job keeps running
    stop_timeout_seconds: float = 300.0
    # TaskManager slots of the shared pool (shared-mode projects' jobs) on this machine
    pool_slots: int = 32
    # the shared pool on joined hosts instead (docs/hosts.md): the name of a hosts zone whose
    # hosts all serve the pool (a host's CU: its cores, at most its memory / 4 GB); no
    # cluster is placed in that zone. Empty: the pool runs on this machine (`pool_slots`)
    pool_zone: str = ""
    # run jobs without the sandbox (own user, mount view, cgroups: docs/security.md): only
    # for an installation whose every job is trusted; the console says so on every page
    single_tenant: bool = False
    # paths the operator shares with every tenant sandbox (job processes, isolated workers),
    # read-write: a common dataset, a CA bundle; nothing of the platform's (docs/security.md)
    sandbox_paths: list[str] = []
    # process sizes: a JobManager, and a TaskManager's first slot and each further one. A
    # job gets what its CU pays for (1 CU = 4 GB): a 1-CU job is a 1 GB JobManager and a
    # 3 GB TaskManager; each further CU adds its whole 4 GB to the TaskManager (with the
    # managed fraction of RUN_DEFAULTS, a 1-CU TaskManager has a ~1.9 GB heap; 2.5 GB gave
    # 1.45 GB, where a 10-second window join died of GC overhead: docs/benchmarks.md)
    jobmanager_memory_mb: int = 1024
    taskmanager_memory_mb: int = 3072
    taskmanager_memory_per_extra_slot_mb: int = 4096
    # JVM options of JobManagers: they coordinate and process no records; the client
    # compiler alone and the serial collector keep them off the TaskManagers' cores (a fresh
    # JobManager's optimising compiler took 10-25% of a core while its job ran, 2-core node)
    jobmanager_java_opts: str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    # JVM options of TaskManagers: the throughput collector, with no concurrent GC threads
    # beside the task threads (window aggregate, 2-core node: 0.91 -> 1.06 of bare PyFlink,
    # docs/benchmarks.md)
    taskmanager_java_opts: str = "-XX:+UseParallelGC"
    # how often a running job's state, failovers and checkpoints are read from Flink
    watch_interval_seconds: float = 1.0
    # how often a running job's metrics are read, and how many readings are kept per job
    metrics_interval_seconds: float = 5.0
    metric_samples_kept: int = 360


class HostsSettings(BaseModel):
    """Joined hosts and their node agents (docs/hosts.md)."""

    # an agent reports every `heartbeat_seconds`; silent for `lost_after_seconds`, its host is
    # lost (five missed reports: one late packet or a GC pause is not a lost machine)
    heartbeat_seconds: float = Field(default=2.0, gt=0)
    lost_after_seconds: float = Field(default=10.0, gt=0)
    # how long the platform waits for an agent's answer (a Flink process's start included)
    call_timeout_seconds: float = Field(default=15.0, gt=0)
    # the platform's signing key for calls to agents (Ed25519, raw, 0600); several `rtc up`
    # on one database must share it. Default `<data_dir>/hosts/platform.key`
    platform_key_file: Path | None = None
    # a host keeps an engine version no cluster of the platform holds for this long before
    # its agent removes it (a cache for the next cluster that claims the host; a copy the
    # operator put there beforehand counts the same)
    unused_engine_seconds: float = Field(default=86400.0, ge=0)


class AlertSettings(BaseModel):
    """Where operational alerts go besides the server log (the guide sends an SMS)."""

    # POSTed as JSON {"subject", "body", "account", "kind"}; empty: no webhook
    webhook_url: str = ""
    webhook_timeout_seconds: float = 5.0

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value:
            return value
        parsed = urllib.parse.urlsplit(value)
        try:
            parsed.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            parsed = parsed._replace(netloc="")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("must be an http:// or https:// URL with a host (or empty)")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RTC_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".local/share/rtcompute")
    database_url: str = ""
    # reopen a database connection older than this (seconds; none: keep them open), for a
    # proxy or a server that drops idle connections
    database_pool_recycle_seconds: float | None = Field(default=None, gt=0)
    host: str = "127.0.0.1"
    port: int = 8080
    # the address users reach the console at, for links in alerts (default http://host:port)
    public_url: str = ""
    region: str = "local"
    bootstrap_account: str = "operator"
    bootstrap_password: str = ""
    max_body_bytes: int = 1024 * 1024
    # list answers are kept in memory until this process writes, for this long at most: what
    # another `rtc up` on the database changed shows within it (0: off; api/answers.py)
    answer_cache_seconds: float = 1.0
    # addresses of TLS-terminating proxies whose X-Forwarded-For/-Proto are believed, so that
    # client IPs in the audit trail and the console cookie's Secure flag are right behind them
    forwarded_allow_ips: str = ""
    log_level: str = "info"
    auth: AuthSettings = AuthSettings()
    smtp: SmtpSettings = SmtpSettings()
    reconcilers: ReconcilerSettings = ReconcilerSettings()
    billing: BillingSettings = BillingSettings()
    local_provider: LocalProviderSettings = LocalProviderSettings()
    storage: StorageSettings = StorageSettings()
    engines: EngineSettings = EngineSettings()
    jobs: JobsSettings = JobsSettings()
    alerts: AlertSettings = AlertSettings()
    hosts: HostsSettings = HostsSettings()
    # an offline wheelhouse (`pip wheel` output): installs use it instead of the index
    engine_wheelhouse: Path | None = None
    # the platform's clock runs this many days ahead of the machine's (or behind, negative):
    # date rules on a live server in tests and demos; refused in production
    clock_offset_days: float = 0.0

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> Settings:
        if self.environment == "production" and self.resolved_database_url.startswith("sqlite"):
            raise ValueError(
                "RTC_ENVIRONMENT=production needs RTC_DATABASE_URL pointing at PostgreSQL"
            )
        if self.environment == "production" and self.billing.payment == "auto":
            raise ValueError(
                "RTC_BILLING__PAYMENT=auto pays every order without approval; "
                "it is for development only (use `operator` in production)"
            )
        if self.environment == "production" and self.auth.weaker_passwords_than_default:
            raise ValueError(
                "RTC_AUTH__PASSWORD_* below argon2's defaults (time cost 3, 65536 KiB, "
                "parallelism 4) are for tests only"
            )
        if self.environment == "production" and self.clock_offset_days:
            raise ValueError("RTC_CLOCK_OFFSET_DAYS moves the clock; it is for tests only")
        if self.local_provider.port_max - self.local_provider.port_min < (
            self.local_provider.ports_per_node
        ):
            raise ValueError("local_provider: the port range holds no node")
        if self.jobs.port_max - self.jobs.port_min + 1 < self.jobs.ports_per_run:
            raise ValueError("jobs: the port range holds no run")
        if self.jobs.ports_per_run < 11:
            raise ValueError(
                "jobs: ports_per_run must be at least 11: two JobManagers take 8 ports, "
                "each TaskManager 3"
            )
        return self

    @property
    def payment(self) -> str:
        """`auto` or `operator`: the payment step in effect."""
        return self.billing.resolved_payment(self.environment)

    @property
    def console_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def platform_key_file(self) -> Path:
        return self.hosts.platform_key_file or self.data_dir / "hosts" / "platform.key"

    @property
    def engines_home(self) -> Path:
        return self.engines.home or self.data_dir / "engines"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'rtcompute.db'}"


@functools.cache
def get_settings() -> Settings:
    return Settings()
