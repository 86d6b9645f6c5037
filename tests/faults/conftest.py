from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faults import harness


@pytest.fixture
def fault_report(record_property: Callable[[str, object], None]) -> harness.Report:
    return harness.Report(record_property)
