"""ZooKeeper members from the Debian package: configuration, command line, health words.

The command is the one `zkServer.sh` would run, without the script: `java -cp <jars>
QuorumPeerMain <zoo.cfg>`, so the pid we record is the JVM's own and the reconciler can
find it again in /proc. The Debian `zookeeper.jar` names its dependencies in its manifest
(Class-Path), so the class path only adds the slf4j binding that sends the log to the
member's own log file. A short tick makes a 3-member election take well under a second.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MAIN_CLASS = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
TICK_MS = 200
# followers get initLimit ticks to sync, syncLimit ticks to stay in step
INIT_LIMIT_TICKS = 50
SYNC_LIMIT_TICKS = 25
# clients (Flink's HA services) ask for 60 s sessions; the default cap is 20 ticks
MAX_SESSION_MS = 60_000
FOUR_LETTER_WORDS = "srvr,ruok,mntr,stat"
SERVING_MODES = ("leader", "follower", "standalone")


@dataclass(frozen=True)
class Peer:
    """One member of the ensemble as the others reach it."""

    myid: int
    host: str
    peer_port: int
    election_port: int


def jar_directory(zookeeper_home: Path) -> Path:
    """The Debian layout: scripts in /usr/share/zookeeper, jars in /usr/share/java."""
    return zookeeper_home.parent / "java"


def classpath(zookeeper_home: Path) -> list[Path]:
    jars = jar_directory(zookeeper_home)
    wanted = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-simple.jar"]
    return [jars / name for name in wanted if (jars / name).exists() or name == "zookeeper.jar"]


def command(*, java: str, heap_mb: int, zookeeper_home: Path, config: Path) -> list[str]:
    path = ":".join(str(jar) for jar in classpath(zookeeper_home))
    return [
        java,
        f"-Xmx{heap_mb}m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Dzookeeper.admin.enableServer=false",
        "-cp",
        path,
        MAIN_CLASS,
        str(config),
    ]


def config_text(*, data_dir: Path, host: str, client_port: int, peers: Sequence[Peer]) -> str:
    lines = [
        f"tickTime={TICK_MS}",
        f"initLimit={INIT_LIMIT_TICKS}",
        f"syncLimit={SYNC_LIMIT_TICKS}",
        f"maxSessionTimeout={MAX_SESSION_MS}",
        f"dataDir={data_dir}",
        f"clientPort={client_port}",
        f"clientPortAddress={host}",
        f"4lw.commands.whitelist={FOUR_LETTER_WORDS}",
        "admin.enableServer=false",
        "autopurge.purgeInterval=1",
    ]
    lines += [f"server.{p.myid}={p.host}:{p.peer_port}:{p.election_port}" for p in peers]
    return "\n".join(lines) + "\n"


def write_config(
    *, member_dir: Path, myid: int, host: str, client_port: int, peers: Sequence[Peer]
) -> Path:
    """Write `<member_dir>/zoo.cfg` and `<member_dir>/zookeeper/myid`; return the config path."""
    data_dir = member_dir / "zookeeper"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "myid").write_text(f"{myid}\n")
    config = member_dir / "zoo.cfg"
    config.write_text(
        config_text(data_dir=data_dir, host=host, client_port=client_port, peers=peers)
    )
    return config


def four_letter(host: str, port: int, word: str, *, timeout: float) -> str:
    """Send a four-letter word and read the answer; "" when nothing answers in time."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(word.encode())
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
    except OSError:
        return ""
    return b"".join(chunks).decode(errors="replace")


def mode(srvr_answer: str) -> str:
    """The `Mode:` line of a `srvr` answer (leader / follower / standalone), or ""."""
    for line in srvr_answer.splitlines():
        if line.startswith("Mode:"):
            return line.removeprefix("Mode:").strip()
    return ""
