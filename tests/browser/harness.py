"""Drive JupyterLab 4 in Debian's Chromium from pytest, the way a person uses a notebook.

The fixtures in ``conftest.py`` start one JupyterLab server and one headless Chromium
per session and hand each test a :class:`Lab`, a fresh browser tab::

    def test_slider(lab):
        lab.open_notebook(["import ipywidgets as w\\ns = w.IntSlider()\\ns.add_class('cv-s')\\ns"])
        lab.run_all()
        lab.wait_cell_done(0)
        lab.wait_selector(".cv-s")
        lab.screenshot("slider")

How things are told apart (see ``/work/shared/notes/browser-testing.md``):

* a cell is running while its input prompt reads ``[*]`` and done once it reads
  ``[n]`` (the kernel status indicator can read "Idle" while threads still work);
* "it was live" is proven by sampling the page while the prompt still reads ``[*]``
  (:meth:`Lab.sample_while_running`) or by DOM mutations timestamped in the browser
  (:meth:`Lab.record_mutations`) compared with times the cell prints
  (``lab_notebooks.marker``); both clocks are this machine's wall clock.

Every wait has an explicit timeout sized for a loaded 2-core machine. A failed wait
raises :class:`BrowserTestError` whose message names what was awaited and adds the
cells' prompts, errors from the browser console and the tail of the server log.

Nothing here imports Playwright or JupyterLab at import time: without them the
fixtures skip (or fail under ``CHAINVIZ_REQUIRE_BROWSER=1``) with the install lines.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

import pytest

from tests.browser.lab_notebooks import Cell, parse_markers, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright

REPO = Path(__file__).resolve().parents[2]

# Debian's Chromium, never a Playwright download (`playwright install` fails offline).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Containers often have a tiny /dev/shm; Chromium then crashes mid-page.
    "--disable-dev-shm-usage",
)

# Seconds. Generous on purpose: CI is a 2-core machine that may be busy.
SERVER_START_TIMEOUT = 60.0
BROWSER_LAUNCH_TIMEOUT = 60.0
PAGE_LOAD_TIMEOUT = 60.0
KERNEL_START_TIMEOUT = 60.0
CELL_TIMEOUT = 60.0
WAIT_TIMEOUT = 30.0

VIEWPORT = {"width": 1280, "height": 900}
LIGHT_THEME = "JupyterLab Light"
DARK_THEME = "JupyterLab Dark"

ENABLE_HINT = (
    "To run them: `apt-get install chromium` and `pip install 'chainviz[test]'` "
    "(CHAINVIZ_REQUIRE_BROWSER=1 turns this skip into a failure)."
)

# User settings written before every test: no news toast (it covers the page), the
# light theme (a test may have switched to dark), and every cell attached to the DOM
# so that cell indices, widths and screenshots do not depend on scrolling.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/apputils-extension/themes": {"theme": LIGHT_THEME},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the fixtures skip before any of this is used

    class PlaywrightError(Exception):  # type: ignore[no-redef]
        pass

    class PlaywrightTimeout(PlaywrightError):  # type: ignore[no-redef]
        pass


class BrowserTestError(AssertionError):
    """A browser wait timed out, a cell raised, or JupyterLab misbehaved."""


# --------------------------------------------------------------------------- skip logic


def find_chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def missing_browser_requirements(*modules: str) -> list[str]:
    """What is missing to run browser tests; ``modules`` are extra Python packages."""
    missing = []
    if find_chromium() is None:
        missing.append(f"Chromium ({CHROMIUM} or `chromium` on PATH)")
    for module in ("playwright", "jupyterlab", "ipykernel", "nbformat", *modules):
        if importlib.util.find_spec(module) is None:
            missing.append(f"the Python package `{module}`")
    return missing


def require_browser_stack(*modules: str) -> str:
    """Chromium's path; otherwise skip, or fail when ``CHAINVIZ_REQUIRE_BROWSER=1``."""
    missing = missing_browser_requirements(*modules)
    chromium = find_chromium()
    if missing or chromium is None:
        reason = f"Browser tests need {', '.join(missing)}. {ENABLE_HINT}"
        if os.environ.get("CHAINVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return chromium


def screenshot_dir() -> Path:
    return Path(os.environ.get("CHAINVIZ_SCREENSHOT_DIR") or REPO / "ci-artifacts" / "screenshots")


def launch_chromium(playwright: Playwright, executable: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=executable,
        headless=True,
        args=list(CHROMIUM_FLAGS),
        timeout=BROWSER_LAUNCH_TIMEOUT * 1000,
    )


class ChromiumPool:
    """Playwright, one Chromium and one browser context, started on first use.

    One context for many tests: its HTTP cache makes later JupyterLab loads faster,
    and JupyterLab keeps its state on the server (workspace reset by ``?reset``,
    settings rewritten before each test), so tabs do not see each other's.

    Playwright's sync API keeps an asyncio loop running on this thread while it is
    started, and ``asyncio.run()`` then fails in any test that follows. So the
    conftest calls :meth:`close` as soon as the next test does not use ``lab``;
    ``context()`` starts everything again if a later test does.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.starts = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None

    def context(self) -> BrowserContext:
        if self._context is None:
            from playwright.sync_api import sync_playwright

            self.starts += 1
            try:
                self._playwright = sync_playwright().start()
                self._browser = launch_chromium(self._playwright, self.executable)
                self._context = self._browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                self._context.set_default_timeout(WAIT_TIMEOUT * 1000)
            except BaseException:
                self.close()
                raise
        return self._context

    def new_page(self) -> Page:
        """A new tab; a browser that died since the last test is started again."""
        try:
            return self.context().new_page()
        except PlaywrightError:
            self.close()
            return self.context().new_page()

    @property
    def started(self) -> bool:
        return self._playwright is not None

    def close(self) -> None:
        context, browser, playwright = self._context, self._browser, self._playwright
        self._context = self._browser = self._playwright = None
        for close in (
            context and context.close,
            browser and browser.close,
            playwright and playwright.stop,
        ):
            if close:
                try:
                    close()
                except PlaywrightError:
                    pass  # a crashed browser is closed enough; stop() still runs


# ------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LabServer:
    """JupyterLab on 127.0.0.1 with private settings, started and stopped by its Popen.

    ``root_dir`` is where notebooks go; ``log_path`` collects the server's (and its
    kernels') stdout and stderr. Kernels run ``sys.executable`` with the repository on
    ``PYTHONPATH``, so they import the chainviz under test.
    """

    def __init__(self, workdir: Path, *, python: str = sys.executable) -> None:
        self.workdir = workdir
        self.python = python
        self.root_dir = workdir / "notebooks"
        self.settings_dir = workdir / "lab-settings"
        self.log_path = workdir / "jupyterlab.log"
        self.token = secrets.token_hex(16)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_in: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """``path`` on the server, with the token (``path`` may carry its own query)."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    # -- start

    def env(self) -> dict[str, str]:
        dirs = {
            "JUPYTERLAB_SETTINGS_DIR": self.settings_dir,
            "JUPYTERLAB_WORKSPACES_DIR": self.workdir / "lab-workspaces",
            "JUPYTER_CONFIG_DIR": self.workdir / "jupyter-config",
            "JUPYTER_DATA_DIR": self.workdir / "jupyter-data",
            "JUPYTER_RUNTIME_DIR": self.workdir / "jupyter-runtime",
            "IPYTHONDIR": self.workdir / "ipython",
        }
        env = dict(os.environ)
        env.pop("JUPYTER_TOKEN", None)
        env.update({name: str(path) for name, path in dirs.items()})
        paths = [str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",  # never drift to a port we are not polling
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",
        ]

    def write_kernelspec(self) -> None:
        """``python3`` is this Python, whatever other kernelspecs the machine has."""
        spec_dir = self.workdir / "jupyter-data" / "kernels" / "python3"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))

    def reset_settings(self) -> None:
        """Write :data:`LAB_SETTINGS`; read by every page load that follows."""
        for plugin, values in LAB_SETTINGS.items():
            path = self.settings_dir / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values, indent=2))

    def start(self, timeout: float = SERVER_START_TIMEOUT, attempts: int = 3) -> None:
        self.root_dir.mkdir(parents=True, exist_ok=True)
        self.write_kernelspec()
        self.reset_settings()
        began = time.monotonic()
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                log.write(f"\n=== harness: start attempt {attempt} on port {self.port}\n".encode())
                log.flush()
                self.proc = subprocess.Popen(
                    self.command(),
                    cwd=self.root_dir,
                    env=self.env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its kernels can be stopped with it
                )
            if self._wait_until_up(began + timeout):
                self.started_in = time.monotonic() - began
                return
            code = self.proc.poll()
            port_taken = "already in use" in self.log_tail(20)
            if code is None or not port_taken:
                self.stop()
                what = (
                    f"did not answer /api/status within {timeout:g} s"
                    if code is None
                    else f"exited with code {code} after {time.monotonic() - began:.1f} s"
                )
                raise BrowserTestError(
                    f"JupyterLab {what}. Command: {' '.join(self.command())}\n{self.log_report()}"
                )
        raise BrowserTestError(
            f"JupyterLab found no free port in {attempts} tries.\n{self.log_report()}"
        )

    def _wait_until_up(self, deadline: float) -> bool:
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        return False

    # -- state

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            code = None if self.proc is None else self.proc.poll()
            raise BrowserTestError(
                f"The JupyterLab server is not running (exit code {code}).\n{self.log_report()}"
            )

    def log_tail(self, lines: int = 60) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - 64 * 1024))
                text = log.read().decode("utf-8", "replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def log_report(self, lines: int = 30) -> str:
        return f"--- JupyterLab server log, last {lines} lines ({self.log_path}):\n" + (
            self.log_tail(lines)
        )

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}/{path.lstrip('/')}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start_session(self, path: str, kernel: str = "python3") -> None:
        """Start the kernel for notebook ``path`` now; the page will connect to it.

        The kernel then boots while the browser loads JupyterLab, not after.
        """
        body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": kernel}}
        try:
            self.api("POST", "api/sessions", body, timeout=KERNEL_START_TIMEOUT)
        except (urllib.error.URLError, OSError) as exc:
            raise BrowserTestError(
                f"Could not start a kernel for {path}: {exc}\n{self.log_report()}"
            ) from exc

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so one test's kernel does not slow the next test down."""
        if not self.alive():
            return
        try:
            for kernel in self.api("GET", "api/kernels"):
                self.api("DELETE", f"api/kernels/{kernel['id']}", timeout=30)
        except (urllib.error.URLError, OSError, ValueError):
            pass  # best effort; stop() takes the whole process group down anyway

    # -- stop

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            self.proc = proc
            self.shutdown_kernels()
            self.proc = None
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        try:  # kernels left behind share the server's process group
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> LabServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -------------------------------------------------------------------------- the page

