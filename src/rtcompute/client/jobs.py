"""Client calls for the jobs of a project: folders, drafts and revisions, checks, the online
job's lifecycle and what it shows while it runs (state, savepoints, events, metrics, logs,
alert rules).

Every call takes the project and the job's name; both are quoted as one path segment each
(`client_base.segment`), and the `:validate`-style verbs follow the quoted name.
"""

from __future__ import annotations

from typing import Any, BinaryIO

import httpx

from rtcompute.client import base as client_base

ApiError = client_base.ApiError
_seg = client_base.segment


def project_path(project: str) -> str:
    return f"/projects/{_seg(project)}"


def job_path(project: str, job: str) -> str:
    """`/projects/<p>/jobs/<j>`; a name like `a:start` or `..` stays the job's name."""
    return f"{project_path(project)}/jobs/{_seg(job)}"


def _changes(**fields: Any) -> dict[str, Any]:
    """The fields of a partial update that were given."""
    return {k: v for k, v in fields.items() if v is not None}


class JobCalls(client_base.Transport):
    # folders
    def list_folders(self, project: str) -> list[str]:
        """Every folder's path; `/` always exists."""
        result: dict[str, list[str]] = self.request("GET", f"{project_path(project)}/folders")
        return result["folders"]

    def create_folder(self, project: str, path: str) -> str:
        """Create `path` (its parent must exist); the normalized path."""
        result: dict[str, list[str]] = self.request(
            "POST", f"{project_path(project)}/folders", json={"path": path}
        )
        return result["folders"][0]

    def move_folder(self, project: str, path: str, to: str) -> str:
        """Rename or move a folder with everything in it; the new path."""
        result: dict[str, list[str]] = self.request(
            "POST", f"{project_path(project)}/folders:move", json={"path": path, "to": to}
        )
        return result["folders"][0]

    def delete_folder(self, project: str, path: str) -> None:
        """Delete an empty folder."""
        self.request("POST", f"{project_path(project)}/folders:delete", json={"path": path})

    # drafts and revisions
    def list_jobs(self, project: str, *, folder: str | None = None) -> list[dict[str, Any]]:
        params = _changes(folder=folder)
        result: list[dict[str, Any]] = self.request(
            "GET", f"{project_path(project)}/jobs", params=params
        )
        return result

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
    ) -> dict[str, Any]:
        """A new draft, revision 1 (empty `engine_version`: the cluster's current one)."""
        body: dict[str, Any] = {
            "name": name,
            "folder": folder,
            "sql": sql,
            "engine_version": engine_version,
            "description": description,
        }
        body |= _changes(settings=settings)
        result: dict[str, Any] = self.request("POST", f"{project_path(project)}/jobs", json=body)
        return result

    def get_job(self, project: str, job: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", job_path(project, job))
        return result

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
    ) -> dict[str, Any]:
        """Save the draft; a change of SQL, settings or version is a new revision. With
        `base_revision` the save is refused (RevisionConflict) if someone saved since."""
        body = _changes(
            sql=sql,
            settings=settings,
            engine_version=engine_version,
            description=description,
            base_revision=base_revision,
        )
        body["message"] = message
        result: dict[str, Any] = self.request("PATCH", job_path(project, job), json=body)
        return result

    def move_job(
        self, project: str, job: str, *, folder: str | None = None, new_name: str | None = None
    ) -> dict[str, Any]:
        """Rename the job (`new_name`) or move it to another folder."""
        body = _changes(folder=folder, name=new_name)
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:move", json=body)
        return result

    def delete_job(self, project: str, job: str) -> None:
        self.request("DELETE", job_path(project, job))

    def list_revisions(self, project: str, job: str) -> list[dict[str, Any]]:
        """Every save, newest first."""
        result: list[dict[str, Any]] = self.request("GET", f"{job_path(project, job)}/revisions")
        return result

    def get_revision(self, project: str, job: str, number: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", f"{job_path(project, job)}/revisions/{number:d}"
        )
        return result

    def diff_revisions(self, project: str, job: str, first: int, second: int) -> str:
        """A unified diff of two revisions (SQL, engine version, settings)."""
        result: dict[str, str] = self.request(
            "GET", f"{job_path(project, job)}/diff", params={"from": first, "to": second}
        )
        return result["diff"]

    def restore_revision(self, project: str, job: str, number: int) -> dict[str, Any]:
        """A new revision with revision `number`'s content."""
        result: dict[str, Any] = self.request(
            "POST", f"{job_path(project, job)}/revisions/{number:d}:restore"
        )
        return result

    # checks and the lifecycle
    def validate_job(self, project: str, job: str) -> dict[str, Any]:
        """{ok, engine_version, flink_version, problems: [{line, column, message}], elapsed_ms}"""
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:validate")
        return result

    def explain_job(self, project: str, job: str) -> dict[str, Any]:
        """Like `validate_job`, with the `plan`."""
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:explain")
        return result

    def publish_job(self, project: str, job: str) -> dict[str, Any]:
        """Go online with the head revision; JobCheckFailed (409) carries `problems`."""
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:publish")
        return result

    def start_job(
        self,
        project: str,
        job: str,
        *,
        mode: str = "stateless",
        savepoint_id: int | None = None,
        allow_non_restored_state: bool = False,
    ) -> dict[str, Any]:
        """mode: stateless | latest_checkpoint | latest_savepoint | savepoint (+ savepoint_id)."""
        body: dict[str, Any] = {"mode": mode, "allow_non_restored_state": allow_non_restored_state}
        body |= _changes(savepoint_id=savepoint_id)
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:start", json=body)
        return result

    def resume_job(self, project: str, job: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:resume")
        return result

    def stop_job(self, project: str, job: str, *, mode: str = "savepoint") -> dict[str, Any]:
        """mode: savepoint (default) | cancel."""
        result: dict[str, Any] = self.request(
            "POST", f"{job_path(project, job)}:stop", json={"mode": mode}
        )
        return result

    def suspend_job(self, project: str, job: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"{job_path(project, job)}:suspend")
        return result

    def offline_job(self, project: str, job: str) -> None:
        self.request("POST", f"{job_path(project, job)}:offline")

    # watching
    def get_deployment(self, project: str, job: str) -> dict[str, Any]:
        """The online job's desired and observed state (404 JobNotOnline otherwise)."""
        result: dict[str, Any] = self.request("GET", f"{job_path(project, job)}/deployment")
        return result

    def list_savepoints(self, project: str, job: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"{job_path(project, job)}/savepoints")
        return result

    def list_job_events(self, project: str, job: str) -> list[dict[str, Any]]:
        """State changes, failovers, checkpoint failures, alerts; newest first."""
        result: list[dict[str, Any]] = self.request("GET", f"{job_path(project, job)}/events")
        return result

    def job_metrics(self, project: str, job: str, *, limit: int = 120) -> list[dict[str, Any]]:
        """The latest `limit` samples, oldest first."""
        result: list[dict[str, Any]] = self.request(
            "GET", f"{job_path(project, job)}/metrics", params={"limit": limit}
        )
        return result

    def list_job_logs(self, project: str, job: str) -> list[dict[str, Any]]:
        """[{name, process, kind: log|out, size_bytes}] of the current or last run."""
        result: list[dict[str, Any]] = self.request("GET", f"{job_path(project, job)}/logs")
        return result

    def download_job_log(self, project: str, job: str, name: str, sink: BinaryIO) -> int:
        """Write one log file to `sink` as it arrives; the number of bytes."""
        path = f"/api/v1{job_path(project, job)}/logs/{_seg(name)}"
        written = 0
        try:
            with self.http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_of(response)
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    written += len(chunk)
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.endpoint}: {exc}"
            raise ApiError(0, "ConnectionFailed", message, "", None) from None
        return written

    def get_job_alerts(self, project: str, job: str) -> list[dict[str, Any]]:
        """[{kind: failed|restarts|checkpoint_failures, threshold, window_seconds}]"""
        result: dict[str, list[dict[str, Any]]] = self.request(
            "GET", f"{job_path(project, job)}/alerts"
        )
        return result["rules"]

    def set_job_alerts(
        self, project: str, job: str, rules: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Replace the job's alert rules (an empty list: no alerts)."""
        result: dict[str, list[dict[str, Any]]] = self.request(
            "PUT", f"{job_path(project, job)}/alerts", json={"rules": rules}
        )
        return result["rules"]

    def get_job_resources(self, project: str, job: str) -> list[dict[str, Any]]:
        """[{bucket, key, kind: jar|file, created_at}] attached to the job's draft."""
        result: dict[str, list[dict[str, Any]]] = self.request(
            "GET", f"{job_path(project, job)}/resources"
        )
        return result["resources"]

    def set_job_resources(
        self, project: str, job: str, resources: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """Replace the job's resources ([{bucket, key}]); a change is a new revision."""
        result: dict[str, list[dict[str, Any]]] = self.request(
            "PUT", f"{job_path(project, job)}/resources", json={"resources": resources}
        )
        return result["resources"]


def _error_of(response: httpx.Response) -> ApiError:
    """The ApiError of an error answer read outside `request` (a streamed download)."""
    try:
        body = response.json()
    except ValueError:
        body = {"code": f"Http{response.status_code}", "message": response.text[:500]}
    return ApiError(
        response.status_code,
        str(body.get("code", "Error")),
        str(body.get("message", "")),
        str(body.get("request_id", response.headers.get("x-request-id", ""))),
        body,
    )
