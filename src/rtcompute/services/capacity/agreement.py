"""The service agreement a buyer accepts before an order is placed (guide: 勾选服务协议).

The operator points `settings.billing.agreement_file` at their own terms; without it the
default text below is shown. It is a constant, not a file of the package, so that it ships
with the code whatever way the package is installed.
"""

from __future__ import annotations

from rtcompute import errors
from rtcompute.services.kernel import platform as platform_module

MAX_AGREEMENT_BYTES = 256 * 1024

DEFAULT_TEXT = """\
Service agreement / 服务协议

This is the default service agreement of an rtcompute installation. The operator of this
installation may replace it with their own terms.
本文是 rtcompute 安装的默认服务协议。本平台的运维人员可以用自己的条款替换它。

1. What you buy / 购买内容
   An order buys shared-mode CU for a project, or an exclusive cluster, in one region, for
   the months ordered (calendar months: an order placed on 31 January for one month ends
   on the last day of February) or, pay-as-you-go, for every whole hour the cluster holds
   its nodes, at the hourly rate shown when you order.
   订单购买一个地域中某个项目的共享模式 CU，或一个独享模式集群，期限为所购月数（按自然月计算：
   1 月 31 日下单 1 个月，到 2 月的最后一天结束）；按量付费时，按集群占用节点的每个整小时、以下单时
   显示的小时单价计费。

2. Payment / 付款
   An order is usable once paid (or, on installations whose operator approves payments,
   once approved). Prices are in the currency shown with them.
   订单支付后（或在由运维人员审批付款的平台上，审批后）即可使用。价格以其旁边显示的货币计价。

3. Expiry / 到期
   A subscription that is not renewed expires at its end: its jobs stop, and it can be
   renewed to start again.
   未续费的包年包月资源在到期时过期：其作业停止，续费后可重新启动。

4. Your data / 您的数据
   Your jobs, files and results stay yours. The operator keeps them on the installation's
   storage and does not use them for anything else than running your jobs.
   您的作业、文件和结果归您所有。运维人员将其保存在本平台的存储中，仅用于运行您的作业。
"""


def agreement_text(platform: platform_module.Platform) -> str:
    """The operator's agreement file, else the default text."""
    path = platform.settings.billing.agreement_file
    if path is None:
        return DEFAULT_TEXT
    try:
        with path.open("rb") as file:
            data = file.read(MAX_AGREEMENT_BYTES + 1)
    except OSError as exc:
        raise errors.Unavailable(
            "The service agreement cannot be read at the moment; ask the operator.",
            "服务协议暂时无法读取，请联系运维人员。",
            code="ServiceAgreementUnavailable",
        ) from exc
    return data[:MAX_AGREEMENT_BYTES].decode("utf-8", errors="replace")