# Installed in every page before JupyterLab's scripts; ``__cv.panel`` is the notebook
# opened by Lab.open_notebook.
_PAGE_HELPERS = r"""
window.__cv = {
  panel: null,
  recorders: {},
  root() { return this.panel ? this.panel.node : document.body; },
  nb() {
    if (!this.panel) throw new Error('no notebook is open: call lab.open_notebook() first');
    return this.panel.content;
  },
  cell(i) {
    const cells = this.nb().widgets;
    if (i < 0 || i >= cells.length)
      throw new Error(`there is no cell ${i}: the notebook has ${cells.length} cells`);
    return cells[i];
  },
  prompt(i) {
    const node = this.cell(i).node.querySelector('.jp-InputPrompt');
    return node ? node.textContent.trim() : '';
  },
  prompts() { return this.nb().widgets.map((_, i) => this.prompt(i)); },
  codeCells() {
    return this.nb().widgets.flatMap((w, i) => (w.model.type === 'code' ? [i] : []));
  },
  outputText(i) {
    const area = this.cell(i).node.querySelector('.jp-Cell-outputArea');
    return area ? area.innerText : '';
  },
  error(i) {
    const outputs = this.cell(i).model.outputs;
    if (!outputs) return null;
    for (const out of outputs.toJSON()) {
      if (out.output_type === 'error') {
        const trace = (out.traceback || []).join('\n').replace(/\x1b\[[0-9;]*m/g, '');
        return `${out.ename}: ${out.evalue}\n${trace}`;
      }
    }
    return null;
  },
  // An error in cells from..upTo that finished in this run (prompt changed from before).
  firstError(from, upTo, before) {
    for (let j = from; j <= upTo; j++) {
      const p = this.prompt(j);
      if (!/^\[\d+\]/.test(p) || p === before[j]) continue;
      const e = this.error(j);
      if (e) return {index: j, text: e};
    }
    return null;
  },
  kernel() {
    const session = this.panel && this.panel.sessionContext.session;
    return session ? session.kernel : null;
  },
  epochMs() { return performance.timeOrigin + performance.now(); },
  describe(el, limit = 300) {
    return el ? (el.textContent || '').slice(0, limit) : null;
  },
  record(key, selector) {
    const events = [];
    const holds = (node) => node && node.nodeType === 1 &&
      (node.matches(selector) || node.querySelector(selector));
    const observer = new MutationObserver((mutations) => {
      const perf = performance.now();
      const t = performance.timeOrigin + perf;
      for (const m of mutations) {
        const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
        const hit = el && el.closest(selector);
        if (hit) {
          const value = m.type === 'attributes'
            ? el.getAttribute(m.attributeName) : this.describe(hit);
          events.push({t, perf, kind: m.type, attribute: m.attributeName, value});
        } else if (m.type === 'childList') {
          const added = [...m.addedNodes].find(holds);
          if (added) events.push({t, perf, kind: 'added', attribute: null,
                                  value: this.describe(added)});
        }
      }
    });
    observer.observe(document.body,
      {subtree: true, childList: true, attributes: true, characterData: true});
    this.recorders[key] = {observer, events};
  },
};
"""


