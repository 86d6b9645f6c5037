"""Per-job Flink clusters: start each JobManager and TaskManager detached, find, stop.

Every process is the java command line Flink's own `jobmanager.sh` / `taskmanager.sh
start-foreground` builds (flink-console.sh: the memory flags, `env.java.opts.*`, the log
settings, the class path of `lib/`, the entrypoint class), spawned directly. The scripts
start three JVMs of their own before the real one (BashJavaUtils to read the config, `java
-XshowSettings`, BashJavaUtils again for the memory flags): 3-3.5 s of a per-job cluster's
start on a 2-core node. The launcher asks BashJavaUtils for the memory flags itself, once
per version and memory configuration, and keeps the answer: Flink still sizes its memory.

Each process has its own conf dir (`<directory>/conf/<name>`) with a flat `config.yaml`
(domain/flinkconf.py) and copies of the package's log4j/logback files, its own tmp dir
(the planner loader unpacks a ~45 MB jar into java.io.tmpdir at every start and a killed
JVM never deletes it), and binds every port to its host only.

A process is ours when its pid file's pid is alive and its command line holds the marker
argument `rtcompute.process=<conf dir>`, passed as a dynamic property (`-D`). A crash
between spawn and pid file is covered by a /proc search for the same marker.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rtcompute.domain import flinkconf, job_placement
from rtcompute.runtime import cgroups, processes, sandbox

JOBMANAGER = "jobmanager"
TASKMANAGER = "taskmanager"
# what flink-console.sh runs for `jobmanager.sh` / `taskmanager.sh start-foreground`
ENTRYPOINTS = {
    JOBMANAGER: "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
    TASKMANAGER: "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
}
SERVICES = {JOBMANAGER: "standalonesession", TASKMANAGER: "taskexecutor"}
BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils"
RESOURCE_COMMANDS = {JOBMANAGER: "GET_JM_RESOURCE_PARAMS", TASKMANAGER: "GET_TM_RESOURCE_PARAMS"}
RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
MARKER_KEY = "rtcompute.process"
# the keys Flink's memory sizing reads (process sizes, fractions, slots, CPU, resources)
_SIZING_PREFIXES = (
    "jobmanager.memory.",
    "taskmanager.memory.",
    "taskmanager.network.",
    "external-resource",
)
_SIZING_KEYS = frozenset(
    {
        "taskmanager.numberOfTaskSlots",
        "taskmanager.cpu.cores",
        "jobmanager.heap.size",
        "taskmanager.heap.size",
        "jobmanager.heap.mb",
        "taskmanager.heap.mb",
    }
)
_JAVA_RELEASE = re.compile(r'^JAVA_VERSION="(?:1\.)?(\d+)', re.MULTILINE)


class LaunchError(Exception):
    """A process could not be started; the message says what to fix."""


# a process of a run, as the job placement made it (domain/job_placement.py): the launcher
# takes the placement's own value
FlinkProcess = job_placement.Process


@dataclass(frozen=True)
class JobCluster:
    run_key: str  # "job-12-run-3": unique; dirs, markers, HA cluster-id
    version: str  # "flink-2.2.1"
    engine_home: Path  # the version's venv: <engines_home>/<version>
    directory: Path  # <data>/flink/<run_key>
    processes: tuple[FlinkProcess, ...]
    config: Mapping[str, str]  # the job's flat Flink keys; the launcher adds the rest
    java_home: str | None = None
    tenant: sandbox.Tenant | None = None  # None: not sandboxed (single-tenant mode)

    def leader(self) -> FlinkProcess:
        """The JobManager TaskManagers and clients address without HA (index 0)."""
        for process in self.processes:
            if process.kind == JOBMANAGER and process.index == 0:
                return process
        raise LaunchError(f"cluster {self.run_key} has no jobmanager-0")


@dataclass(frozen=True)
class LogFile:
    process: str  # "jobmanager-0"
    kind: str  # "log" | "out" (out: stdout and stderr, where the print sink writes)
    path: Path


def flink_home(engine_home: Path) -> Path | None:
    """The pyflink package of a version's venv (FLINK_HOME), or None if not installed."""
    found = sorted(engine_home.glob("lib/python3*/site-packages/pyflink/bin/jobmanager.sh"))
    return found[0].parent.parent if found else None


