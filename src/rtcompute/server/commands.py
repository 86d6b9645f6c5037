"""`rtc up` and `rtc db ...`: start the platform, manage the schema.

These are the only commands that touch the database directly; every other command is a
client of the API.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import pydantic
import typer

from rtcompute import errors, quietlog
from rtcompute import settings as settings_module

if TYPE_CHECKING:
    from rtcompute.reconcilers import base as reconciler_base
    from rtcompute.runtime.engines import installer as installer_module
    from rtcompute.runtime.engines import workers as workers_module
    from rtcompute.runtime.providers import hosts as hosts_provider
    from rtcompute.services.kernel import platform as platform_module

# The web stack, the database layer and the reconcilers are imported inside the commands:
# `rtc` is also the client CLI, whose every call should not pay ~1 s of server imports.

db_app = typer.Typer(help="Manage the metadata store's schema (Alembic migrations).")


def load_settings(
    host: str | None = None, port: int | None = None, data_dir: Path | None = None
) -> settings_module.Settings:
    overrides: dict[str, object] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if data_dir:
        overrides["data_dir"] = data_dir
    try:
        return settings_module.Settings(**overrides)  # type: ignore[arg-type]
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        fail(f"the settings are not valid ({problems}); see docs/operations.md")


def fail(message: str) -> NoReturn:
    """One line on stderr, exit status 2: a configuration problem, not a crash."""
    typer.echo(f"rtc: {message}", err=True)
    raise typer.Exit(2)


def prepare(settings: settings_module.Settings) -> None:
    from rtcompute.store import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    migrate.upgrade(settings.resolved_database_url)


DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (RTC_DATA_DIR).", show_default=False),
]


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply every pending migration (safe to repeat)."""
    from rtcompute.store import migrate

    settings = load_settings(data_dir=data_dir)
    prepare(settings)
    typer.echo(f"database at revision {migrate.head_revision()}")


@db_app.command("current")
def db_current(data_dir: DataDir = None) -> None:
    """Show the schema revision of the database and whether it is the newest."""
    from rtcompute.services.kernel import platform as platform_module
    from rtcompute.store import migrate

    settings = load_settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    platform = platform_module.build_platform(settings)
    current = migrate.current_revision(platform.engine)
    head = migrate.head_revision()
    state = "(head)" if current == head else f"(behind head {head}: run `rtc db upgrade`)"
    typer.echo(f"{current or 'empty'} {state}")


def bootstrap_operator(platform: platform_module.Platform, base_url: str) -> None:
    """On the first start: the operator account, and how to sign in to it (printed once)."""
    from rtcompute.services.kernel import accounts

    try:
        created = accounts.bootstrap(platform)
    except errors.RtcError as exc:
        fail(f"cannot create the operator account: {exc.message} (RTC_BOOTSTRAP_*)")
    if created is None:
        return
    lines = [
        "rtcompute: first start, operator account created",
        f"  sign-in URL: {base_url}/login/{created.alias}",
        f"  account:     {created.alias}",
    ]
    if created.password:
        lines.append(f"  password:    {created.password}   (shown once; change it)")
    else:
        lines.append("  password:    from RTC_BOOTSTRAP_PASSWORD")
    print("\n".join(lines), flush=True)


def agent_client(platform: platform_module.Platform) -> hosts_provider.AgentClient:
    """Signed calls to the joined hosts' agents (docs/hosts.md)."""
    from rtcompute.runtime.providers import hosts as hosts_provider
    from rtcompute.services.capacity import hosts as host_service

    return hosts_provider.AgentClient(
        host_service.platform_keys(platform),
        timeout=platform.settings.hosts.call_timeout_seconds,
    )


