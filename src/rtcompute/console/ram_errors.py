"""What the console says for the RAM, service-role and project error codes, translated.

Merged into `views.ERROR_MESSAGES`. Codes come in families (`EntityNotExist.User`,
`LimitExceeded.GroupsPerUser`): each code a service raises has its own sentence, and each
family a sentence for a member nobody wrote yet (`views.known_message` falls back to it).
Limits are placeholders filled from the domain's numbers, so a message never states a limit
the platform does not enforce.
"""

from __future__ import annotations

from rtcompute.console.i18n import N_
from rtcompute.domain import ram
from rtcompute.services.iam import service_role

_SYSTEM_ATTACHED = N_(
    "A user, group or role holds at most %(max_system_attachments)s system policies; detach "
    "one first."
)
_CUSTOM_ATTACHED = N_(
    "A user, group or role holds at most %(max_custom_attachments)s custom policies; detach "
    "one first."
)
_NAME = N_(
    "Names are 1-128 characters of letters, digits, '.', '_', '@' and '-', starting with a "
    "letter or digit."
)

ERROR_MESSAGES = {
    # guide, 共享模式角色授权: the service acts for the account only through its role
    "ServiceRoleNotAuthorized": N_(
        "The account has not authorized the service role StreamDefaultRole yet, so the stream "
        "service cannot act for it. Authorize it on the service role page, then retry."
    ),
    "ServiceRoleMissingAction": N_(
        "The service role StreamDefaultRole lacks actions an exclusive cluster needs; add them "
        "to its policy (see the service role page) and retry."
    ),
    # guide, 常见问题: error 922019
    service_role.PASS_ROLE_CODE: N_(
        "This RAM user has no PassRole permission; ask the account to grant it in RAM."
    ),
    "InvalidPolicyDocument": N_(
        "The policy document is not valid; correct the problems listed and retry."
    ),
    "ProjectNotFound": N_("That project does not exist; check its name."),
    "ProjectAlreadyExists": N_("A project of that name already exists; choose another name."),
    "InvalidParameter.ProjectName": N_(
        "Project names are 3-64 letters, digits and underscores, starting with a letter."
    ),
    "InvalidParameter.UserName": _NAME,
    "InvalidParameter.GroupName": _NAME,
    "InvalidParameter.RoleName": _NAME,
    "InvalidParameter.PolicyName": _NAME,
    "InvalidParameter.Password": N_(
        "Console access needs a password: set one, or leave console access off."
    ),
    "InvalidParameter.PolicyType": N_("The policy type must be System or Custom."),
    "InvalidParameter.PrincipalType": N_("Policies are attached to a user, a group or a role."),
    "InvalidParameter.Principal": N_("The principal must be user/NAME, group/NAME or role/NAME."),
    "InvalidParameter.Policies": N_("Give between one and a few policy documents."),
    "InvalidParameter.Context": N_(
        "A condition key or value is not valid; use a few printable keys and values."
    ),
    "EntityNotExist": N_("That RAM entity does not exist; reload the page."),
    "EntityNotExist.User": N_("That RAM user does not exist; check the user name."),
    "EntityNotExist.Group": N_("That group does not exist; check the group name."),
    "EntityNotExist.Role": N_("That role does not exist; check the role name."),
    "EntityNotExist.Policy": N_("That policy does not exist; check its name and type."),
    "EntityNotExist.PolicyVersion": N_(
        "That policy version does not exist; reload the policy to see its versions."
    ),
    "EntityNotExist.User.Group": N_("That user is not a member of the group."),
    "EntityNotExist.User.Policy": N_("That policy is not attached to the user."),
    "EntityNotExist.Group.Policy": N_("That policy is not attached to the group."),
    "EntityNotExist.Role.Policy": N_("That policy is not attached to the role."),
    "EntityAlreadyExists": N_("That name is taken; choose another."),
    "EntityAlreadyExists.User": N_("A RAM user of that name already exists; choose another name."),
    "EntityAlreadyExists.Group": N_("A group of that name already exists; choose another name."),
    "EntityAlreadyExists.Role": N_("A role of that name already exists; choose another name."),
    "EntityAlreadyExists.Policy": N_(
        "A policy of that name already exists (system policies included); choose another name."
    ),
    "EntityAlreadyExists.User.Policy": N_("That policy is already attached to the user."),
    "EntityAlreadyExists.Group.Policy": N_("That policy is already attached to the group."),
    "EntityAlreadyExists.Role.Policy": N_("That policy is already attached to the role."),
    "DeleteConflict": N_("This cannot be deleted while something still uses it."),
    "DeleteConflict.Policy.Attachment": N_(
        "The policy is still attached to users, groups or roles; detach it first (see its "
        "attachments)."
    ),
    "DeleteConflict.PolicyVersion.Default": N_(
        "This is the default version; make another version the default first."
    ),
    "LimitExceeded": N_("A RAM limit is reached; delete what you no longer need."),
    "LimitExceeded.RamUsersPerAccount": N_(
        "An account holds at most %(max_users)s RAM users; delete users you no longer need."
    ),
    "LimitExceeded.GroupsPerAccount": N_(
        "An account holds at most %(max_groups)s groups; delete groups you no longer need."
    ),
    "LimitExceeded.RolesPerAccount": N_(
        "An account holds at most %(max_roles)s roles; delete roles you no longer need."
    ),
    "LimitExceeded.CustomPoliciesPerAccount": N_(
        "An account holds at most %(max_custom_policies)s custom policies; delete policies you "
        "no longer need."
    ),
    "LimitExceeded.GroupsPerUser": N_(
        "A user can be in at most %(max_groups_per_user)s groups; remove it from a group first."
    ),
    "LimitExceeded.VersionsPerPolicy": N_(
        "A policy keeps at most %(max_policy_versions)s versions; delete a version that is not "
        "the default first."
    ),
    "LimitExceeded.SystemPoliciesAttachedPerUser": _SYSTEM_ATTACHED,
    "LimitExceeded.SystemPoliciesAttachedPerGroup": _SYSTEM_ATTACHED,
    "LimitExceeded.SystemPoliciesAttachedPerRole": _SYSTEM_ATTACHED,
    "LimitExceeded.CustomPoliciesAttachedPerUser": _CUSTOM_ATTACHED,
    "LimitExceeded.CustomPoliciesAttachedPerGroup": _CUSTOM_ATTACHED,
    "LimitExceeded.CustomPoliciesAttachedPerRole": _CUSTOM_ATTACHED,
}

# the numbers the messages above name
LIMIT_VALUES = {
    "max_users": ram.MAX_USERS,
    "max_groups": ram.MAX_GROUPS,
    "max_roles": ram.MAX_ROLES,
    "max_custom_policies": ram.MAX_CUSTOM_POLICIES,
    "max_groups_per_user": ram.MAX_GROUPS_PER_USER,
    "max_policy_versions": ram.MAX_POLICY_VERSIONS,
    "max_system_attachments": ram.MAX_SYSTEM_ATTACHMENTS,
    "max_custom_attachments": ram.MAX_CUSTOM_ATTACHMENTS,
}

# where an error page sends the user to fix the cause: (path, label)
ERROR_LINKS = {
    "ServiceRoleNotAuthorized": (service_role.AUTHORIZATION_PAGE, N_("Go to authorize")),
    "ServiceRoleMissingAction": (service_role.AUTHORIZATION_PAGE, N_("See the service role")),
}