def conf_dir(cluster: JobCluster, process: FlinkProcess) -> Path:
    return Path(job_placement.conf_dir(str(cluster.directory), process.name))


def cgroup_key(cluster: JobCluster, process: FlinkProcess) -> str:
    """The name of a sandboxed process's cgroups (runtime/sandbox.py)."""
    return f"{cluster.run_key}-{process.name}"


def pid_file(cluster: JobCluster, process: FlinkProcess) -> Path:
    return cluster.directory / "pids" / f"{process.name}.pid"


def log_dir(cluster: JobCluster) -> Path:
    return cluster.directory / "log"


def tmp_dir(cluster: JobCluster, process: FlinkProcess) -> Path:
    return cluster.directory / "tmp" / process.name


def markers(cluster: JobCluster, process: FlinkProcess) -> tuple[str, ...]:
    """Whole arguments only this process has (taskmanager-1 is not taskmanager-10)."""
    return (f"{MARKER_KEY}={conf_dir(cluster, process)}",)


def process_config(
    cluster: JobCluster, process: FlinkProcess, package: Mapping[str, str]
) -> dict[str, str]:
    """The flat configuration of one process: the job's keys, then what the platform owns."""
    leader = cluster.leader()
    tmp = tmp_dir(cluster, process)
    java_opts = package.get("env.java.opts.all", "")
    flat = dict(cluster.config)
    flat.update(
        {
            # console.log.level=OFF: the log goes to its file only, so stdout (`<name>.out`)
            # holds what the job prints (the print connector) and errors, not a log copy
            "env.java.opts.all": (
                f"{java_opts} -Djava.io.tmpdir={tmp} -Dconsole.log.level=OFF"
            ).strip(),
            "env.log.dir": str(log_dir(cluster)),
            "env.pid.dir": str(cluster.directory / "pids"),
            "io.tmp.dirs": str(tmp),
            "jobmanager.rpc.address": leader.host,
            "jobmanager.rpc.port": str(leader.rpc_port),
            "rest.address": leader.host,
            "rest.port": str(leader.rest_port),
            # jobs arrive through the platform's submission only: no JAR upload or run
            # through Flink's REST API, which has no authentication
            "web.submit.enable": "false",
        }
    )
    if process.metrics_port:
        flat["metrics.internal.query-service.port"] = str(process.metrics_port)
    if process.kind == JOBMANAGER:
        flat.update(
            {
                "jobmanager.bind-host": process.host,
                "jobmanager.rpc.address": process.host,
                "jobmanager.rpc.port": str(process.rpc_port),
                "high-availability.jobmanager.port": str(process.rpc_port),
                "rest.bind-address": process.host,
                "rest.address": process.host,
                "rest.port": str(process.rest_port),
                "blob.server.port": str(process.blob_port),
                "jobmanager.memory.process.size": f"{process.memory_mb}m",
            }
        )
    else:
        flat.update(
            {
                "taskmanager.bind-host": process.host,
                "taskmanager.host": process.host,
                "taskmanager.rpc.port": str(process.rpc_port),
                "taskmanager.data.port": str(process.data_port),
                "taskmanager.numberOfTaskSlots": str(max(process.slots, 1)),
                "taskmanager.memory.process.size": f"{process.memory_mb}m",
                "taskmanager.resource-id": f"{cluster.run_key}-{process.name}",
            }
        )
    return flat


def flink_dist(home: Path) -> Path:
    """The package's one `lib/flink-dist*.jar`."""
    found = sorted((home / "lib").glob("flink-dist*.jar"))
    if len(found) != 1:
        raise LaunchError(
            f"{home / 'lib'} holds {len(found)} flink-dist jars, not one: reinstall the version"
        )
    return found[0]


def class_path(home: Path) -> str:
    """The jars of `lib/` by name, flink-dist last (config.sh constructFlinkClassPath)."""
    dist = flink_dist(home)
    jars = [jar for jar in sorted((home / "lib").glob("*.jar")) if jar != dist]
    return ":".join(str(jar) for jar in [*jars, dist])


