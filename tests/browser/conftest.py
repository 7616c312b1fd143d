"""Fixtures for tests that drive JupyterLab in Chromium; tests use ``lab``.

One JupyterLab server serves the whole session, and one headless Chromium serves
each run of consecutive browser tests; each test gets a fresh tab
(:class:`tests.browser.harness.Lab`), and its kernels are shut down afterwards.
Chromium (with Playwright) is stopped whenever the next test does not use ``lab``,
because Playwright's sync API keeps an asyncio loop running that would break
``asyncio.run()`` in later tests.

Without Chromium, Playwright or JupyterLab the tests skip with the install lines;
``CHAINVIZ_REQUIRE_BROWSER=1`` (set by CI) makes that a failure. When a test that
used ``lab`` fails, the report gets a screenshot (``FAILED-<test>.png``), the
browser console and the server log tail.

Browser tests live in this folder (the fixtures are not visible elsewhere) and are
marked ``@pytest.mark.browser``.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    ChromiumPool,
    Lab,
    LabServer,
    PlaywrightError,
    require_browser_stack,
)

_POOL = pytest.StashKey[ChromiumPool]()


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
def chromium_pool(chromium_path: str, pytestconfig: pytest.Config) -> Iterator[ChromiumPool]:
    pool = ChromiumPool(chromium_path)
    pytestconfig.stash[_POOL] = pool
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def lab(
    request: pytest.FixtureRequest, lab_server: LabServer, chromium_pool: ChromiumPool
) -> Iterator[Lab]:
    """A fresh tab on the session's JupyterLab; see ``harness.Lab`` for what it does."""
    lab_server.check_alive()
    lab_server.reset_settings()
    page = chromium_pool.new_page()
    try:
        yield Lab(page, lab_server, request.node.name)
    finally:
        with contextlib.suppress(PlaywrightError):  # a crashed tab is closed enough
            page.close()
        lab_server.shutdown_kernels()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses ``lab`` is a browser test, marked or not (for ``-m``)."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After the last of a run of browser tests, stop Chromium and Playwright's loop."""
    result = yield
    pool = item.config.stash.get(_POOL, None)
    if pool is not None and pool.started and "lab" not in getattr(nextitem, "fixturenames", ()):
        pool.close()
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failed test, attach a screenshot, the browser console and the server log."""
    report = yield
    lab = getattr(item, "funcargs", {}).get("lab")
    if report.when == "call" and report.failed and isinstance(lab, Lab):
        report.sections.extend(failure_sections(lab))
    return report


def failure_sections(lab: Lab) -> list[tuple[str, str]]:
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
