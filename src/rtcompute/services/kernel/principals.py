"""The authenticated caller of a request, as the services see it."""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import identities


@dataclass(frozen=True)
class Principal:
    identity_id: int
    account_id: str
    account_alias: str
    identity_type: identities.IdentityType
    name: str
    is_operator: bool
    auth_method: str  # "session" | "access_key"
    credential_id: str  # session id or access key id
    mfa_present: bool = False
    csrf_token: str = ""
    # the account's RAM revision when the credential was verified: a cached decision older
    # than this is stale (another process changed a policy)
    ram_revision: int = 0

    @property
    def display(self) -> str:
        return identities.principal_display(self.identity_type, self.name, self.account_alias)


@dataclass(frozen=True)
class RequestContext:
    """Facts about the request that policies and the audit trail need."""

    source_ip: str = ""
    secure_transport: bool = False
    request_id: str = ""


# the Chinese of what the callers name (their English verb phrase); a caller may also pass
# its own `what_zh`
_WHAT_ZH = {
    "buy": "购买",
    "create clusters": "创建集群",
    "create projects": "创建项目",
    "pay for orders": "支付订单",
    "renew or scale": "续费或变配",
}


def require_account(principal: Principal, what: str, what_zh: str = "") -> None:
    """Buying and creating belong to the account itself (guide: 请使用主账号开通服务和创建项目)."""
    if principal.identity_type is not identities.IdentityType.ACCOUNT:
        doing = what_zh or _WHAT_ZH.get(what, "执行此操作")
        raise errors.Forbidden(
            f"only the account itself (the main account) may {what}; a RAM user cannot, "
            f"whatever its policies say. Sign in as the account {principal.account_alias}",
            f"只有账号本身（主账号）才能{doing}；RAM 用户无论被授予什么权限策略都不能。"
            f"请以账号 {principal.account_alias} 登录",
            code="Forbidden.MainAccountOnly",
        )
