"""The typed tables, one module per area of `services/` (all in one metadata, `Base`).

`tables.Account`, `tables.Job`, ...: every table by its name; the area modules hold them."""

from __future__ import annotations

from rtcompute.store.tables.base import Base, UtcDateTime
from rtcompute.store.tables.capacity import (
    Bucket,
    Cluster,
    ClusterComponent,
    ClusterNode,
    MachineType,
    Network,
    Order,
    Project,
    Region,
    Subnet,
    UsageRecord,
    Zone,
)
from rtcompute.store.tables.engines import EngineCopy, EngineDeployment, EngineVersion, NamedLock
from rtcompute.store.tables.iam import (
    GroupMember,
    PolicyAttachment,
    RamGroup,
    RamPolicy,
    RamPolicyVersion,
    RamRole,
)
from rtcompute.store.tables.jobs import (
    Folder,
    Job,
    JobAlertRule,
    JobDeployment,
    JobEvent,
    JobMetricSample,
    JobResource,
    JobRevision,
    JobRun,
    JobSavepoint,
)
from rtcompute.store.tables.kernel import (
    AccessKey,
    Account,
    AuditEvent,
    Identity,
    Lease,
    Session,
    SignInThrottle,
    VerificationCode,
)

__all__ = [
    "AccessKey",
    "Account",
    "AuditEvent",
    "Base",
    "Bucket",
    "Cluster",
    "ClusterComponent",
    "ClusterNode",
    "EngineCopy",
    "EngineDeployment",
    "EngineVersion",
    "Folder",
    "GroupMember",
    "Identity",
    "Job",
    "JobAlertRule",
    "JobDeployment",
    "JobEvent",
    "JobMetricSample",
    "JobResource",
    "JobRevision",
    "JobRun",
    "JobSavepoint",
    "Lease",
    "MachineType",
    "NamedLock",
    "Network",
    "Order",
    "PolicyAttachment",
    "Project",
    "RamGroup",
    "RamPolicy",
    "RamPolicyVersion",
    "RamRole",
    "Region",
    "Session",
    "SignInThrottle",
    "Subnet",
    "UsageRecord",
    "UtcDateTime",
    "VerificationCode",
    "Zone",
]
