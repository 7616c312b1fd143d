"""Fixtures for tests that drive JupyterLab in Chromium; tests use ``lab``.

One JupyterLab server and one headless Chromium serve the whole session; each test
gets a fresh tab (:class:`tests.browser.harness.Lab`), and its
kernels are shut down afterwards. Without Chromium, Playwright or JupyterLab the
tests skip with the install lines; ``CHAINVIZ_REQUIRE_BROWSER=1`` (set by CI) makes
that a failure. When a test that used ``lab`` fails, the report gets a screenshot
(``FAILED-<test>.png``), the browser console and the server log tail.

Browser tests live in this folder (the fixtures are not visible elsewhere) and are
marked ``@pytest.mark.browser``.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.harness import (
    VIEWPORT,
    Lab,
    LabServer,
    launch_chromium,
    require_browser_stack,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; skips (or fails under CHAINVIZ_REQUIRE_BROWSER=1) without the stack."""
    return require_browser_stack()


@pytest.fixture(scope="session")
def lab_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    atexit.register(server.stop)  # also when the session dies before teardown
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium_browser(chromium_path: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, chromium_path)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def lab_context(chromium_browser: Browser) -> Iterator[BrowserContext]:
    """One browser context for all tests: its HTTP cache makes later page loads faster.

    JupyterLab keeps its state on the server (workspace reset by ``?reset``, settings
    rewritten before each test), so tabs in one context do not see each other's.
    """
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def lab(
    request: pytest.FixtureRequest, lab_server: LabServer, lab_context: BrowserContext
) -> Iterator[Lab]:
    """A fresh tab on the session's JupyterLab; see ``harness.Lab`` for what it does."""
    lab_server.check_alive()
    lab_server.reset_settings()
    page = lab_context.new_page()
    try:
        yield Lab(page, lab_server, request.node.name)
    finally:
        page.close()
        lab_server.shutdown_kernels()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failed test, attach a screenshot, the browser console and the server log."""
    report = yield
    lab = getattr(item, "funcargs", {}).get("lab")
    if report.when == "call" and report.failed and isinstance(lab, Lab):
        report.sections.extend(failure_sections(lab, item.name))
    return report


def failure_sections(lab: Lab, test_name: str) -> list[tuple[str, str]]:
    sections = []
    try:
        shot: Path | str = lab.screenshot(f"FAILED-{lab.name}")
    except Exception as exc:  # the page may have crashed; the report still goes out
        shot = f"(no screenshot: {exc})"
    sections.append(("browser screenshot", str(shot)))
    if lab.console:
        sections.append(("browser console", "\n".join(lab.console[-60:])))
    sections.append(("jupyterlab server log", lab.server.log_tail(80)))
    return sections
