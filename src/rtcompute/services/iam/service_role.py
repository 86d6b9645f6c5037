"""The service role: the one way the stream service acts for a tenant.

Guide, 共享模式角色授权: until the account authorizes `StreamDefaultRole`, project and cluster
operations are refused with a pointer to the authorization page; "agree" creates the role
(trusting only the service principal) and its policy `StreamRolePolicy`; "re-initialize"
deletes both so that a broken policy can be replaced by the pristine one. Guide, 独享模式角色
授权: an exclusive cluster also needs the network and object-storage actions on that role.
PassRole: a RAM user may only make the service act through the role when a policy allows
`ram:PassRole` on it (error 922019 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from rtcompute import errors
from rtcompute.domain import identities, policies, ram, resources
from rtcompute.services.iam import authz, roles
from rtcompute.services.iam import policies as ram_policies
from rtcompute.services.kernel import platform as platform_module
from rtcompute.services.kernel import principals
from rtcompute.store import attachments as attachment_store
from rtcompute.store import db, tables
from rtcompute.store import policies as policy_store
from rtcompute.store import roles as role_store

AUTHORIZATION_PAGE = "/console/ram/service-role"
PASS_ROLE_CODE = "922019"
# guide, 常见问题, verbatim but for its typo 改 (fixed to 该); the comma is the full-width one
PASS_ROLE_MESSAGE_ZH = "子账号没有passRole权限，请到RAM对该子账号赋权"
PASS_ROLE_MESSAGE = (
    "the RAM user has no ram:PassRole permission on the service role; ask the account to "
    "grant it in RAM"
)


@dataclass(frozen=True)
class Status:
    authorized: bool
    role: str
    description: str
    policy: str
    policy_document: str
    policy_attached: bool
    missing_for_cluster_creation: tuple[str, ...]
    missing_for_clusters: tuple[str, ...]


def role_resource(account_id: str) -> str:
    return resources.ram_role(account_id, ram.SERVICE_ROLE)


def role_policy_set(session: db.Session, account_id: str) -> policies.PolicySet | None:
    role = role_store.read_role(session=session, account_id=account_id, name=ram.SERVICE_ROLE)
    if role is None or not policies.parse_trust(role.trust_policy).trusts(
        service=ram.SERVICE_PRINCIPAL
    ):
        return None
    return authz.load_policy_set(session, account_id, [(ram.PrincipalKind.ROLE.value, role.id)])


def _missing(
    platform: platform_module.Platform, account_id: str, policy_set: policies.PolicySet | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    def missing(creating: bool) -> tuple[str, ...]:
        actions = ram.exclusive_role_actions(creating=creating)
        if policy_set is None:
            return actions
        context = policies.request_context(
            source_ip="", current_time=platform.now(), secure_transport=True, mfa_present=False
        )
        region = platform.settings.region
        return tuple(
            action
            for action in actions
            if policy_set.evaluate(
                action, f"acs:{action.split(':')[0]}:{region}:{account_id}:*", context
            ).decision
            is not policies.Decision.ALLOW
        )

    return missing(True), missing(False)


def status(platform: platform_module.Platform, account_id: str) -> Status:
    with db.transaction(platform.sessions) as session:
        policy_set = role_policy_set(session, account_id)
        stored = policy_store.default_documents(
            session=session, account_id=account_id, names=[ram.SERVICE_ROLE_POLICY]
        )
        attached = False
        role = role_store.read_role(session=session, account_id=account_id, name=ram.SERVICE_ROLE)
        if role is not None:
            attached = (
                attachment_store.read_attachment(
                    session=session,
                    principal_kind=ram.PrincipalKind.ROLE.value,
                    principal_id=role.id,
                    policy_type=ram.PolicyType.CUSTOM.value,
                    policy_name=ram.SERVICE_ROLE_POLICY,
                )
                is not None
            )
    document = stored.get(ram.SERVICE_ROLE_POLICY, ("", ram.SERVICE_ROLE_POLICY_DOCUMENT))[1]
    creation, running = _missing(platform, account_id, policy_set)
    return Status(
        authorized=policy_set is not None,
        role=ram.SERVICE_ROLE,
        description=ram.SERVICE_ROLE_DESCRIPTION,
        policy=ram.SERVICE_ROLE_POLICY,
        policy_document=document,
        policy_attached=attached,
        missing_for_cluster_creation=creation,
        missing_for_clusters=running,
    )


def authorize(platform: platform_module.Platform, account_id: str) -> Status:
    """ "Agree": create what is missing of the role, its policy and the attachment."""
    now = platform.now()
    with authz.changing(platform, account_id) as session:
        role = role_store.read_role(session=session, account_id=account_id, name=ram.SERVICE_ROLE)
        if role is not None and not policies.parse_trust(role.trust_policy).trusts(
            service=ram.SERVICE_PRINCIPAL
        ):
            # a role of that name made by hand: agreeing must not leave it unauthorized in
            # silence, nor rewrite a trust policy the account wrote
            raise errors.Conflict(
                f"the role {ram.SERVICE_ROLE} exists but its trust policy does not let the "
                f"service {ram.SERVICE_PRINCIPAL} assume it: re-initialize the service role "
                "(which deletes that role) or fix its trust policy, then authorize again",
                f"角色 {ram.SERVICE_ROLE} 已存在，但其信任策略不允许服务 {ram.SERVICE_PRINCIPAL} "
                "扮演它：请重新初始化服务角色（会删除该角色）或修改其信任策略，然后再次授权",
                code="EntityAlreadyExists.Role",
            )
        if role is None:
            role = roles.insert_role(
                session,
                account_id,
                ram.SERVICE_ROLE,
                ram.SERVICE_ROLE_DESCRIPTION,
                ram.service_trust_policy(),
                now,
            )
        if (
            policy_store.read_policy(
                session=session, account_id=account_id, name=ram.SERVICE_ROLE_POLICY
            )
            is None
        ):
            ram_policies.insert_policy(
                session,
                account_id,
                ram.SERVICE_ROLE_POLICY,
                ram.SERVICE_ROLE_POLICY_DESCRIPTION,
                ram.SERVICE_ROLE_POLICY_DOCUMENT,
                now,
            )
        if (
            attachment_store.read_attachment(
                session=session,
                principal_kind=ram.PrincipalKind.ROLE.value,
                principal_id=role.id,
                policy_type=ram.PolicyType.CUSTOM.value,
                policy_name=ram.SERVICE_ROLE_POLICY,
            )
            is None
        ):
            attachment_store.attach(
                session=session,
                attachment=tables.PolicyAttachment(
                    account_id=account_id,
                    principal_kind=ram.PrincipalKind.ROLE.value,
                    principal_id=role.id,
                    policy_type=ram.PolicyType.CUSTOM.value,
                    policy_name=ram.SERVICE_ROLE_POLICY,
                    attached_at=now,
                ),
            )
    return status(platform, account_id)


def reinitialize(platform: platform_module.Platform, account_id: str) -> Status:
    """Delete the role (and its policy, unless something else holds it): the guide's reset.

    Running jobs lose access to external storage until the role is authorized again.
    """
    with authz.changing(platform, account_id) as session:
        role = role_store.read_role(session=session, account_id=account_id, name=ram.SERVICE_ROLE)
        if role is not None:
            attachment_store.detach_all(
                session=session, principal_kind=ram.PrincipalKind.ROLE.value, principal_id=role.id
            )
            role_store.delete_role(session=session, role_id=role.id)
        policy = policy_store.read_policy(
            session=session, account_id=account_id, name=ram.SERVICE_ROLE_POLICY
        )
        if policy is not None and not attachment_store.list_for_policy(
            session=session,
            account_id=account_id,
            policy_type=ram.PolicyType.CUSTOM.value,
            policy_name=ram.SERVICE_ROLE_POLICY,
        ):
            policy_store.delete_policy(session=session, policy_id=policy.id)
    return status(platform, account_id)


def not_authorized() -> errors.Forbidden:
    return errors.Forbidden(
        f"the account has not authorized the service role {ram.SERVICE_ROLE}: the stream "
        "service cannot act for it. Authorize it on the console's service role page (RAM, "
        "Service role), then retry",
        f"当前账号尚未授权服务角色 {ram.SERVICE_ROLE}，流计算服务无法代为操作。"
        "请在服务角色页面完成授权后重试",
        code="ServiceRoleNotAuthorized",
    )


def require_authorized(platform: platform_module.Platform, account_id: str) -> None:
    """Refuse project and cluster operations until the service role is authorized."""
    with db.transaction(platform.sessions) as session:
        role = role_store.read_role(session=session, account_id=account_id, name=ram.SERVICE_ROLE)
        trusted = role is not None and policies.parse_trust(role.trust_policy).trusts(
            service=ram.SERVICE_PRINCIPAL
        )
    if not trusted:
        raise not_authorized()


def check_exclusive(platform: platform_module.Platform, account_id: str, *, creating: bool) -> None:
    """An exclusive cluster needs the network and storage actions on the service role."""
    current = status(platform, account_id)
    if not current.authorized:
        raise not_authorized()
    missing = current.missing_for_cluster_creation if creating else current.missing_for_clusters
    if missing:
        raise errors.Forbidden(
            f"the service role {ram.SERVICE_ROLE} lacks {', '.join(missing)}: add them to its "
            "policy (guide: 独享模式角色授权) and retry",
            f"服务角色 {ram.SERVICE_ROLE} 缺少 {', '.join(missing)}：请将它们添加到该角色的"
            "权限策略中（参见指南：独享模式角色授权）后重试",
            code="ServiceRoleMissingAction",
        )


class PassRoleDenied(errors.Forbidden):
    """Guide error 922019 (its Chinese is the guide's own sentence)."""


def check_pass_role(
    platform: platform_module.Platform,
    principal: principals.Principal,
    request: principals.RequestContext,
) -> None:
    """A RAM user may make the service act through the role only with `ram:PassRole` on it."""
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return
    context = authz.context_of(principal, request, platform.now())
    verdict = authz.decide(
        platform, principal, "ram:PassRole", role_resource(principal.account_id), context
    )
    if verdict.decision is not policies.Decision.ALLOW:
        raise PassRoleDenied(PASS_ROLE_MESSAGE, PASS_ROLE_MESSAGE_ZH, code=PASS_ROLE_CODE)