class Mutation(NamedTuple):
    """One DOM change: ``t`` in epoch seconds (compare with ``marker`` times)."""

    t: float
    perf_ms: float
    kind: str  # "attributes", "childList", "characterData" or "added"
    attribute: str | None
    value: str | None


class MutationRecorder:
    """Mutations inside elements matching ``selector``, from :meth:`Lab.record_mutations`."""

    def __init__(self, lab: Lab, key: str, selector: str) -> None:
        self.lab, self.key, self.selector = lab, key, selector

    def events(self) -> list[Mutation]:
        raw = self.lab.page.evaluate("(key) => window.__cv.recorders[key].events", self.key)
        return [
            Mutation(e["t"] / 1000, e["perf"], e["kind"], e["attribute"], e["value"]) for e in raw
        ]

    def values(self) -> list[str | None]:
        """The distinct values seen, in order (text, or the changed attribute's value)."""
        seen: list[str | None] = []
        for event in self.events():
            if not seen or seen[-1] != event.value:
                seen.append(event.value)
        return seen

    def stop(self) -> list[Mutation]:
        events = self.events()
        self.lab.page.evaluate(
            "(key) => window.__cv.recorders[key].observer.disconnect()", self.key
        )
        return events


T = TypeVar("T")


class Sample(NamedTuple, Generic[T]):
    """A value read at epoch time ``t``; ``running`` if the cell read ``[*]`` around it."""

    t: float
    running: bool
    value: T


