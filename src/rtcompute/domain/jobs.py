"""Job states (DESIGN glossary): draft -> checked -> online -> running / stopped / failed ->
offline. The jobs issue adds the moves; the version rules need to know which jobs are online."""

from __future__ import annotations

DRAFT = "draft"
CHECKED = "checked"
ONLINE = "online"
RUNNING = "running"
STOPPED = "stopped"
FAILED = "failed"
OFFLINE = "offline"

# published jobs: they pin their engine version until they are taken offline (guide ch. 7)
ONLINE_STATES = frozenset({ONLINE, RUNNING, STOPPED, FAILED})
