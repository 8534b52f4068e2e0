"""A real headless Chromium (Debian's ``chromium``) for the HTML view's tests, via playwright.

Playwright's wheel ships its driver; the browser is the system's (``make setup`` installs it),
never one downloaded by ``playwright install``. Each page is opened from ``file://`` with every
request and console message recorded, so a test can say "no request left the file" and
"no error was logged".
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
#: generous: the machine is shared and a 2,000-node page takes a while to lay out and paint.
TIMEOUT_MS = 240_000


@dataclass
class OpenedPage:
    """A page loaded from a file, with what it logged and asked for while loading and after."""

    page: Any
    url: str
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "pageerror")]

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if url != self.url]


class Browser:
    """Opens pages in one shared Chromium; each page gets a fresh context (no shared state)."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[Any] = []

    def open(self, path: Path, width: int = 1400, height: int = 900) -> OpenedPage:
        context = self.browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        opened = OpenedPage(page, path.resolve().as_uri())
        page.on("console", lambda m: opened.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: opened.console.append(("pageerror", str(e))))
        page.on("request", lambda r: opened.requests.append(r.url))
        page.goto(opened.url, timeout=TIMEOUT_MS)
        page.wait_for_selector("body[data-ready=true]", timeout=TIMEOUT_MS, state="attached")
        return opened

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Module-wide, not session-wide: playwright's sync API keeps an event loop running in
    this thread while it is open, and later tests of async code need the thread free of one."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make setup installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # playwright's launch starts Chromium on a fresh temporary profile (--user-data-dir) of its own
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            timeout=TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    opened = Browser(chromium)
    try:
        yield opened
    finally:
        opened.close()


#: Screenshots are kept here as test artefacts: ``out/`` is git-ignored, and unlike pytest's
#: temporary folders it is not cleaned by the next test sessions.
SCREENSHOTS = Path(__file__).resolve().parents[3] / "out" / "screenshots"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