def java_options(flat: Mapping[str, str], kind: str) -> list[str]:
    """`env.java.opts.*` of the process's config, as flink-console.sh passes them."""
    shared = flat.get("env.java.opts.all") or flat.get("env.java.opts", "")
    text = " ".join(
        (
            flat.get("env.java.default-opts.all", ""),
            shared,
            flat.get(f"env.java.default-opts.{kind}", ""),
            flat.get(f"env.java.opts.{kind}", ""),
        )
    )
    try:
        return ["-XX:+IgnoreUnrecognizedVMOptions", *shlex.split(text)]
    except ValueError as exc:
        raise LaunchError(f"env.java.opts of the {kind}: {exc}") from exc


def java_feature(java: str) -> int | None:
    """The Java feature release (17) from the runtime's `release` file, without a JVM."""
    home = Path(os.path.realpath(java)).parent.parent
    with contextlib.suppress(OSError):
        found = _JAVA_RELEASE.search((home / "release").read_text())
        if found:
            return int(found.group(1))
    return None


def sizing(flat: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The keys of a process's configuration its memory flags depend on, in order."""
    return tuple(
        sorted(
            (key, value)
            for key, value in flat.items()
            if key in _SIZING_KEYS or key.startswith(_SIZING_PREFIXES)
        )
    )


def _assignments(env: Mapping[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in env.items()]


class FlinkLauncher:
    def __init__(
        self, *, stop_grace: float = 10.0, owns: Callable[[int], bool] = lambda pid: True
    ) -> None:
        """`owns` tells this host's processes from others that share its /proc (hosts
        simulated as network namespaces of one machine): a run's pid files lie on the
        storage every host shares, so a pid there may be another host's."""
        self.stop_grace = stop_grace
        self.owns = owns
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        # (java, FLINK_HOME, kind, sizing keys) -> (JVM memory flags, dynamic properties)
        self._sized: dict[tuple[object, ...], tuple[list[str], list[str]]] = {}

    def start(self, cluster: JobCluster, process: FlinkProcess) -> int:
        """Write the process's config, spawn it detached (own session), pid file; return pid."""
        home = flink_home(cluster.engine_home)
        if home is None:
            raise LaunchError(
                f"engine {cluster.version} is not installed at {cluster.engine_home} "
                "(no pyflink/bin/jobmanager.sh): install the version, then restart the job"
            )
        java_home, java = self._java(cluster)
        conf = conf_dir(cluster, process)
        try:
            flat = self._prepare(cluster, process, home, conf)
        except OSError as exc:
            raise LaunchError(f"cannot prepare {conf}: {exc.strerror or exc}") from exc
        environment = self._environment(cluster, process, home, java_home)
        memory, dynamic = self._resources(cluster, process, home, java, environment, flat)
        options = java_options(flat, process.kind)
        if (java_feature(java) or 0) > 17:  # config.sh: System.setSecurityManager at run time
            options.append("-Djava.security.manager=allow")
        log_file = log_dir(cluster) / (
            f"flink-{process.name}-{SERVICES[process.kind]}-0-{socket.gethostname()}.log"
        )
        log4j = f"file:{conf / 'log4j-console.properties'}"
        # `env -i` starts from nothing (nothing of `rtc up`'s environment reaches a tenant's
        # job: runtime/sandbox.py), sets ours, then execs java, so the pid stays the same
        argv = ["env", "-i", *_assignments(environment), java, *memory, *options]
        argv += [
            f"-Dlog.file={log_file}",
            f"-Dlog4j.configuration={log4j}",
            f"-Dlog4j.configurationFile={log4j}",
            f"-Dlogback.configurationFile=file:{conf / 'logback-console.xml'}",
            "-classpath",
            class_path(home),
            ENTRYPOINTS[process.kind],
            "--configDir",
            str(conf),
            *dynamic,
            "-D",
            markers(cluster, process)[0],
        ]
        if cluster.tenant is not None:
            argv = self._confine(cluster, process, argv, java, home)
        try:
            child = processes.spawn(
                argv,
                log_file=log_dir(cluster) / f"{process.name}.out",
                pid_file=pid_file(cluster, process),
                cwd=cluster.directory,
            )
        except OSError as exc:
            raise LaunchError(f"cannot start {process.name}: {exc.strerror or exc}") from exc
        self._children[child.pid] = child
        if cluster.tenant is None:
            return child.pid
        # bwrap runs the JVM as its child: the JVM is the process (pid file, signals)
        wanted = markers(cluster, process)
        pid = sandbox.inner_pid(child.pid, lambda p: processes.matches(p, wanted))
        if pid is None:
            out = log_dir(cluster) / f"{process.name}.out"
            tail = "\n".join(out.read_text(errors="replace").splitlines()[-5:])
            raise LaunchError(f"the sandbox of {process.name} did not start: {tail}")
        pid_file(cluster, process).write_text(f"{pid}\n")
        return pid

    def _confine(
        self,
        cluster: JobCluster,
        process: FlinkProcess,
        argv: list[str],
        java: str,
        home: Path,
    ) -> list[str]:
        """`argv` in the tenant's sandbox: its user owns the run directory and its state."""
        assert cluster.tenant is not None
        uid, gid = sandbox.ensure_user(cluster.tenant.user)
        owned = [Path(m.path) for m in cluster.tenant.mounts if m.owned]
        sandbox.own([cluster.directory, *owned], uid, gid)
        if process.kind == JOBMANAGER:
            limits = sandbox.jobmanager_limits(process.memory_mb)
        else:
            limits = sandbox.taskmanager_limits(max(process.slots, 1), process.memory_mb)
        readable = [str(Path(os.path.realpath(cluster.engine_home)))]
        java_home = sandbox.java_home_of(java)
        if java_home is not None:
            readable.append(java_home)
        return sandbox.wrap(
            argv,
            key=cgroup_key(cluster, process),
            tenant=cluster.tenant,
            limits=limits,
            readable=readable,
            workdir=cluster.directory,
        )

    def _java(self, cluster: JobCluster) -> tuple[str | None, str]:
        """(JAVA_HOME to set, or None for the PATH's java; the java binary)."""
        if cluster.java_home:
            java = Path(cluster.java_home) / "bin" / "java"
            if not java.exists():
                raise LaunchError(
                    f"no Java at {cluster.java_home}/bin/java: fix the configured Java home"
                )
            return cluster.java_home, str(java)
        found = shutil.which("java")
        if found is None:
            raise LaunchError("no `java` on PATH: install a Java 17 runtime or configure one")
        return None, found

    def _resources(
        self,
        cluster: JobCluster,
        process: FlinkProcess,
        home: Path,
        java: str,
        environment: Mapping[str, str],
        flat: Mapping[str, str],
    ) -> tuple[list[str], list[str]]:
        """Flink's memory flags for the process (BashJavaUtils, as the scripts run it)."""
        key = (java, str(home), process.kind, sizing(flat))
        if key in self._sized:
            return self._sized[key]
        jars = f"{home / 'bin' / 'bash-java-utils.jar'}:{flink_dist(home)}"
        argv = [java, "-classpath", jars, BASH_JAVA_UTILS]
        argv += [RESOURCE_COMMANDS[process.kind], "--configDir", str(conf_dir(cluster, process))]
        try:
            done = subprocess.run(
                argv,
                env=dict(environment),
                cwd=cluster.directory,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LaunchError(f"cannot size the {process.name}'s memory: {exc}") from exc
        output = done.stdout + done.stderr
        results = [
            line[len(RESULT_PREFIX) :]
            for line in output.splitlines()
            if line.startswith(RESULT_PREFIX)
        ]
        if done.returncode != 0 or len(results) != 2:
            tail = "\n".join(output.strip().splitlines()[-5:])
            raise LaunchError(f"Flink refused the {process.name}'s memory settings:\n{tail}")
        sized = (shlex.split(results[0]), shlex.split(results[1]))
        self._sized[key] = sized
        return sized

    def _prepare(
        self, cluster: JobCluster, process: FlinkProcess, home: Path, conf: Path
    ) -> dict[str, str]:
        """Write the process's conf dir; return its flat configuration."""
        for directory in (conf, log_dir(cluster), cluster.directory / "pids"):
            directory.mkdir(parents=True, exist_ok=True)
        tmp_dir(cluster, process).mkdir(parents=True, exist_ok=True)
        package_file = home / "conf" / "config.yaml"
        package = flinkconf.flatten_yaml(package_file.read_text()) if package_file.exists() else {}
        for pattern in ("log4j*", "logback*"):
            for source in (home / "conf").glob(pattern):
                shutil.copyfile(source, conf / source.name)
        flat = process_config(cluster, process, package)
        text = flinkconf.render_config(cluster.version, flat)
        target = conf / flinkconf.config_file_name(cluster.version)
        temporary = target.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(target)
        return flat

    def _environment(
        self, cluster: JobCluster, process: FlinkProcess, home: Path, java_home: str | None
    ) -> dict[str, str]:
        """What config.sh exports to the JVM, in an environment made from nothing."""
        flink = {
            "FLINK_CONF_DIR": str(conf_dir(cluster, process)),
            "FLINK_BIN_DIR": str(home / "bin"),
            "FLINK_LIB_DIR": str(home / "lib"),
            "FLINK_OPT_DIR": str(home / "opt"),
            "FLINK_PLUGINS_DIR": str(home / "plugins"),
            "FLINK_LOG_DIR": str(log_dir(cluster)),
            "FLINK_PID_DIR": str(cluster.directory / "pids"),
            # log files are named flink-<ident>-<service>-<n>-<host>.log
            "FLINK_IDENT_STRING": process.name,
            "TMPDIR": str(tmp_dir(cluster, process)),
        }
        return sandbox.clean_environment(flink, java_home=java_home, home=cluster.directory)

    def find(self, cluster: JobCluster, process: FlinkProcess) -> int | None:
        """pid of the live process (pid file + cmdline marker; /proc search if no pid file)."""
        self._reap()
        wanted = markers(cluster, process)
        pid = processes.live_pid(pid_file(cluster, process), wanted)
        if pid is not None and self.owns(pid):
            return pid
        found = [p for p in processes.search(wanted) if self.owns(p)]
        if not found:
            return None
        keep, extras = found[0], found[1:]
        processes.terminate(extras, markers=dict.fromkeys(extras, wanted), grace=1.0)
        with contextlib.suppress(OSError):
            pid_file(cluster, process).write_text(f"{keep}\n")
        return keep

    def stop(self, cluster: JobCluster, processes_: Sequence[FlinkProcess] | None = None) -> None:
        """SIGTERM, then SIGKILL after stop_grace; all processes of the run by default."""
        targets = list(cluster.processes if processes_ is None else processes_)
        self._signal(cluster, targets, grace=self.stop_grace)

    def kill(self, cluster: JobCluster, process: FlinkProcess) -> None:
        """SIGKILL at once (tests, failover drills)."""
        self._signal(cluster, [process], grace=0.0)

    def _signal(self, cluster: JobCluster, targets: list[FlinkProcess], *, grace: float) -> None:
        found: dict[int, Sequence[str]] = {}
        for process in targets:
            pid = self.find(cluster, process)
            if pid is not None:
                found[pid] = markers(cluster, process)
        processes.terminate(list(found), markers=found, grace=grace)
        for process in targets:
            self._uncage(cluster, process)
        for pid in found:
            child = self._children.pop(pid, None)
            if child is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(5.0)
        for process in targets:
            pid_file(cluster, process).unlink(missing_ok=True)

    @staticmethod
    def _uncage(cluster: JobCluster, process: FlinkProcess) -> None:
        """Remove the process's cgroups once its sandbox has ended."""
        cgroups.remove(cgroup_key(cluster, process))

    @staticmethod
    def memory_kills(cluster: JobCluster, process: FlinkProcess) -> int:
        """How often its memory limit (its CU) killed the process in its last life: read
        before it is started again (a start gives it fresh cgroups)."""
        return cgroups.oom_killed(cgroup_key(cluster, process))

    def _reap(self) -> None:
        for pid, child in list(self._children.items()):
            if child.poll() is not None:
                del self._children[pid]

    def logs(self, cluster: JobCluster) -> list[LogFile]:
        """Each process's Flink log files and its stdout file, those that exist."""
        found: list[LogFile] = []
        directory = log_dir(cluster)
        for process in cluster.processes:
            out = directory / f"{process.name}.out"
            if out.is_file():
                found.append(LogFile(process.name, "out", out))
            for path in sorted(directory.glob(f"flink-{process.name}-*.log")):
                found.append(LogFile(process.name, "log", path))
        return found

    def remove(self, cluster: JobCluster) -> None:
        """Delete the run directory (after stop): configs, logs, pids, tmp."""
        shutil.rmtree(cluster.directory, ignore_errors=True)
