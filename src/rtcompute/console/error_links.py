"""Where the console sends a user to fix the cause of an error: (path, label) per code.

The sentence of an error is its own, raised in English and Chinese (errors.py); a page shows
it in its language and, for the codes below, a link to the page where the cause is fixed.
"""

from __future__ import annotations

from rtcompute.console.i18n import N_
from rtcompute.services.iam import service_role

NETWORKS_PAGE = "/console/networks"
BUCKETS_PAGE = "/console/buckets"
ORDERS_PAGE = "/console/orders"
CATALOG_PAGE = "/console/engines"

_NETWORKS = (NETWORKS_PAGE, N_("Networks and subnets"))
_BUCKETS = (BUCKETS_PAGE, N_("Buckets"))
_ORDERS = (ORDERS_PAGE, N_("Orders"))
_CATALOG = (CATALOG_PAGE, N_("Engine versions"))

LINKS = {
    # guide, 共享模式角色授权: the service acts for the account only through its role
    "ServiceRoleNotAuthorized": (service_role.AUTHORIZATION_PAGE, N_("Go to authorize")),
    "ServiceRoleMissingAction": (service_role.AUTHORIZATION_PAGE, N_("See the service role")),
    "SubnetAddressesExhausted": _NETWORKS,
    "NetworkNotFound": _NETWORKS,
    "SubnetNotFound": _NETWORKS,
    "InvalidParameter.Subnet": _NETWORKS,
    "NoSuchBucket": _BUCKETS,
    "InvalidParameter.BucketStorageClass": _BUCKETS,
    "InvalidParameter.BucketAcl": _BUCKETS,
    "OrderNotUsable": _ORDERS,
    "OrderStale": _ORDERS,
    "EngineVersionNotFound": _CATALOG,
    "EngineVersionUnlisted": _CATALOG,
}


def of(code: str) -> tuple[str, str] | None:
    """Where the user fixes the cause of an error with `code`, or None."""
    return LINKS.get(code)
