"""`rtc up` that kills itself (SIGKILL) at one step of one write: the fault tests' server.

    python -m tests.faults.kill_at <step> -- <python> -m rtcompute.main up

The step is met by the first request whose X-Request-Id starts with `kill-`:

- `in-transaction`: its change and its audit event are written, not yet committed;
- `after-commit`: both committed, the answer not yet sent;
- `after-answer`: the answer sent (a request that changed nothing: its event written
  before the answer).

Test code only: it wraps the audit trail's hooks and the request middleware from outside.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from typing import Any

from rtcompute.api import middleware
from rtcompute.services.kernel import audit

STEPS = ("in-transaction", "after-commit", "after-answer")
TARGET = "kill-"


def _die() -> None:
    sys.stderr.write("kill_at: SIGKILL now\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _targeted(trail: audit.Trail) -> bool:
    event = trail.draft()
    return event is not None and event.context.request_id.startswith(TARGET)


def install(step: str) -> None:
    if step == "in-transaction":
        before_commit = audit.Trail.before_commit

        def before_commit_then_die(self: audit.Trail, session: Any) -> None:
            before_commit(self, session)
            if _targeted(self):
                session.flush()
                _die()

        audit.Trail.before_commit = before_commit_then_die  # type: ignore[method-assign]
    elif step == "after-commit":
        committed = audit.Trail.committed

        def committed_then_die(self: audit.Trail) -> None:
            committed(self)
            if self.written is not None and _targeted(self):
                _die()

        audit.Trail.committed = committed_then_die  # type: ignore[method-assign]
    elif step == "after-answer":
        call = middleware.RequestMiddleware.__call__

        async def call_then_die(self: Any, scope: Any, receive: Any, send: Any) -> None:
            await call(self, scope, receive, send)
            if scope["type"] == "http" and scope.get("state", {}).get("request_id", "").startswith(
                TARGET
            ):
                _die()

        middleware.RequestMiddleware.__call__ = call_then_die  # type: ignore[method-assign]
    else:
        raise SystemExit(f"kill_at: step must be one of {', '.join(STEPS)}")


def main() -> None:
    step, separator, *command = sys.argv[1:]
    assert separator == "--" and command[1:3] == ["-m", "rtcompute.main"], sys.argv
    install(step)
    sys.argv = ["rtcompute.main", *command[3:]]
    runpy.run_module("rtcompute.main", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
