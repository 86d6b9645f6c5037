"""What the console says for the capacity error codes (orders, projects, clusters, networks,
buckets), translated, and where the user fixes each cause.

The capacity pages use these on their forms (`capacity_shared.refusal`); `views` can merge
them into its table so the error page says the same. A translated sentence never replaces
the service's own message on a page: that message names the rule and what would fit, so
the pages show the translation followed by it.
"""

from __future__ import annotations

from rtcompute.console.i18n import N_

NETWORKS_PAGE = "/console/networks"
BUCKETS_PAGE = "/console/buckets"
ORDERS_PAGE = "/console/orders"

ERROR_MESSAGES = {
    "Forbidden.MainAccountOnly": N_(
        "Only the account itself (the main account) may buy, pay and create projects and "
        "clusters; sign in as the account."
    ),
    "OrderNotFound": N_("That order does not exist; check its number."),
    "InvalidParameter.Order": N_("The order breaks a purchase rule; correct it and retry."),
    "OrderNotPayable": N_("Only an order pending payment can be paid."),
    "OrderNotCancellable": N_("Only an order pending payment can be cancelled."),
    "PaymentNeedsApproval": N_(
        "Payments on this installation are approved by the operator; ask them to approve the order."
    ),
    "OrderNotUsable": N_(
        "That order cannot make a project or cluster now (unpaid, or already used)."
    ),
    "OrderStale": N_(
        "The project or cluster changed after this order was priced: cancel the order and "
        "place a new one."
    ),
    "InvalidParameter.ProjectSource": N_(
        "Choose an order (shared mode) or a cluster and a CU count."
    ),
    "InvalidParameter.Months": N_("Choose between 1 and 36 months."),
    "InvalidParameter.CU": N_("The CU count is not valid."),
    "InvalidParameter.SlaveCount": N_("Choose a different slave count."),
    "InvalidParameter.Sizing": N_("The calculator cannot answer that."),
    "InvalidParameter.Region": N_("Unknown region."),
    "InvalidParameter.ClusterName": N_(
        "Cluster names are 3-64 letters, digits and underscores, starting with a letter."
    ),
    "ClusterNotFound": N_("That cluster does not exist; check its name."),
    "ClusterAlreadyExists": N_("A cluster of that name already exists; choose another name."),
    "ClusterStateConflict": N_("The cluster's state does not allow this now."),
    "ClusterHasProjects": N_("The cluster still holds projects; delete them first."),
    "ClusterNotRunning": N_("Projects are created and resized in a running cluster."),
    "QuotaExceeded.ClusterCU": N_(
        "The cluster has not enough free CU; give fewer CU or scale the cluster out."
    ),
    "CUInUse": N_("That CU is in use."),
    "ZoneNotFound": N_("That zone does not exist; the operator registers zones."),
    "ZoneCapacityExceeded": N_(
        "The zone has no room for the cluster's nodes; pick another zone or ask the operator."
    ),
    "NetworkNotFound": N_("That network does not exist; create it first."),
    "NetworkAlreadyExists": N_("A network of that name already exists; choose another name."),
    "NetworkInUse": N_("The network still has subnets; delete them first."),
    "SubnetNotFound": N_("That subnet does not exist; create it first."),
    "SubnetAlreadyExists": N_("The network already has a subnet of that name."),
    "SubnetInUse": N_("Cluster nodes still hold addresses in this subnet."),
    "SubnetAddressesExhausted": N_(
        "The subnet has too few free addresses, one per node; choose or create a larger subnet."
    ),
    "InvalidParameter.Subnet": N_("The subnet lies in another zone."),
    "InvalidParameter.NetworkName": N_(
        "The network name is not valid: 2-64 letters, digits, '-' and '_', starting with a letter."
    ),
    "InvalidParameter.SubnetName": N_(
        "The subnet name is not valid: 2-64 letters, digits, '-' and '_', starting with a letter."
    ),
    "InvalidParameter.CidrBlock": N_(
        "The CIDR block is not valid; use a private block such as 10.0.0.0/16 (a subnet "
        "inside its network)."
    ),
    "NoSuchBucket": N_("That bucket does not exist; create it first."),
    "InvalidParameter.BucketStorageClass": N_("A cluster needs a standard-class bucket."),
    "InvalidParameter.BucketAcl": N_("A cluster's bucket must not be public-read."),
    "BucketAlreadyExists": N_("That bucket name is taken; choose another."),
    "InvalidBucketName": N_(
        "The bucket name is not valid: 3-63 lowercase letters, digits and hyphens."
    ),
    "BucketInUse": N_("Clusters still use this bucket; release them first."),
    "BucketNotEmpty": N_("The bucket is not empty; delete its objects first."),
    "InvalidObjectName": N_(
        "The object name is not valid: a relative path without '..', empty parts or "
        "bidirectional control characters."
    ),
    "NoSuchKey": N_("That object does not exist."),
    "EntityTooLarge": N_("The file is too large."),
    "ObjectKeyConflict": N_("That object name clashes with another one."),
    "CatalogChanged": N_("The cluster's machine types left the catalog; ask the operator."),
    "InvalidParameter.Billing": N_(
        "A pay-as-you-go cluster is not renewed: it is metered hourly until released."
    ),
    "InvalidParameter.Capacity": N_(
        "The zone capacity is not valid; give node counts per known machine type."
    ),
    "InvalidParameter.MachineType": N_("Machine type names read <cores>c<memory GB>g, e.g. 8c32g."),
    "InvalidParameter.Price": N_("The price is out of range."),
    "InvalidParameter.Project": N_(
        "A project in a cluster is renewed and scaled with its cluster; resize the project instead."
    ),
    "InvalidParameter.Role": N_("The role must be master or slave."),
    "InvalidParameter.ZoneName": N_(
        "The zone name is not valid: 2-64 letters, digits, '-' and '_', starting with a letter."
    ),
    "PlacementGone": N_("The cluster's zone or subnet is gone; ask the operator."),
    "ProjectHasOnlineJobs": N_("The project has online jobs; take them offline first."),
    "StorageUnavailable": N_("The object storage is unavailable for a moment; retry shortly."),
    "ZoneAlreadyExists": N_("A zone of that name already exists; update its capacity instead."),
    "ZoneCapacityInUse": N_("The zone's capacity cannot go below the nodes placed in it."),
    "ZoneInHistory": N_("The zone is still referenced by past clusters; it cannot be deleted."),
    "ZoneInUse": N_("The zone is in use: delete its subnets and release its clusters first."),
}

# where a form's refusal sends the user to fix the cause: (path, label)
ERROR_LINKS = {
    "SubnetAddressesExhausted": (NETWORKS_PAGE, N_("Networks and subnets")),
    "NetworkNotFound": (NETWORKS_PAGE, N_("Networks and subnets")),
    "SubnetNotFound": (NETWORKS_PAGE, N_("Networks and subnets")),
    "InvalidParameter.Subnet": (NETWORKS_PAGE, N_("Networks and subnets")),
    "NoSuchBucket": (BUCKETS_PAGE, N_("Buckets")),
    "InvalidParameter.BucketStorageClass": (BUCKETS_PAGE, N_("Buckets")),
    "InvalidParameter.BucketAcl": (BUCKETS_PAGE, N_("Buckets")),
    "OrderNotUsable": (ORDERS_PAGE, N_("Orders")),
    "OrderStale": (ORDERS_PAGE, N_("Orders")),
}
