"""Where a job's Flink processes go (DESIGN: the data plane).

A job is its own Flink cluster: its JobManager on a master (a standby on a second master
when the cluster has three, with ZooKeeper electing the leader), its TaskManagers on slaves
with free CU, one slot per CU, never more slots on a slave than the slave type's usable CU
minus what other jobs already hold there. The shared pool is one node, `pool`, with the
operator's number of slots. Ports come from the run's block: JobManager i uses base+3i
(REST), base+3i+1 (RPC), base+3i+2 (blob); TaskManager k uses base+6+2k (RPC) and
base+7+2k (data).
"""

from __future__ import annotations

from dataclasses import dataclass

JOBMANAGER = "jobmanager"
TASKMANAGER = "taskmanager"
# two JobManagers x (REST, RPC, blob, metrics query service); a TaskManager: RPC, data,
# metrics query service. Every port of a run lies in its block (Flink's query service would
# pick any free port otherwise)
JOBMANAGER_PORTS = 8
TASKMANAGER_PORTS = 3


@dataclass(frozen=True)
class Master:
    name: str
    host: str
    jobmanagers: int  # JobManagers of other jobs already there


@dataclass(frozen=True)
class Slave:
    name: str
    host: str
    free_slots: int


@dataclass(frozen=True)
class Memory:
    jobmanager_mb: int
    taskmanager_mb: int  # with one slot
    per_extra_slot_mb: int

    def taskmanager(self, slots: int) -> int:
        return self.taskmanager_mb + (slots - 1) * self.per_extra_slot_mb


@dataclass(frozen=True)
class Process:
    kind: str
    index: int
    node: str
    host: str
    rpc_port: int
    memory_mb: int
    rest_port: int = 0
    blob_port: int = 0
    data_port: int = 0
    slots: int = 0
    metrics_port: int = 0  # the metrics query service's port (0: Flink picks one)

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.index}"


def conf_dir(run_directory: str, process: str) -> str:
    """A process's own configuration folder: also the marker its command line carries, by
    which its host finds it (runtime/flink/cluster.markers)."""
    return f"{run_directory.rstrip('/')}/conf/{process}"


class NoRoom(ValueError):
    """The nodes cannot hold the job now; the message says what is missing."""


def max_taskmanagers(ports_per_run: int) -> int:
    return (ports_per_run - JOBMANAGER_PORTS) // TASKMANAGER_PORTS


def place(
    parallelism: int,
    masters: list[Master],
    slaves: list[Slave],
    *,
    standby: bool,
    port_base: int,
    ports_per_run: int,
    memory: Memory,
) -> tuple[Process, ...]:
    """The job's processes: JobManager(s) on the least busy masters, TaskManagers on the
    slaves with the most free slots first (fewest processes for the job)."""
    if not masters:
        raise NoRoom("the cluster has no master node to host the JobManager")
    jobmanagers = 2 if standby and len(masters) >= 2 else 1
    chosen = sorted(masters, key=lambda m: (m.jobmanagers, m.name))[:jobmanagers]
    processes = [
        Process(
            JOBMANAGER,
            i,
            master.name,
            master.host,
            rpc_port=port_base + 4 * i + 1,
            memory_mb=memory.jobmanager_mb,
            rest_port=port_base + 4 * i,
            blob_port=port_base + 4 * i + 2,
            metrics_port=port_base + 4 * i + 3,
        )
        for i, master in enumerate(chosen)
    ]
    free = sum(max(s.free_slots, 0) for s in slaves)
    if free < parallelism:
        raise NoRoom(
            f"the slaves have {free} free slots (one per CU) and the job needs {parallelism}: "
            "stop another job or scale the cluster out"
        )
    remaining, index = parallelism, 0
    for slave in sorted(slaves, key=lambda s: (-s.free_slots, s.name)):
        if remaining == 0:
            break
        slots = min(slave.free_slots, remaining)
        if slots <= 0:
            continue
        if index >= max_taskmanagers(ports_per_run):
            raise NoRoom(
                f"the job would need more than {max_taskmanagers(ports_per_run)} TaskManagers"
            )
        processes.append(
            Process(
                TASKMANAGER,
                index,
                slave.name,
                slave.host,
                rpc_port=port_base + JOBMANAGER_PORTS + TASKMANAGER_PORTS * index,
                memory_mb=memory.taskmanager(slots),
                data_port=port_base + JOBMANAGER_PORTS + TASKMANAGER_PORTS * index + 1,
                slots=slots,
                metrics_port=port_base + JOBMANAGER_PORTS + TASKMANAGER_PORTS * index + 2,
            )
        )
        remaining -= slots
        index += 1
    return tuple(processes)


def slots_by_node(processes: list[Process]) -> dict[str, int]:
    """Slots each node's TaskManagers hold, from the processes of live runs."""
    held: dict[str, int] = {}
    for process in processes:
        if process.kind == TASKMANAGER:
            held[process.node] = held.get(process.node, 0) + process.slots
    return held


def jobmanagers_by_node(processes: list[Process]) -> dict[str, int]:
    held: dict[str, int] = {}
    for process in processes:
        if process.kind == JOBMANAGER:
            held[process.node] = held.get(process.node, 0) + 1
    return held


def to_json(processes: tuple[Process, ...]) -> list[dict[str, object]]:
    return [p.__dict__.copy() for p in processes]


def from_json(raw: list[dict[str, object]]) -> tuple[Process, ...]:
    fields = set(Process.__dataclass_fields__)
    return tuple(Process(**{k: v for k, v in item.items() if k in fields}) for item in raw)  # type: ignore[arg-type]