def reconcilers(
    platform: platform_module.Platform,
    installer: installer_module.Installer,
    workers: workers_module.WorkerPool,
) -> list[reconciler_base.Reconciler]:
    """The loops the settings turn on: sessions, hosts, clusters, engines, jobs, billing."""
    from rtcompute.reconcilers import sessions as session_reconciler

    settings = platform.settings.reconcilers
    loops: list[reconciler_base.Reconciler] = []
    if settings.session_janitor.enabled:
        interval = settings.session_janitor.interval_seconds
        loops.append(session_reconciler.SessionJanitor(platform, interval))
    if settings.hosts.enabled:
        from rtcompute.reconcilers import hosts as host_reconciler

        loops.append(host_reconciler.HostWatch(platform, settings.hosts.interval_seconds))
    if settings.clusters.enabled:
        from rtcompute.reconcilers import clusters as cluster_reconciler
        from rtcompute.runtime.providers import hosts as hosts_provider
        from rtcompute.runtime.providers import local as local_provider

        provider = hosts_provider.Routing(
            local_provider.LocalProvider(platform.settings),
            hosts_provider.HostsProvider(agent_client(platform)),
        )
        interval = settings.clusters.interval_seconds
        loops.append(cluster_reconciler.ClusterReconciler(platform, provider, interval))
    if settings.engines.enabled:
        from rtcompute.reconcilers import engines as engine_reconciler

        interval = settings.engines.interval_seconds
        loops.append(engine_reconciler.EngineReconciler(platform, installer, workers, interval))
    if settings.jobs.enabled:
        from rtcompute.reconcilers import job_runtime
        from rtcompute.reconcilers import jobs as job_reconciler

        runtime = job_runtime.FlinkRuntime(
            engines_home=platform.settings.engines_home,
            workers=workers,
            platform=platform,
            single_tenant=platform.settings.jobs.single_tenant,
            sandbox_paths=tuple(platform.settings.jobs.sandbox_paths),
            agents=job_runtime.HostAgents(platform, agent_client(platform)),
        )
        loops.append(job_reconciler.JobReconciler(platform, runtime))
    if settings.billing.enabled:
        from rtcompute.reconcilers import billing as billing_reconciler

        loops.append(billing_reconciler.Billing(platform, settings.billing.interval_seconds))
    return loops


