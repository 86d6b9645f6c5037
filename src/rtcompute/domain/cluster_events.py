"""What a cluster, its components and its engine installs say, in English and in Chinese.

The cluster reconciler, the node provider and the engine reconciler write their messages in
both languages at once, as job events do (domain/job_events.py): the API answers in the
Accept-Language language and the console in the page's. Each sentence has one function
here, so the two languages cannot drift apart. A tenant reads these messages: where the
operator needs more (a log file, a directory, a setting's name), the caller logs it on the
server and the sentence says whom to ask, never where the server keeps its files. What a
component or an installer says in its own words stays in its words in both texts.
"""

from __future__ import annotations

from collections.abc import Sequence

from rtcompute.domain import clusters as cluster_rules
from rtcompute.domain.job_events import Said, text

__all__ = ["Said", "text"]

NOTHING = Said("", "")

# what a healthy component answers: a value, shown with a translated label
OK = "ok"
MODES_ZH = {
    OK: "正常",
    "leader": "领导者",
    "follower": "跟随者",
    "standalone": "单机",
    "observer": "观察者",
}
KINDS_ZH = {cluster_rules.AGENT: "节点代理", cluster_rules.ZOOKEEPER: "ZooKeeper"}


def kind_zh(kind: str) -> str:
    return KINDS_ZH.get(kind, kind)


# ---- what a probe saw ---------------------------------------------------------------------


def healthy(mode: str = OK) -> Said:
    """The component serves: `ok`, or ZooKeeper's role in its ensemble."""
    return Said(mode, MODES_ZH.get(mode, mode))


def zookeeper_silent() -> Said:
    return Said("ZooKeeper does not answer yet", "ZooKeeper 尚未响应")


def no_quorum() -> Said:
    return Said(
        "not serving (no quorum yet)",
        "尚未提供服务（ZooKeeper 集群尚未达到法定人数）",
    )


def agent_silent() -> Said:
    return Said(
        "the node agent does not answer its health check",
        "节点代理未响应健康检查",
    )


def port_taken(port: int) -> Said:
    return Said(
        f"port {port} answers for another node",
        f"端口 {port} 上应答的是另一个节点",
    )


# ---- why a component cannot start (the operator's details go to the server log) -----------


def zookeeper_missing() -> Said:
    return Said(
        "ZooKeeper is not installed on the host: ask the operator to install the Debian "
        "package `zookeeper`",
        "主机上没有安装 ZooKeeper：请联系运维人员安装 Debian 软件包 `zookeeper`",
    )


def directory_refused() -> Said:
    return Said(
        "the node's files cannot be written on the host: ask the operator to check its disk",
        "无法在主机上写入节点的文件：请联系运维人员检查主机磁盘",
    )


def cannot_start(kind: str) -> Said:
    return Said(
        f"the {kind} process cannot be started on the host: ask the operator to check it",
        f"无法在主机上启动{kind_zh(kind)}进程：请联系运维人员检查主机",
    )


def unknown_kind(kind: str) -> Said:
    return Said(f"unknown component kind {kind}", f"未知的组件类型 {kind}")


# ---- what the reconciler did ------------------------------------------------------------


def started() -> Said:
    return Said("started", "已启动")


def restarted() -> Said:
    return Said("restarted: its process was gone", "已重新启动：其进程已退出")


def no_answer_within(port: int, seconds: float, seen: Said) -> Said:
    """A started component did not answer in time (what the last probe saw)."""
    if not seen.en:
        return Said(
            f"no answer on port {port} within {seconds:.0f} s",
            f"端口 {port} 在 {seconds:.0f} 秒内没有响应",
        )
    return Said(
        f"no answer on port {port} within {seconds:.0f} s ({seen.en})",
        f"端口 {port} 在 {seconds:.0f} 秒内没有响应（{seen.zh or seen.en}）",
    )


def expired_stopped() -> Said:
    return Said(
        "stopped: the cluster expired; renew it to start it again",
        "已停止：集群已到期，续费后将重新启动",
    )


def component_failed(node: str, kind: str, why: Said) -> Said:
    """The cluster failed with one of its components: which one, why, and what to do."""
    return Said(
        f"{node} {kind}: {why.en}. Release the cluster and create it again; if that fails "
        "too, ask the operator to check the host (java, the zookeeper package, free ports)",
        f"{node} 的{kind_zh(kind)}：{why.zh or why.en}。请释放集群后重新创建；如果仍然失败，"
        "请联系运维人员检查主机（Java、zookeeper 软件包、空闲端口）",
    )


def a_component_failed() -> Said:
    return Said("a component failed", "有组件失败")


def not_placed(node: str) -> Said:
    return Said(f"{node} (not placed)", f"{node}（尚未分配）")


def component_waiting(node: str, kind: str, seen: Said) -> Said:
    return Said(
        f"{node} {kind} ({seen.en or 'starting'})",
        f"{node} 的{kind_zh(kind)}（{seen.zh or seen.en or '启动中'}）",
    )


def host_lost(node: str, host: str) -> Said:
    return Said(
        f"{node} (its host {host} is lost: its jobs' processes move to the nodes left)",
        f"{node}（其主机 {host} 失联：其上作业的进程迁移到其余节点）",
    )


def quorum_waiting() -> Said:
    return Said(
        "the ZooKeeper quorum (no leader elected yet)",
        "ZooKeeper 法定人数（尚未选出领导者）",
    )


def progress(answering: int, total: int, waiting: Sequence[Said], shown: int = 3) -> Said:
    """How far a starting cluster is: the components that answer, the first ones awaited."""
    more = len(waiting) > shown
    en = ", ".join(w.en for w in waiting[:shown]) + (" ..." if more else "")
    zh = "、".join(w.zh or w.en for w in waiting[:shown]) + ("……" if more else "")
    return Said(
        f"{answering} of {total} components answer; waiting for {en}",
        f"{total} 个组件中已有 {answering} 个响应；正在等待：{zh}",
    )


def no_port_block(node: str) -> Said:
    """The host has no free block of ports for a node (the range is the operator's)."""
    return Said(
        f"the host has no free ports left for {node}: release unused clusters, or ask the "
        "operator to widen the port range of the nodes",
        f"主机上没有可供 {node} 使用的空闲端口：请释放不再使用的集群，或联系运维人员扩大节点的"
        "端口范围",
    )


def subscription_ended(at: str) -> Said:
    """A subscription cluster expired at `at` (UTC, `YYYY-MM-DD HH:MM`)."""
    return Said(
        f"the subscription ended on {at} UTC; its processes are stopped. Renew it to start "
        "it again",
        f"包年包月已于 {at}（UTC）到期，集群的进程已停止。续费后将重新启动",
    )


# ---- engine installs ----------------------------------------------------------------------


def install_failed(version: str) -> Said:
    """A failed install as a tenant sees it: the cause (the operator's package index or
    wheelhouse, paths, pip's output) is the operator's business and goes to the server log."""
    return Said(
        f"{version} could not be installed on this installation (the operator has the cause "
        "in the server log); the cluster keeps running with its previous versions: try again "
        "later, or ask the operator",
        f"{version} 无法在本平台上安装（原因已记录在服务器日志中，运维人员可以查看）；集群继续"
        "使用之前的版本运行：请稍后重试，或联系运维人员",
    )


def installer_said(message: str) -> Said:
    """The installer's own words (the shared pool's failure, read by the operator)."""
    return Said(message, message)
