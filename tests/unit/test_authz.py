"""The pure authorization decision (services/authz.py is_allowed), deny by default."""

from __future__ import annotations

import pytest

from rtcompute import errors
from rtcompute.domain import identities, resources
from rtcompute.services import authz, principals

ACME = "1000000000000001"
OTHER = "1000000000000002"


def principal(
    account_id: str = ACME,
    *,
    kind: identities.IdentityType = identities.IdentityType.ACCOUNT,
    name: str = "acme",
    operator: bool = False,
) -> principals.Principal:
    return principals.Principal(
        identity_id=1,
        account_id=account_id,
        account_alias="acme",
        identity_type=kind,
        name=name,
        is_operator=operator,
        auth_method="session",
        credential_id="1",
    )


ACCOUNT = principal()
OPERATOR = principal(OTHER, operator=True)
USER = principal(kind=identities.IdentityType.RAM_USER, name="bob")
ANY_ACCOUNT = "acs:rtc::*:account/*"


@pytest.mark.parametrize(
    ("who", "action", "resource", "allowed"),
    [
        # the account may do anything within itself
        (ACCOUNT, "ram:CreateAccessKey", resources.account_root(ACME), True),
        (ACCOUNT, "flink:CreateDeployment", f"acs:flink:local:{ACME}:deployment/x", True),
        (ACCOUNT, "actiontrail:LookupEvents", resources.audit_trail("local", ACME), True),
        # ...and nothing in another account
        (ACCOUNT, "ram:CreateAccessKey", resources.account_root(OTHER), False),
        (ACCOUNT, "actiontrail:LookupEvents", resources.audit_trail("local", OTHER), False),
        (ACCOUNT, "sts:GetCallerIdentity", resources.account_root(OTHER), False),
        # operator actions are for the operator only, whatever the resource
        (ACCOUNT, "rtc:CreateAccount", ANY_ACCOUNT, False),
        (ACCOUNT, "rtc:CreateAccount", resources.account_root(ACME), False),
        (ACCOUNT, "RTC:LISTACCOUNTS", ANY_ACCOUNT, False),
        (OPERATOR, "rtc:CreateAccount", ANY_ACCOUNT, True),
        (OPERATOR, "rtc:listaccounts", ANY_ACCOUNT, True),
        (OPERATOR, "actiontrail:LookupEvents", resources.audit_trail("local", ACME), True),
        # being the operator does not open other accounts' resources
        (OPERATOR, "ram:CreateAccessKey", resources.account_root(ACME), False),
        # a RAM user: self-service on its own identity only
        (USER, "ram:ChangePassword", resources.ram_user(ACME, "bob"), True),
        (USER, "sts:GetCallerIdentity", resources.ram_user(ACME, "bob"), True),
        (USER, "ram:ChangePassword", resources.ram_user(ACME, "alice"), False),
        (USER, "ram:ChangePassword", resources.account_root(ACME), False),
        (USER, "ram:CreateAccessKey", resources.ram_user(ACME, "bob"), False),
        (USER, "actiontrail:LookupEvents", resources.audit_trail("local", ACME), False),
        # malformed resource names are denied
        (ACCOUNT, "ram:CreateAccessKey", "", False),
        (ACCOUNT, "ram:CreateAccessKey", ACME, False),
        (ACCOUNT, "ram:CreateAccessKey", f"arn:ram::{ACME}:root", False),
        (ACCOUNT, "ram:CreateAccessKey", f"acs::local:{ACME}:root", False),
        (ACCOUNT, "ram:CreateAccessKey", f"acs:ram:{ACME}:root", False),
    ],
)
def test_is_allowed(who: principals.Principal, action: str, resource: str, allowed: bool) -> None:
    assert authz.is_allowed(who, action, resource) is allowed


def test_action_names_are_case_insensitive() -> None:
    own = authz.own_resource(USER)
    assert authz.is_allowed(USER, "RAM:CHANGEPASSWORD", own)
    assert authz.is_allowed(USER, "ram:changepassword", own)


def test_own_resource() -> None:
    assert authz.own_resource(ACCOUNT) == f"acs:ram::{ACME}:root"
    assert authz.own_resource(USER) == f"acs:ram::{ACME}:user/bob"


def test_authorize_raises_no_permission_naming_the_action() -> None:
    authz.authorize(ACCOUNT, "ram:CreateAccessKey", resources.account_root(ACME))
    with pytest.raises(errors.Forbidden) as caught:
        authz.authorize(ACCOUNT, "rtc:CreateAccount", ANY_ACCOUNT)
    assert caught.value.code == "Forbidden.RAM"
    assert "rtc:CreateAccount" in caught.value.message