def up(
    host: Annotated[str | None, typer.Option(help="Address to bind (RTC_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (RTC_PORT), default 8080.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Start the API, the console and the reconcilers; bootstrap the operator on first start."""
    import uvicorn

    from rtcompute.api import app as app_module
    from rtcompute.reconcilers import runner as runner_module
    from rtcompute.services.engines import versions as engine_versions
    from rtcompute.services.kernel import platform as platform_module

    settings = load_settings(host, port, data_dir)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quietlog.install()
    # the calls to the hosts' agents are several a second: their lines only when they fail
    logging.getLogger("httpx").setLevel(logging.WARNING)
    prepare(settings)
    platform = platform_module.build_platform(settings)
    base_url = f"http://{settings.host}:{settings.port}"
    bootstrap_operator(platform, base_url)
    installer, workers = engine_runtime(settings)
    # what an install of a killed `rtc up` on this data directory left running (pip, a
    # verifier) is stopped before anything installs again
    installer.stop_left_overs()
    platform.sql_engine = workers
    if settings.engines.install_default and engine_versions.pool_is_empty(platform):
        install_default_engine(platform, installer)
    runner = runner_module.Runner(platform, reconcilers(platform, installer, workers))

    def start() -> None:
        if settings.reconcilers.enabled:
            runner.start()
        print(f"rtcompute {base_url} (console {base_url}/, API {base_url}/api/docs)", flush=True)

    def stop() -> None:
        runner.stop()
        workers.close()
        platform.engine.dispose()

    app = app_module.create_app(platform, on_start=start, on_stop=stop)
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # scans (gc.freeze), so that full collections under load stay short (p99 latency).
    gc.collect()
    gc.freeze()
    gc.enable()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,  # uvicorn's records go to the handler above, through its filter
        access_log=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )


def engine_runtime(
    settings: settings_module.Settings,
) -> tuple[installer_module.Installer, workers_module.WorkerPool]:
    """The installer and the warm workers of this machine's engine versions."""
    from rtcompute.runtime import sandbox
    from rtcompute.runtime.engines import installer as installer_module
    from rtcompute.runtime.engines import workers as workers_module

    engines = settings.engines
    installer = installer_module.Installer(
        settings.engines_home,
        wheelhouse=settings.engine_wheelhouse,
        index_url=engines.index_url,
        java=engines.java,
        timeout=engines.install_timeout_seconds,
    )
    workers = workers_module.WorkerPool(
        settings.engines_home,
        idle_seconds=engines.worker_idle_seconds,
        request_timeout=engines.worker_request_timeout_seconds,
        start_timeout=engines.worker_start_timeout_seconds,
        submit_timeout=engines.worker_submit_timeout_seconds,
        per_version=engines.workers_per_version,
        spare_after=engines.worker_spare_after_seconds,
        java=engines.java,
        sandboxed=not settings.jobs.single_tenant and sandbox.unavailable() is None,
        sandbox_paths=tuple(settings.jobs.sandbox_paths),
    )
    return installer, workers


def install_default_engine(
    platform: platform_module.Platform, installer: installer_module.Installer
) -> None:
    """First start: install the default version on the shared pool, with a progress bar.
    A failure is reported and the platform starts anyway (install it later)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from rtcompute.services.engines import copies as engine_copies
    from rtcompute.services.engines import versions as engine_versions

    version = platform.settings.engines.default_version
    source = platform.settings.engine_wheelhouse or "the package index"
    print(f"rtcompute: first start, installing engine {version} from {source}", flush=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns) as progress:
            task = progress.add_task(f"{version}: starting", total=100)

            def on_progress(event: installer_module.Progress) -> None:
                progress.update(
                    task, completed=event.percent, description=f"{version}: {event.phase}"
                )

            copy = installer.install(version, on_progress)
    except installer_module.InstallFailed as exc:
        print(
            f"rtcompute: engine {version} was not installed: {exc}; the platform starts "
            "without it (install it with `rtc pool versions install`)",
            flush=True,
        )
        return
    engine_copies.copy_ready(
        platform,
        "local",
        version,
        path=str(copy.path),
        size_bytes=copy.size_bytes,
        source=copy.source,
    )
    engine_versions.seed_pool(platform, version, "rtc up (first start)")
    print(f"rtcompute: engine {version} installed: the shared pool's current version", flush=True)


def agent(
    server: Annotated[str, typer.Option(help="The platform's URL, e.g. http://10.0.0.1:8080.")],
    token: Annotated[
        str | None,
        typer.Option(help="Join token (`rtc hosts join-token create`); first start only."),
    ] = None,
    state_dir: Annotated[
        Path,
        typer.Option(help="Where the agent keeps its key and identity."),
    ] = Path("/var/lib/rtcompute-agent"),
    name: Annotated[str | None, typer.Option(help="Host name (default: this machine's).")] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Address the platform reaches this host at (default: the route's)."),
    ] = None,
    port: Annotated[int, typer.Option(help="Port the agent serves on.")] = 7400,
    cores: Annotated[
        int | None, typer.Option(help="Cores offered to rtcompute (default: all).")
    ] = None,
    memory_gb: Annotated[
        int | None, typer.Option(help="Memory offered, GB (default: all).")
    ] = None,
    pin: Annotated[
        str | None, typer.Option(help="Serve only nodes of this machine type, e.g. 8c32g.")
    ] = None,
) -> None:
    """Run the node agent of a joined host: join once with a token, then report and serve."""
    import socket

    from rtcompute.runtime import hostagent

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per heartbeat
    state = hostagent.State(state_dir)
    identity = state.identity()
    try:
        if identity is None:
            if token is None:
                fail(f"{state_dir} holds no identity: start the agent with --token to join")
            identity = hostagent.join(
                state,
                server=server.rstrip("/"),
                token=token,
                name=name or socket.gethostname(),
                address=address or hostagent.address_towards(server),
                port=port,
                cores=cores,
                memory_mb=memory_gb * 1024 if memory_gb else None,
                pinned_type=pin,
            )
            print(f"joined zone {identity.zone} as host {identity.name}", flush=True)
        elif token is not None:
            print(f"already joined as host {identity.name}: the token is not used", flush=True)
        code = hostagent.Agent(state, identity).run()
    except hostagent.AgentError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot reach or serve: {exc}")
    raise typer.Exit(code)
