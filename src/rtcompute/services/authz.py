"""Authorization: every route names an action and a resource; this decides, deny by default.

Until the RAM policy language lands, the rules are: the account itself may do everything
within its own account; the operator may also manage accounts; any principal may do the
self-service actions on its own identity; everything else is denied.
"""

from __future__ import annotations

from rtcompute import errors
from rtcompute.domain import identities, resources
from rtcompute.services import principals

# Actions any authenticated principal may take on its own identity (vendor RAM does the same
# for password, MFA and own access keys when the account allows it).
SELF_SERVICE = frozenset(
    {
        "sts:getcalleridentity",
        "ram:changepassword",
        "ram:getloginprofile",
        "ram:createvirtualmfadevice",
        "ram:bindmfadevice",
        "ram:unbindmfadevice",
    }
)
OPERATOR_ACTIONS = frozenset({"rtc:createaccount", "rtc:listaccounts", "rtc:getaccount"})


def own_resource(principal: principals.Principal) -> str:
    """The resource name of the caller's own identity."""
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return resources.account_root(principal.account_id)
    return resources.ram_user(principal.account_id, principal.name)


def is_allowed(principal: principals.Principal, action: str, resource: str) -> bool:
    """Pure decision; see the module docstring for the rules."""
    lowered = action.lower()
    if lowered in OPERATOR_ACTIONS:
        return principal.is_operator
    parsed = resources.parse(resource)
    if parsed is None:
        return False
    own_account = parsed.account_id == principal.account_id
    if lowered in SELF_SERVICE and resource == own_resource(principal):
        return True
    if principal.identity_type is identities.IdentityType.ACCOUNT:
        return own_account or (principal.is_operator and lowered == "actiontrail:lookupevents")
    return False


def authorize(principal: principals.Principal, action: str, resource: str) -> None:
    if not is_allowed(principal, action, resource):
        raise errors.Forbidden(
            f"{principal.display} is not authorized to perform {action} on {resource}; "
            "ask the account owner to grant it",
            code="NoPermission",
        )
