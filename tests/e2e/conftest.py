"""What the browser tests share: a page of Debian's Chromium (through Playwright) at the
console's usual size, closed after the test. A test file with its own `page` overrides it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest

from tests.e2e.test_console_browser import ARGS, CHROMIUM


@pytest.fixture
def page() -> Iterator[playwright_sync.Page]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make does it)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()