_DONE_PROMPT = re.compile(r"^\[(\d+)\]")


class Lab:
    """One browser tab on the session's JupyterLab; made by the ``lab`` fixture.

    ``page`` is the Playwright page, for anything not wrapped here; ``locator``
    scopes a CSS selector to the open notebook. Cell indices count all cells.
    """

    def __init__(self, page: Page, server: LabServer, name: str) -> None:
        self.page = page
        self.server = server
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "notebook"
        self.console: list[str] = []
        self.requests: list[str] = []
        self.external_requests: list[str] = []
        self.notebook_path: Path | None = None
        self._opened = 0
        self._before: dict[int, str] = {}  # prompts when the latest run started
        self._run_from = 0  # first cell of the latest run (earlier errors are not ours)
        self._recorders = 0
        page.add_init_script(_PAGE_HELPERS)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        page.on("crash", lambda _: self.console.append("crash: the page crashed"))
        page.on("request", self._on_request)

    def _on_console(self, message: Any) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in (
            "127.0.0.1",
            "localhost",
        ):
            self.external_requests.append(request.url)

    # -- opening

    def open_notebook(
        self,
        cells: Sequence[Cell],
        name: str | None = None,
        *,
        timeout: float = KERNEL_START_TIMEOUT,
        collapse_sidebars: bool = True,
        prestart_kernel: bool = True,
    ) -> Path:
        """Write ``cells`` as ``name`` (default: the test's name), open it, wait for its kernel.

        Returns the notebook's path on disk. The kernel is started through the REST API
        before the page loads (``prestart_kernel``), which saves seconds; the left and
        right sidebars are collapsed so screenshots show the notebook at full width.
        """
        self.server.check_alive()
        self._opened += 1
        if name is None:
            suffix = "" if self._opened == 1 else f"-{self._opened}"
            name = f"{self.name}{suffix}.ipynb"
        path = write_notebook(self.server.root_dir / name, cells)
        rel = path.relative_to(self.server.root_dir).as_posix()
        self._before = {}
        if prestart_kernel:
            self.server.start_session(rel)
        url = self.server.url(self.notebook_url_path(rel))
        try:
            self.page.goto(url, wait_until="domcontentloaded", timeout=PAGE_LOAD_TIMEOUT * 1000)
        except PlaywrightError as exc:
            raise BrowserTestError(f"Could not load {url}: {exc}\n{self.diagnostics()}") from exc
        self._wait(
            f"{self.app_name} to show {rel} with its {len(cells)} cells",
            """([path, count]) => {
                if (!window.jupyterapp || !document.querySelector('.jp-Cell')) return false;
                for (const w of jupyterapp.shell.widgets('main')) {
                    if (w.context && w.context.path === path && w.content &&
                        w.content.widgets && w.content.widgets.length === count) {
                        window.__cv.panel = w;
                        return true;
                    }
                }
                return false;
            }""",
            [rel, len(cells)],
            PAGE_LOAD_TIMEOUT,
        )
        self.after_notebook_loaded(collapse_sidebars=collapse_sidebars, timeout=timeout)
        self._wait(
            "the notebook's kernel to start and be idle",
            """() => {
                const k = window.__cv.kernel();
                return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
            }""",
            None,
            timeout,
        )
        self.notebook_path = path
        return path

    # What differs between the front ends that share this class (see Notebook7).
    app_name = "JupyterLab"

    def notebook_url_path(self, rel: str) -> str:
        return f"lab/tree/{urllib.parse.quote(rel)}?reset"

    def after_notebook_loaded(self, *, collapse_sidebars: bool, timeout: float) -> None:
        """Bring the notebook forward, fold the sidebars, and give its session a moment."""
        self._evaluate(
            """async ([sidebars, ms]) => {
                const panel = window.__cv.panel;
                jupyterapp.shell.activateById(panel.id);
                if (sidebars) { jupyterapp.shell.collapseLeft(); jupyterapp.shell.collapseRight(); }
                const late = new Promise((resolve) => setTimeout(resolve, ms));
                await Promise.race([panel.sessionContext.ready, late]);
            }""",
            [collapse_sidebars, timeout * 1000],
        )

    # -- running

    def run_all(self) -> None:
        """Start ``notebook:run-all-cells`` and return at once (wait with ``wait_*``)."""
        self._remember_prompts(0)
        self._evaluate(
            """() => {
                jupyterapp.shell.activateById(window.__cv.panel.id);
                jupyterapp.commands.execute('notebook:run-all-cells');
            }"""
        )

    def run_cell(self, index: int) -> None:
        """Start cell ``index`` alone and return at once."""
        self._remember_prompts(index)
        self._evaluate(
            """(i) => {
                const nb = window.__cv.nb();
                window.__cv.cell(i);
                jupyterapp.shell.activateById(window.__cv.panel.id);
                nb.activeCellIndex = i;
                nb.deselectAll();
                jupyterapp.commands.execute('notebook:run-cell');
            }""",
            index,
        )

    def append_cell(self, source: str) -> int:
        """Add a code cell at the end (not run); returns its index."""
        return int(
            self._evaluate(
                """async (source) => {
                    const nb = window.__cv.nb();
                    const index = nb.model.cells.length;
                    nb.model.sharedModel.insertCell(index, {cell_type: 'code', source});
                    while (nb.widgets.length <= index) await new Promise(r => setTimeout(r, 20));
                    return index;
                }""",
                source,
            )
        )

    def execute(self, code: str, timeout: float = WAIT_TIMEOUT) -> str:
        """Run ``code`` in the notebook's kernel, outside any cell; return its stdout.

        For reading Python state (``print(repr(x))``) without touching the notebook.
        It queues behind a running cell. Raises if the code raises.
        """
        result = self._evaluate(
            """async ([code, ms]) => {
                const kernel = window.__cv.kernel();
                if (!kernel) throw new Error('the notebook has no kernel');
                const future = kernel.requestExecute(
                    {code, silent: false, store_history: false, allow_stdin: false});
                const out = [], err = [];
                let error = null;
                future.onIOPub = (msg) => {
                    const c = msg.content, kind = msg.header.msg_type;
                    if (kind === 'stream') (c.name === 'stdout' ? out : err).push(c.text);
                    else if (kind === 'error') error = `${c.ename}: ${c.evalue}`;
                };
                const late = new Promise((resolve) => setTimeout(() => resolve('late'), ms));
                let done;
                try { done = await Promise.race([future.done, late]); }
                catch (e) { error = error || String(e); }
                return {out: out.join(''), err: err.join(''), error, late: done === 'late'};
            }""",
            [code, timeout * 1000],
        )
        if result["late"]:
            raise BrowserTestError(
                f"Kernel code did not finish within {timeout:g} s:\n{code}\n"
                f"stdout so far: {result['out']!r}\n{self.diagnostics()}"
            )
        if result["error"]:
            raise BrowserTestError(
                f"Kernel code raised {result['error']}:\n{code}\nstderr: {result['err']}"
            )
        return str(result["out"])

    # -- prompts and outputs

    def prompt(self, index: int) -> str:
        """The input prompt as shown: ``[ ]:``, ``[*]:`` or ``[3]:``."""
        return str(self._evaluate("(i) => window.__cv.prompt(i)", index))

    def prompts(self) -> list[str]:
        return list(self._evaluate("() => window.__cv.prompts()"))

    def cell_running(self, index: int) -> bool:
        """True while the cell is running or queued behind another (prompt ``[*]``)."""
        return "*" in self.prompt(index)

    def wait_cell_done(self, index: int, timeout: float = CELL_TIMEOUT) -> int:
        """Wait for cell ``index`` to finish its latest run; return its execution count.

        Fails at once, with the traceback, if this cell or an earlier cell of the same
        run raised (run-all stops at an error, so a later cell would never finish).
        """
        result = self._wait(
            f"cell {index} to finish (prompt [n])",
            """([i, from, before]) => {
                if (window.__cv.cell(i).model.type !== 'code')
                    throw new Error(`cell ${i} is not a code cell; it never runs`);
                const failed = window.__cv.firstError(Math.min(from, i), i, before);
                if (failed) return failed;
                const p = window.__cv.prompt(i);
                return /^\\[\\d+\\]/.test(p) && p !== before[i] ? {prompt: p} : false;
            }""",
            [index, self._run_from, [self._before.get(j) for j in range(index + 1)]],
            timeout,
        )
        if "text" in result:
            raise BrowserTestError(
                f"Cell {result['index']} raised while waiting for cell {index}:\n"
                f"{result['text']}\n{self.diagnostics(log=False)}"
            )
        match = _DONE_PROMPT.match(result["prompt"])
        assert match is not None
        return int(match.group(1))

    def wait_all_done(self, timeout: float = CELL_TIMEOUT) -> int:
        """Wait for the last code cell (cells run in order); return its execution count."""
        code_cells = self._evaluate("() => window.__cv.codeCells()")
        if not code_cells:
            raise BrowserTestError("The notebook has no code cells to wait for.")
        return self.wait_cell_done(code_cells[-1], timeout)

    def cell_error(self, index: int) -> str | None:
        """``"ename: evalue"`` and the traceback if the cell's output has an error."""
        error = self._evaluate("(i) => window.__cv.error(i)", index)
        return None if error is None else str(error)

    def cell_output_text(self, index: int) -> str:
        """The cell's output area as rendered text (``innerText``)."""
        return str(self._evaluate("(i) => window.__cv.outputText(i)", index))

    def markers(self, index: int) -> dict[str, float]:
        """``CVMARK`` lines printed by the cell, as ``{name: epoch seconds}``."""
        return parse_markers(self.cell_output_text(index))

    def wait_marker(self, index: int, name: str, timeout: float = CELL_TIMEOUT) -> float:
        """Wait until cell ``index`` prints marker ``name``; return its time."""
        self._wait(
            f"cell {index} to print marker {name!r}",
            """([i, line]) => window.__cv.outputText(i).split('\\n')
                               .some((l) => l.startsWith(line))""",
            [index, f"CVMARK {name} "],
            timeout,
        )
        return self.markers(index)[name]

    def wait_text(
        self, text: str, timeout: float = WAIT_TIMEOUT, *, index: int | None = None
    ) -> None:
        """Wait until ``text`` is visible in the notebook, or in cell ``index``'s output.

        Without ``index`` the cells' source code counts too; pick text that only an
        output can show, or pass ``index``.
        """
        where = "the notebook" if index is None else f"the output of cell {index}"
        self._wait(
            f"the text {text!r} in {where}",
            """([text, i]) => (i === null ? window.__cv.root().innerText
                                          : window.__cv.outputText(i)).includes(text)""",
            [text, index],
            timeout,
        )

    def wait_until(
        self,
        what: str,
        check: Callable[[], T],
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.1,
    ) -> T:
        """Call ``check`` until it returns something truthy, and return that.

        For conditions read from Python, e.g. ``lambda: lab.execute("print(seen)")``.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserTestError(
                    f"Timed out after {timeout:g} s waiting for {what}; last value {value!r}.\n"
                    f"{self.diagnostics()}"
                )
            time.sleep(interval)

    def wait_selector(
        self, selector: str, timeout: float = WAIT_TIMEOUT, state: str = "attached"
    ) -> Locator:
        """Wait for ``selector`` in the notebook; ``attached`` also accepts a 0-width bar."""
        locator = self.locator(selector).first
        try:
            locator.wait_for(state=state, timeout=timeout * 1000)  # type: ignore[arg-type]
        except PlaywrightTimeout:
            raise BrowserTestError(
                f"Timed out after {timeout:g} s waiting for {selector!r} to be {state}.\n"
                f"{self.diagnostics()}"
            ) from None
        return locator

    def wait_for(self, what: str, js: str, arg: Any = None, timeout: float = WAIT_TIMEOUT) -> Any:
        """Wait until the page function ``js(arg)`` returns a truthy value; return it.

        ``window.__cv`` has helpers (``root()``, ``cell(i)``, ``prompt(i)``...).
        """
        return self._wait(what, js, arg, timeout)

    # -- looking at widgets

    def locator(self, selector: str) -> Locator:
        """``selector`` inside the open notebook (the whole page before one is open)."""
        panel_id = self._evaluate("() => window.__cv.panel && window.__cv.panel.id")
        if not panel_id:
            return self.page.locator(selector)
        return self.page.locator(f'[id="{panel_id}"]').locator(selector)

    def cell_locator(self, index: int) -> Locator:
        return self.locator(".jp-Notebook .jp-Cell").nth(index)

    def sample_attribute(self, selector: str, attribute: str) -> str | None:
        """The first match's attribute now (``None`` if there is no match or no attribute)."""
        return self._evaluate(  # type: ignore[no-any-return]
            """([sel, attr]) => {
                const el = window.__cv.root().querySelector(sel);
                return el ? el.getAttribute(attr) : null;
            }""",
            [selector, attribute],
        )

    def sample_text(self, selector: str) -> str | None:
        """The first match's ``textContent`` now."""
        return self._evaluate(  # type: ignore[no-any-return]
            """(sel) => {
                const el = window.__cv.root().querySelector(sel);
                return el ? el.textContent : null;
            }""",
            selector,
        )

    def sample_style(self, selector: str, prop: str) -> str | None:
        """The first match's computed style property now, e.g. ``width`` in px."""
        return self._evaluate(  # type: ignore[no-any-return]
            """([sel, prop]) => {
                const el = window.__cv.root().querySelector(sel);
                return el ? getComputedStyle(el).getPropertyValue(prop) : null;
            }""",
            [selector, prop],
        )

    def sample_width(self, selector: str) -> float | None:
        """The first match's rendered width in px (``getBoundingClientRect``)."""
        width = self._evaluate(
            """(sel) => {
                const el = window.__cv.root().querySelector(sel);
                return el ? el.getBoundingClientRect().width : null;
            }""",
            selector,
        )
        return None if width is None else float(width)

    def sample_while_running(
        self,
        index: int,
        probe: Callable[[], T],
        *,
        interval: float = 0.05,
        timeout: float = CELL_TIMEOUT,
    ) -> list[Sample[T]]:
        """Call ``probe`` repeatedly until cell ``index`` is done; return every sample.

        A sample is ``running`` only if the prompt read ``[*]`` both before and after
        the probe, so two running samples with different values prove the page
        changed while the cell blocked. The last sample is taken after the cell ended.
        """
        return list(self.iter_samples(index, probe, interval=interval, timeout=timeout))

    def iter_samples(
        self,
        index: int,
        probe: Callable[[], T],
        *,
        interval: float = 0.05,
        timeout: float = CELL_TIMEOUT,
    ) -> Iterator[Sample[T]]:
        """:meth:`sample_while_running` as a generator, to act (e.g. screenshot) mid-run."""
        deadline = time.monotonic() + timeout
        before_run = self._before.get(index)
        last: list[Sample[T]] = []
        while True:
            running_before = self.cell_running(index)
            value = probe()
            prompt = self.prompt(index)
            sample = Sample(time.time(), running_before and "*" in prompt, value)
            last = [*last[-2:], sample]
            yield sample
            if _DONE_PROMPT.match(prompt) and prompt != before_run:
                return
            if time.monotonic() > deadline:
                raise BrowserTestError(
                    f"Cell {index} did not finish within {timeout:g} s while sampling; "
                    f"last samples: {last}\n{self.diagnostics()}"
                )
            time.sleep(interval)

    def record_mutations(self, selector: str) -> MutationRecorder:
        """Start timestamping DOM changes in and of elements matching ``selector``.

        Call after :meth:`open_notebook` (a page load forgets recorders). Elements may
        appear later; their insertion is recorded as kind ``added``.
        """
        self._recorders += 1
        key = f"r{self._recorders}"
        self._evaluate("([key, sel]) => window.__cv.record(key, sel)", [key, selector])
        return MutationRecorder(self, key, selector)

    def now(self) -> float:
        """The browser's clock in epoch seconds (same clock as ``Mutation.t``)."""
        return float(self._evaluate("() => window.__cv.epochMs()")) / 1000

    # -- looks

    def set_theme(self, theme: str = DARK_THEME, timeout: float = WAIT_TIMEOUT) -> None:
        """Switch the JupyterLab theme and wait until it is applied.

        The next test starts in the light theme again (settings are reset per test).
        """
        self._evaluate(
            "(theme) => { jupyterapp.commands.execute('apputils:change-theme', {theme}); }",
            theme,
        )
        self._wait(
            f"the theme {theme!r} to be applied",
            "(theme) => document.body.dataset.jpThemeName === theme",
            theme,
            timeout,
        )
        self.settle()

    def dark_theme(self) -> None:
        self.set_theme(DARK_THEME)

    def settle(self, frames: int = 2) -> None:
        """Wait for a couple of animation frames, so the last DOM change is painted."""
        self._evaluate(
            """async (n) => {
                for (let k = 0; k < n; k++) await new Promise(r => requestAnimationFrame(r));
            }""",
            frames,
        )

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        """Save a PNG of the page (or of ``selector``) as ``<screenshot dir>/<name>.png``.

        The directory is ``$CHAINVIZ_SCREENSHOT_DIR`` or ``ci-artifacts/screenshots``.
        """
        directory = screenshot_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (name if name.endswith(".png") else f"{name}.png")
        self.settle()
        target = self.page if selector is None else self.locator(selector).first
        target.screenshot(path=str(path), animations="disabled", caret="hide")
        return path

    # -- diagnostics

    def diagnostics(self, *, log: bool = True, console_lines: int = 25) -> str:
        """Prompts, dialogs, browser console and server log: what a failure should say."""
        parts = []
        try:
            state = self.page.evaluate(
                """() => {
                    const cv = window.__cv;
                    let prompts = null;
                    try { prompts = cv && cv.panel ? cv.prompts() : null; } catch (e) {}
                    const k = cv && cv.kernel && cv.kernel();
                    const dialogs = [...document.querySelectorAll('.jp-Dialog')]
                        .map((d) => d.innerText.slice(0, 300));
                    return {url: location.href, prompts, dialogs,
                            kernel: k ? `${k.name} ${k.status} ${k.connectionStatus}` : null};
                }"""
            )
            parts.append(f"page: {state['url']}")
            parts.append(f"prompts: {state['prompts']}; kernel: {state['kernel']}")
            if state["dialogs"]:
                parts.append(f"dialogs open: {state['dialogs']}")
        except PlaywrightError as exc:
            parts.append(f"(page state unavailable: {exc.message.splitlines()[0]})")
        if self.console:
            shown = self.console[-console_lines:]
            parts.append(f"--- browser console, last {len(shown)} of {len(self.console)}:")
            parts.extend(shown)
        if self.external_requests:
            parts.append(f"requests to other hosts: {self.external_requests[:10]}")
        if log:
            parts.append(self.server.log_report())
        return "\n".join(parts)

    # -- internals

    def _remember_prompts(self, run_from: int) -> None:
        self._before = dict(enumerate(self.prompts()))
        self._run_from = run_from

    def _evaluate(self, js: str, arg: Any = None) -> Any:
        try:
            return self.page.evaluate(js, arg)
        except PlaywrightError as exc:
            raise BrowserTestError(
                f"Page script failed: {exc.message}\n{self.diagnostics(log=False)}"
            ) from exc

    def _wait(self, what: str, js: str, arg: Any, timeout: float) -> Any:
        started = time.monotonic()
        try:
            handle = self.page.wait_for_function(js, arg=arg, timeout=timeout * 1000, polling=100)
        except PlaywrightTimeout:
            raise BrowserTestError(
                f"Timed out after {timeout:g} s waiting for {what}.\n{self.diagnostics()}"
            ) from None
        except PlaywrightError as exc:
            raise BrowserTestError(
                f"Waiting for {what} failed after {time.monotonic() - started:.1f} s: "
                f"{exc.message}\n{self.diagnostics()}"
            ) from exc
        return handle.json_value()
