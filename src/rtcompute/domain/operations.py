"""Who may do what: every operation of the API and the console, declared once.

An operation is the action a policy names (`stream:StartJob`) and the resource it acts on,
as a template of the resource name (`acs:<service>:<region>:<account>:<relative id>`). An
API route (`api/deps.requires`) and a console page (`console/guard.requires`) name the same
`Operation` of this module, so the same policy decides the same way whichever a caller uses
(tests/unit/test_operations.py fails on a page or route that declares anything else,
or on a console operation no API route has).

The template's placeholders are `{region}` (this installation's), `{account_id}` (the
caller's), `{self}` (the caller's own identity) and named parameters, filled from the
route's path parameters, else from the request's body or form field of that name (a
creation names what it creates: a deny on `job/secret*` holds for `stream:CreateJob` of
`secret-1` in the API and in the console alike).

A listing operation (`listing=True`) on a collection lets a caller allowed only some of its
items see those (the guide: a sub-account granted one project lists that project).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from rtcompute.domain import ram

# what every template may name besides the route's parameters
CONTEXT = frozenset({"region", "account_id", "self"})


@dataclass(frozen=True)
class Operation:
    action: str
    resource: str
    listing: bool = False

    @property
    def parameters(self) -> frozenset[str]:
        """The named parameters the route must supply (path, body or form)."""
        names = {field for _, field, _, _ in string.Formatter().parse(self.resource) if field}
        return frozenset(names - CONTEXT)

    def render(self, *, region: str, account_id: str, own: str, params: Mapping[str, str]) -> str:
        """The resource name for one request; a missing parameter renders empty (a name
        that matches no grant: `.../job/` is no job)."""
        values = {name: params.get(name, "") for name in self.parameters}
        return self.resource.format(region=region, account_id=account_id, self=own, **values)


SELF = "{self}"
OSS = "acs:oss:*:{account_id}"
RAM = "acs:ram::{account_id}"
STREAM = "acs:stream:{region}:{account_id}"
PROJECT = STREAM + ":{project}"
JOB = PROJECT + "/job/{job}"
CLUSTER = STREAM + ":cluster/{cluster}"
VERSION = CLUSTER + "/version/{version}"
VPC = "acs:vpc:{region}:{account_id}"
ORDERS = STREAM + ":order/*"
ORDER = STREAM + ":order/{order_id}"
SERVICE_ROLE = f"{RAM}:role/{ram.SERVICE_ROLE}"
OPERATOR_ORDERS = "acs:stream:*:*:order/*"

# the caller itself
GET_CALLER_IDENTITY = Operation("sts:GetCallerIdentity", SELF)
SIGN_OUT = Operation("rtc:SignOut", SELF)
CHANGE_PASSWORD = Operation("ram:ChangePassword", SELF)
CREATE_VIRTUAL_MFA_DEVICE = Operation("ram:CreateVirtualMFADevice", SELF)
BIND_MFA_DEVICE = Operation("ram:BindMFADevice", SELF)
LIST_ACCESS_KEYS = Operation("ram:ListAccessKeys", SELF)
CREATE_ACCESS_KEY = Operation("ram:CreateAccessKey", SELF)
UPDATE_ACCESS_KEY = Operation("ram:UpdateAccessKey", SELF)
DELETE_ACCESS_KEY = Operation("ram:DeleteAccessKey", SELF)
GET_OWN_LOGIN_PROFILE = Operation("ram:GetLoginProfile", SELF)
LOOKUP_EVENTS = Operation("actiontrail:LookupEvents", "acs:actiontrail:{region}:{account_id}:*")

# RAM: users, groups, policies, roles
GET_ACCOUNT_SUMMARY = Operation("ram:GetAccountSummary", RAM + ":*")
SIMULATE_POLICY = Operation("ram:SimulatePolicy", RAM + ":*")
LIST_USERS = Operation("ram:ListUsers", RAM + ":user/*")
CREATE_USER = Operation("ram:CreateUser", RAM + ":user/*")
GET_USER = Operation("ram:GetUser", RAM + ":user/{user}")
UPDATE_USER = Operation("ram:UpdateUser", RAM + ":user/{user}")
DELETE_USER = Operation("ram:DeleteUser", RAM + ":user/{user}")
UPDATE_LOGIN_PROFILE = Operation("ram:UpdateLoginProfile", RAM + ":user/{user}")
UNBIND_MFA_DEVICE = Operation("ram:UnbindMFADevice", RAM + ":user/{user}")
LIST_GROUPS_FOR_USER = Operation("ram:ListGroupsForUser", RAM + ":user/{user}")
LIST_USER_ACCESS_KEYS = Operation("ram:ListAccessKeys", RAM + ":user/{user}")
CREATE_USER_ACCESS_KEY = Operation("ram:CreateAccessKey", RAM + ":user/{user}")
UPDATE_USER_ACCESS_KEY = Operation("ram:UpdateAccessKey", RAM + ":user/{user}")
DELETE_USER_ACCESS_KEY = Operation("ram:DeleteAccessKey", RAM + ":user/{user}")
LIST_GROUPS = Operation("ram:ListGroups", RAM + ":group/*")
CREATE_GROUP = Operation("ram:CreateGroup", RAM + ":group/*")
GET_GROUP = Operation("ram:GetGroup", RAM + ":group/{group}")
UPDATE_GROUP = Operation("ram:UpdateGroup", RAM + ":group/{group}")
DELETE_GROUP = Operation("ram:DeleteGroup", RAM + ":group/{group}")
LIST_USERS_FOR_GROUP = Operation("ram:ListUsersForGroup", RAM + ":group/{group}")
ADD_USER_TO_GROUP = Operation("ram:AddUserToGroup", RAM + ":group/{group}")
REMOVE_USER_FROM_GROUP = Operation("ram:RemoveUserFromGroup", RAM + ":group/{group}")
LIST_POLICIES = Operation("ram:ListPolicies", RAM + ":policy/*")
CREATE_POLICY = Operation("ram:CreatePolicy", RAM + ":policy/*")
VALIDATE_POLICY_DOCUMENT = Operation("ram:ValidatePolicyDocument", RAM + ":policy/*")
GET_POLICY = Operation("ram:GetPolicy", RAM + ":policy/{name}")
DELETE_POLICY = Operation("ram:DeletePolicy", RAM + ":policy/{name}")
LIST_ENTITIES_FOR_POLICY = Operation("ram:ListEntitiesForPolicy", RAM + ":policy/{name}")
LIST_POLICY_VERSIONS = Operation("ram:ListPolicyVersions", RAM + ":policy/{name}")
GET_POLICY_VERSION = Operation("ram:GetPolicyVersion", RAM + ":policy/{name}")
CREATE_POLICY_VERSION = Operation("ram:CreatePolicyVersion", RAM + ":policy/{name}")
DELETE_POLICY_VERSION = Operation("ram:DeletePolicyVersion", RAM + ":policy/{name}")
SET_DEFAULT_POLICY_VERSION = Operation("ram:SetDefaultPolicyVersion", RAM + ":policy/{name}")
LIST_ROLES = Operation("ram:ListRoles", RAM + ":role/*")
CREATE_ROLE = Operation("ram:CreateRole", RAM + ":role/*")
GET_ROLE = Operation("ram:GetRole", RAM + ":role/{role}")
UPDATE_ROLE = Operation("ram:UpdateRole", RAM + ":role/{role}")
DELETE_ROLE = Operation("ram:DeleteRole", RAM + ":role/{role}")
GET_SERVICE_ROLE = Operation("ram:GetRole", SERVICE_ROLE)
CREATE_SERVICE_ROLE = Operation("ram:CreateRole", SERVICE_ROLE)
DELETE_SERVICE_ROLE = Operation("ram:DeleteRole", SERVICE_ROLE)
# the policies of a user, group or role (`{name}` is the holder), by its kind
POLICY_HOLDERS = {
    kind: (
        Operation(f"ram:ListPoliciesFor{kind}", f"{RAM}:{noun}/{{name}}"),
        Operation(f"ram:AttachPolicyTo{kind}", f"{RAM}:{noun}/{{name}}"),
        Operation(f"ram:DetachPolicyFrom{kind}", f"{RAM}:{noun}/{{name}}"),
    )
    for kind, noun in (("User", "user"), ("Group", "group"), ("Role", "role"))
}

# the operator
LIST_ACCOUNTS = Operation("rtc:ListAccounts", "acs:rtc::*:account/*")
CREATE_ACCOUNT = Operation("rtc:CreateAccount", "acs:rtc::*:account/*")
UPDATE_CATALOG = Operation("rtc:UpdateCatalog", "acs:rtc::*:catalog")
LIST_PENDING_ORDERS = Operation("rtc:ListPendingOrders", OPERATOR_ORDERS)
APPROVE_ORDER = Operation("rtc:ApproveOrder", OPERATOR_ORDERS)
CREATE_ZONE = Operation("rtc:CreateZone", "acs:vpc:{region}:*:zone/{name}")
UPDATE_ZONE = Operation("rtc:UpdateZone", "acs:vpc:{region}:*:zone/{zone}")
DELETE_ZONE = Operation("rtc:DeleteZone", "acs:vpc:{region}:*:zone/{zone}")
MANAGE_POOL_VERSIONS = Operation("rtc:ManagePoolVersions", STREAM + ":pool")
HOSTS = "acs:ecs:{region}:*:host"
LIST_HOSTS = Operation("rtc:ListHosts", HOSTS + "/*")
DESCRIBE_HOST = Operation("rtc:DescribeHost", HOSTS + "/{host}")
CREATE_HOST_JOIN_TOKEN = Operation("rtc:CreateHostJoinToken", "acs:vpc:{region}:*:zone/{zone}")
UPDATE_HOST = Operation("rtc:UpdateHost", HOSTS + "/{host}")
DELETE_HOST = Operation("rtc:DeleteHost", HOSTS + "/{host}")

# capacity: the catalog, orders, projects, clusters, networks, buckets
DESCRIBE_CATALOG = Operation("stream:DescribeCatalog", STREAM + ":catalog")
LIST_ORDERS = Operation("stream:ListOrders", ORDERS, listing=True)
LIST_EVERY_ORDER = Operation("stream:ListOrders", ORDERS)  # the whole collection or nothing
CREATE_ORDER = Operation("stream:CreateOrder", ORDERS)
DESCRIBE_ORDER = Operation("stream:DescribeOrder", ORDER)
PAY_ORDER = Operation("stream:PayOrder", ORDER)
CANCEL_ORDER = Operation("stream:CancelOrder", ORDER)
LIST_PROJECTS = Operation("stream:ListProjects", STREAM + ":*", listing=True)
CREATE_PROJECT = Operation("stream:CreateProject", STREAM + ":{name}")
DESCRIBE_PROJECT = Operation("stream:DescribeProject", PROJECT)
UPDATE_PROJECT = Operation("stream:UpdateProject", PROJECT)
DELETE_PROJECT = Operation("stream:DeleteProject", PROJECT)
RENEW_PROJECT = Operation("stream:RenewProject", PROJECT)
SCALE_PROJECT = Operation("stream:ScaleProject", PROJECT)
LIST_CLUSTERS = Operation("stream:ListClusters", STREAM + ":cluster/*", listing=True)
LIST_KUBERNETES_CLUSTERS = Operation(
    "stream:ListKubernetesClusters", STREAM + ":kubernetes-cluster/*"
)
CREATE_CLUSTER = Operation("stream:CreateCluster", STREAM + ":cluster/{name}")
DESCRIBE_CLUSTER = Operation("stream:DescribeCluster", CLUSTER)
UPDATE_CLUSTER = Operation("stream:UpdateCluster", CLUSTER)
RENEW_CLUSTER = Operation("stream:RenewCluster", CLUSTER)
SCALE_CLUSTER = Operation("stream:ScaleCluster", CLUSTER)
RELEASE_CLUSTER = Operation("stream:ReleaseCluster", CLUSTER)
DESCRIBE_ZONES = Operation("vpc:DescribeZones", VPC + ":zone/*")
DESCRIBE_VPCS = Operation("vpc:DescribeVpcs", VPC + ":vpc/*", listing=True)
DESCRIBE_VPC = Operation("vpc:DescribeVpcs", VPC + ":vpc/{network}")
CREATE_VPC = Operation("vpc:CreateVpc", VPC + ":vpc/{name}")
DELETE_VPC = Operation("vpc:DeleteVpc", VPC + ":vpc/{network}")
DESCRIBE_V_SWITCHES = Operation("vpc:DescribeVSwitches", VPC + ":vswitch/*", listing=True)
CREATE_V_SWITCH = Operation("vpc:CreateVSwitch", VPC + ":vswitch/{name}")
DELETE_V_SWITCH = Operation("vpc:DeleteVSwitch", VPC + ":vswitch/{subnet}")
LIST_BUCKETS = Operation("oss:ListBuckets", OSS + ":*", listing=True)
PUT_BUCKET = Operation("oss:PutBucket", OSS + ":{name}")
GET_BUCKET_INFO = Operation("oss:GetBucketInfo", OSS + ":{bucket}")
PUT_BUCKET_ACL = Operation("oss:PutBucketAcl", OSS + ":{bucket}")
DELETE_BUCKET = Operation("oss:DeleteBucket", OSS + ":{bucket}")
LIST_OBJECTS = Operation("oss:ListObjects", OSS + ":{bucket}")
GET_OBJECT = Operation("oss:GetObject", OSS + ":{bucket}/{key}")
PUT_OBJECT = Operation("oss:PutObject", OSS + ":{bucket}/{key}")
DELETE_OBJECT = Operation("oss:DeleteObject", OSS + ":{bucket}/{key}")

# engines
LIST_ENGINE_VERSIONS = Operation("stream:ListEngineVersions", CLUSTER + "/version/*")
DESCRIBE_ENGINE_VERSION = Operation("stream:ListEngineVersions", VERSION)
INSTALL_ENGINE_VERSION = Operation("stream:InstallEngineVersion", VERSION)
SWITCH_ENGINE_VERSION = Operation("stream:SwitchEngineVersion", VERSION)
UNINSTALL_ENGINE_VERSION = Operation("stream:UninstallEngineVersion", VERSION)

# jobs
CHECK_SQL = Operation("stream:CheckSql", PROJECT)
EXPLAIN_SQL = Operation("stream:ExplainSql", PROJECT)
LIST_FOLDERS = Operation("stream:ListFolders", PROJECT + "/folder/*")
CREATE_FOLDER = Operation("stream:CreateFolder", PROJECT + "/folder{path}")
UPDATE_FOLDER = Operation("stream:UpdateFolder", PROJECT + "/folder/*")
DELETE_FOLDER = Operation("stream:DeleteFolder", PROJECT + "/folder{path}")
LIST_JOBS = Operation("stream:ListJobs", PROJECT + "/job/*")
CREATE_JOB = Operation("stream:CreateJob", PROJECT + "/job/{name}")
DESCRIBE_JOB = Operation("stream:DescribeJob", JOB)
UPDATE_JOB = Operation("stream:UpdateJob", JOB)
DELETE_JOB = Operation("stream:DeleteJob", JOB)
CHECK_JOB = Operation("stream:CheckJob", JOB)
PUBLISH_JOB = Operation("stream:PublishJob", JOB)
OFFLINE_JOB = Operation("stream:OfflineJob", JOB)
START_JOB = Operation("stream:StartJob", JOB)
STOP_JOB = Operation("stream:StopJob", JOB)
QUERY_JOB_LOGS = Operation("stream:QueryJobLogs", JOB)
QUERY_JOB_METRICS = Operation("stream:QueryJobMetrics", JOB)


def every() -> list[Operation]:
    """Every operation of this module (the declarations test checks routes against it)."""
    found = [value for value in globals().values() if isinstance(value, Operation)]
    found += [op for ops in POLICY_HOLDERS.values() for op in ops]
    return found
