"""What the console says for the jobs' error codes (folders, drafts, revisions, the lifecycle
of an online job, logs and alerts), translated.

The services' own sentences name the value and the rule (which line, how much CU is free,
which states allow a start); the job pages show them after the translated sentence in every
language but English, where the service's sentence is shown alone.
"""

from __future__ import annotations

from rtcompute.console.i18n import N_

ERROR_MESSAGES = {
    "FolderAlreadyExists": N_("A folder with that path already exists; choose another name."),
    "FolderNotEmpty": N_(
        "The folder is not empty; move or delete its jobs and folders before deleting it."
    ),
    "FolderNotFound": N_("That folder does not exist; create it first, or choose another."),
    "InvalidParameter.Folder": N_(
        "Folder paths start with / and have at most 8 names of letters, digits, _ - . and "
        "spaces, such as /etl/daily."
    ),
    "InvalidParameter.JobName": N_(
        "Job names have 1-128 letters, digits, _ and -, and start with a letter."
    ),
    "InvalidParameter.Description": N_("The description has at most 1024 characters."),
    "InvalidParameter.Message": N_("The revision message must be plain text."),
    "InvalidParameter.JobSettings": N_(
        "A job setting is not valid; correct the field the message names."
    ),
    "InvalidParameter.StartMode": N_(
        "Choose a start mode: stateless, latest checkpoint, latest savepoint or a savepoint."
    ),
    "InvalidParameter.StopMode": N_("Choose how to stop: with a savepoint, or cancel."),
    "InvalidParameter.SavepointId": N_("Choose the savepoint to start from."),
    "InvalidParameter.AlertKind": N_(
        "An alert rule kind is unknown or given twice; use failed, restarts or "
        "checkpoint failures once each."
    ),
    "InvalidParameter.Threshold": N_("Alert thresholds are whole numbers from 0 to 1000000."),
    "InvalidParameter.Window": N_("Alert windows are from 60 seconds to 7 days."),
    "JobAlreadyExists": N_("A job with that name already exists in the project."),
    "JobNotFound": N_("That job does not exist in the project."),
    "JobIsOnline": N_("The job is online; take it offline before deleting it."),
    "JobIsRunning": N_("The job is running; stop it before putting another revision online."),
    "JobNotOnline": N_("The job is not online; put it online first."),
    "JobStateConflict": N_("The job's state does not allow this now; reload the page."),
    "JobQuotaExceeded": N_(
        "The job's CU do not fit the project's free CU; lower the parallelism, stop another "
        "job, or add CU to the project."
    ),
    "JobStateBucketRequired": N_(
        "The job needs a bucket for its checkpoints and savepoints: set the state bucket in "
        "its settings."
    ),
    "JobCheckFailed": N_(
        "The job does not pass its check; fix the problems listed, then try again."
    ),
    "JobLogsNotFound": N_("The job has not run yet, so it has no logs."),
    "NoSuchLog": N_("That log file does not exist (any more); reload the list."),
    "NoSavepoint": N_(
        "The job has no savepoint to start from; start it stateless or from another state."
    ),
    "NoCheckpoint": N_(
        "The job has no retained checkpoint to start from; start it stateless or from a savepoint."
    ),
    "SavepointNotFound": N_("That savepoint does not exist; choose one from the list."),
    "RevisionConflict": N_(
        "The job was saved by someone else after you opened it; reload it, then save again."
    ),
    "RevisionNotFound": N_("That revision does not exist."),
    "JobResourceLimitExceeded": N_(
        "A job has at most 32 resources; detach some, or bundle JARs together."
    ),
    "InvalidParameter.JobResource": N_(
        "Choose an object of one of the account's buckets, each at most once."
    ),
    "JobResourceWrongRegion": N_(
        "That bucket is in another region; a job reaches only storage in its cluster's region."
    ),
    "JobResourceAccessDenied": N_(
        "The service role may not read that object; grant it oss:GetObject in RAM."
    ),
    "JobResourceNotFound": N_("That resource is not attached to the job; reload the page."),
}
