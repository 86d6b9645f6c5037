"""Compiled policy sets and recent decisions per identity, for `authz`.

Kept apart from `authz` so that the platform object can own one without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rtcompute.domain import policies

MAX_DECISIONS = 4_096  # per identity; beyond it the decisions of that identity start over


@dataclass
class Entry:
    account_id: str
    revision: int
    policy_set: policies.PolicySet
    cache_decisions: bool
    decisions: dict[tuple[Any, ...], policies.Verdict] = field(default_factory=dict)


class DecisionCache:
    """Compiled policy sets and recent decisions per identity."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        # the newest revision each account is known to have: an entry loaded before a change
        # committed (a slow load racing a write) is never used
        self._floor: dict[str, int] = {}

    def entry(self, identity_id: int, revision: int) -> Entry | None:
        """The entry of an identity unless it predates `revision`."""
        found = self._entries.get(identity_id)
        if found is None or found.revision < max(revision, self._floor.get(found.account_id, 0)):
            return None
        return found

    def put(self, identity_id: int, entry: Entry) -> None:
        self._entries[identity_id] = entry

    def invalidate(self, account_id: str, revision: int) -> None:
        """Forget every entry of the account: called after each RAM change commits."""
        self._floor[account_id] = max(revision, self._floor.get(account_id, 0))
        for identity_id, entry in list(self._entries.items()):
            if entry.account_id == account_id:
                self._entries.pop(identity_id, None)

    def clear(self) -> None:
        self._entries.clear()
        self._floor.clear()
