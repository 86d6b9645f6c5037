"""What the console says for the engine-version error codes (guide ch. 7 版本管理), translated.

The guide's own messages (`Flink versions exceeded max limitation:3`, `flink-2.2.1 already
installed`, `Node:<job> in project:<project> still ref the version:<version>`, the 30006
text) are what the services raise; the engine pages show them verbatim in every language,
after the translated sentence, so a user can search the guide for the exact text.
"""

from __future__ import annotations

from rtcompute.console.i18n import N_

CATALOG_PAGE = "/console/engines"

ERROR_MESSAGES = {
    "VersionAlreadyInstalled": N_("This version is already installed here."),
    "VersionLimitExceeded": N_(
        "At most 3 versions can be installed; uninstall one before installing another."
    ),
    "VersionDeploying": N_(
        "A version is being installed; one install at a time: wait for it to finish."
    ),
    "BetaNotConfirmed": N_(
        "Beta versions are for special cases only and their quality and stability are not "
        "guaranteed; confirm to install one."
    ),
    "VersionNotInstalled": N_("That version is not installed here."),
    "VersionIsCurrent": N_(
        "The current version cannot be uninstalled; set another version as current first."
    ),
    "VersionInUse": N_("An online job still references this version; take the job offline first."),
    "EngineVersionNotFound": N_("That engine version is not in the catalog."),
    "EngineVersionUnlisted": N_("That version is no longer offered for new installs."),
    "30006": N_(
        "That engine version is not installed on the project's cluster; install it there or "
        "choose an installed version."
    ),
    "EngineWorkersDisabled": N_(
        "Syntax checks are not available on this server process; ask the operator."
    ),
    "EngineWorkerRestarted": N_("The engine stopped during the check and was restarted; retry."),
    "EngineWorkerTimeout": N_("The engine took too long to answer and was restarted; retry."),
    "EngineWorkerStartFailed": N_(
        "The engine for this version could not start; retry, and if it persists ask the "
        "operator to check the version's installation."
    ),
    "InvalidParameter.EngineVersion": N_(
        "Engine version names read flink-<major>.<minor>.<patch>, e.g. flink-2.2.1."
    ),
    "InvalidParameter.Sql": N_("Enter a non-empty SQL script of at most 256 KB."),
    "InvalidParameter.Tag": N_("The tag must be stable, beta or none."),
    "InvalidParameter.ReleasedOn": N_("The release date is out of range."),
    "InvalidParameter.EndOfService": N_("The end of service must not be before the release date."),
}

# on the version pages a cluster that is not running refuses installs (not projects)
PAGE_MESSAGES = {
    **ERROR_MESSAGES,
    "ClusterNotRunning": N_("Versions are installed on a running cluster."),
}

# where a refusal sends the user to fix the cause: (path, label)
ERROR_LINKS = {
    "EngineVersionNotFound": (CATALOG_PAGE, N_("Engine versions")),
    "EngineVersionUnlisted": (CATALOG_PAGE, N_("Engine versions")),
}
