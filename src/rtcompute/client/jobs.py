"""Client calls for the jobs of a project: folders, drafts and revisions, checks, the online
job's lifecycle and what it shows while it runs (state, savepoints, events, metrics, logs,
alert rules).

Every call takes the project and the job's name; both are quoted as one path segment each
(`client_base.segment`), and the `:validate`-style verbs follow the quoted name.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from rtcompute.client import base as client_base
from rtcompute.client import schemas

_seg = client_base.segment
_given = client_base.given


def project_path(project: str) -> str:
    return f"/projects/{_seg(project)}"


def job_path(project: str, job: str) -> str:
    """`/projects/<p>/jobs/<j>`; a name like `a:start` or `..` stays the job's name."""
    return f"{project_path(project)}/jobs/{_seg(job)}"


class JobCalls(client_base.Transport):
    # folders
    def list_folders(self, project: str) -> list[str]:
        """Every folder's path; `/` always exists."""
        path = f"{project_path(project)}/folders"
        return self.parsed(schemas.jobs.Folders, "GET", path).folders

    def create_folder(self, project: str, path: str) -> str:
        """Create `path` (its parent must exist); the normalized path."""
        made = self.parsed(
            schemas.jobs.Folders, "POST", f"{project_path(project)}/folders", json={"path": path}
        )
        return made.folders[0]

    def move_folder(self, project: str, path: str, to: str) -> str:
        """Rename or move a folder with everything in it; the new path."""
        moved = self.parsed(
            schemas.jobs.Folders,
            "POST",
            f"{project_path(project)}/folders:move",
            json={"path": path, "to": to},
        )
        return moved.folders[0]

    def delete_folder(self, project: str, path: str) -> None:
        """Delete an empty folder."""
        self.request("POST", f"{project_path(project)}/folders:delete", json={"path": path})

    # drafts and revisions
    def list_jobs(
        self, project: str, *, folder: str | None = None
    ) -> list[schemas.jobs.JobSummary]:
        params = _given(folder=folder)
        return self.parsed_list(
            schemas.jobs.JobSummary, "GET", f"{project_path(project)}/jobs", params=params
        )

    def create_job(
        self,
        project: str,
        name: str,
        *,
        folder: str = "/",
        sql: str = "",
        settings: dict[str, Any] | None = None,
        engine_version: str = "",
        description: str = "",
    ) -> schemas.jobs.Job:
        """A new draft, revision 1 (empty `engine_version`: the cluster's current one)."""
        body: dict[str, Any] = {
            "name": name,
            "folder": folder,
            "sql": sql,
            "engine_version": engine_version,
            "description": description,
        }
        body |= _given(settings=settings)
        return self.parsed(schemas.jobs.Job, "POST", f"{project_path(project)}/jobs", json=body)

    def get_job(self, project: str, job: str) -> schemas.jobs.Job:
        return self.parsed(schemas.jobs.Job, "GET", job_path(project, job))

    def update_job(
        self,
        project: str,
        job: str,
        *,
        sql: str | None = None,
        settings: dict[str, Any] | None = None,
        engine_version: str | None = None,
        description: str | None = None,
        message: str = "",
        base_revision: int | None = None,
    ) -> schemas.jobs.Job:
        """Save the draft; a change of SQL, settings or version is a new revision. With
        `base_revision` the save is refused (RevisionConflict) if someone saved since."""
        body = _given(
            sql=sql,
            settings=settings,
            engine_version=engine_version,
            description=description,
            base_revision=base_revision,
        )
        body["message"] = message
        return self.parsed(schemas.jobs.Job, "PATCH", job_path(project, job), json=body)

    def move_job(
        self, project: str, job: str, *, folder: str | None = None, new_name: str | None = None
    ) -> schemas.jobs.Job:
        """Rename the job (`new_name`) or move it to another folder."""
        body = _given(folder=folder, name=new_name)
        return self.parsed(schemas.jobs.Job, "POST", f"{job_path(project, job)}:move", json=body)

    def delete_job(self, project: str, job: str) -> None:
        self.request("DELETE", job_path(project, job))

    def list_revisions(self, project: str, job: str) -> list[schemas.jobs.Revision]:
        """Every save, newest first."""
        return self.parsed_list(schemas.jobs.Revision, "GET", f"{job_path(project, job)}/revisions")

    def get_revision(self, project: str, job: str, number: int) -> schemas.jobs.Revision:
        return self.parsed(
            schemas.jobs.Revision, "GET", f"{job_path(project, job)}/revisions/{number:d}"
        )

    def diff_revisions(self, project: str, job: str, first: int, second: int) -> str:
        """A unified diff of two revisions (SQL, engine version, settings)."""
        params = {"from": first, "to": second}
        found = self.parsed(
            schemas.jobs.Diff, "GET", f"{job_path(project, job)}/diff", params=params
        )
        return found.diff

    def restore_revision(self, project: str, job: str, number: int) -> schemas.jobs.Job:
        """A new revision with revision `number`'s content."""
        return self.parsed(
            schemas.jobs.Job, "POST", f"{job_path(project, job)}/revisions/{number:d}:restore"
        )

    # checks and the lifecycle
    def validate_job(self, project: str, job: str) -> schemas.engines.SqlCheck:
        """Syntax-check the job: `ok`, and `problems` with their line, column and message."""
        return self.parsed(schemas.engines.SqlCheck, "POST", f"{job_path(project, job)}:validate")

    def explain_job(self, project: str, job: str) -> schemas.engines.SqlExplain:
        """Like `validate_job`, with the `plan`."""
        return self.parsed(schemas.engines.SqlExplain, "POST", f"{job_path(project, job)}:explain")

    def publish_job(self, project: str, job: str) -> schemas.jobs.Deployment:
        """Go online with the head revision; JobCheckFailed (409) carries `problems`."""
        return self.parsed(schemas.jobs.Deployment, "POST", f"{job_path(project, job)}:publish")

    def start_job(
        self,
        project: str,
        job: str,
        *,
        mode: str = "stateless",
        savepoint_id: int | None = None,
        allow_non_restored_state: bool = False,
    ) -> schemas.jobs.Deployment:
        """mode: stateless | latest_checkpoint | latest_savepoint | savepoint (+ savepoint_id)."""
        body: dict[str, Any] = {"mode": mode, "allow_non_restored_state": allow_non_restored_state}
        body |= _given(savepoint_id=savepoint_id)
        return self.parsed(
            schemas.jobs.Deployment, "POST", f"{job_path(project, job)}:start", json=body
        )

    def resume_job(self, project: str, job: str) -> schemas.jobs.Deployment:
        return self.parsed(schemas.jobs.Deployment, "POST", f"{job_path(project, job)}:resume")

    def stop_job(
        self, project: str, job: str, *, mode: str = "savepoint"
    ) -> schemas.jobs.Deployment:
        """mode: savepoint (default) | cancel."""
        return self.parsed(
            schemas.jobs.Deployment, "POST", f"{job_path(project, job)}:stop", json={"mode": mode}
        )

    def suspend_job(self, project: str, job: str) -> schemas.jobs.Deployment:
        return self.parsed(schemas.jobs.Deployment, "POST", f"{job_path(project, job)}:suspend")

    def offline_job(self, project: str, job: str) -> None:
        self.request("POST", f"{job_path(project, job)}:offline")

    # watching
    def get_deployment(self, project: str, job: str) -> schemas.jobs.Deployment:
        """The online job's desired and observed state (404 JobNotOnline otherwise)."""
        return self.parsed(schemas.jobs.Deployment, "GET", f"{job_path(project, job)}/deployment")

    def list_savepoints(self, project: str, job: str) -> list[schemas.jobs.Savepoint]:
        return self.parsed_list(
            schemas.jobs.Savepoint, "GET", f"{job_path(project, job)}/savepoints"
        )

    def list_job_events(self, project: str, job: str) -> list[schemas.jobs.Event]:
        """State changes, failovers, checkpoint failures, alerts; newest first."""
        return self.parsed_list(schemas.jobs.Event, "GET", f"{job_path(project, job)}/events")

    def job_metrics(
        self, project: str, job: str, *, limit: int = 120
    ) -> list[schemas.jobs.MetricSample]:
        """The latest `limit` samples, oldest first."""
        return self.parsed_list(
            schemas.jobs.MetricSample,
            "GET",
            f"{job_path(project, job)}/metrics",
            params={"limit": limit},
        )

    def list_job_logs(self, project: str, job: str) -> list[schemas.jobs.LogFile]:
        """The log and stdout files (kind log|out) of the current or last run."""
        return self.parsed_list(schemas.jobs.LogFile, "GET", f"{job_path(project, job)}/logs")

    def download_job_log(self, project: str, job: str, name: str, sink: BinaryIO) -> int:
        """Write one log file to `sink` as it arrives; the number of bytes."""
        return self.download(f"{job_path(project, job)}/logs/{_seg(name)}", sink)

    def get_job_alerts(self, project: str, job: str) -> list[schemas.jobs.AlertRule]:
        """The rules: kind failed|restarts|checkpoint_failures, threshold, window_seconds."""
        path = f"{job_path(project, job)}/alerts"
        return self.parsed(schemas.jobs.AlertRules, "GET", path).rules

    def set_job_alerts(
        self, project: str, job: str, rules: list[dict[str, Any]]
    ) -> list[schemas.jobs.AlertRule]:
        """Replace the job's alert rules (an empty list: no alerts)."""
        path = f"{job_path(project, job)}/alerts"
        return self.parsed(schemas.jobs.AlertRules, "PUT", path, json={"rules": rules}).rules

    def get_job_resources(self, project: str, job: str) -> list[schemas.jobs.JobResource]:
        """The objects (bucket, key, kind jar|file) attached to the job's draft."""
        path = f"{job_path(project, job)}/resources"
        return self.parsed(schemas.jobs.JobResources, "GET", path).resources

    def set_job_resources(
        self, project: str, job: str, resources: list[dict[str, str]]
    ) -> list[schemas.jobs.JobResource]:
        """Replace the job's resources ([{bucket, key}]); a change is a new revision."""
        path = f"{job_path(project, job)}/resources"
        body = {"resources": resources}
        return self.parsed(schemas.jobs.JobResources, "PUT", path, json=body).resources
