"""The live view in Jupyter Notebook 7, in Chromium ("Works in JupyterLab 4 and Notebook 7";
``test_widget_browser.py`` covers JupyterLab).

Notebook 7 is built from JupyterLab's parts, so the harness carries over:
:class:`Notebook7Server` is the harness's :class:`LabServer` started as ``python -m
notebook`` (the same private settings, workspaces and config dirs, kernelspec, news-toast
settings, start and stop), and :class:`Notebook7` is its :class:`Lab` opening
``/notebooks/<name>.ipynb``, Notebook 7's one-document page, instead of ``/lab/tree/…``.
``--JupyterNotebookApp.expose_app_in_browser=True`` gives ``window.jupyterapp`` there
too, and a running cell's prompt reads ``[*]:`` on ``.jp-InputPrompt`` as in JupyterLab,
so the harness's waits and samples work unchanged. The run is started from Notebook 7's
menu bar, Run → Run All Cells, the way a person does.

In this module the ``lab`` fixture is overridden to hand out a tab on Notebook 7, so
the conftest's hooks treat these tests like every other browser test: Playwright is
stopped after the last one in a row, and a failure gets a screenshot and the server log.

Screenshots go to ``$CHAINVIZ_SCREENSHOT_DIR`` as ``notebook7-*.png``.
"""

from __future__ import annotations

import atexit
import contextlib
import re
import urllib.parse
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CELL_TIMEOUT,
    BrowserTestError,
    ChromiumPool,
    Lab,
    LabServer,
    PlaywrightError,
    require_browser_stack,
)
from tests.browser.lab_notebooks import marker

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Notebook7Server(LabServer):
    """Jupyter Notebook 7 instead of JupyterLab; everything else is :class:`LabServer`'s."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.log_path = workdir / "notebook7.log"

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "notebook",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.terminals_enabled=False",
            # Notebook 7's own app class; `--NotebookApp.*` would be the old server's.
            "--JupyterNotebookApp.expose_app_in_browser=True",
            # Notebook 7 also loads JupyterLab's server extension: keep it off PyPI.
            "--LabApp.extension_manager=readonly",
        ]


class Notebook7(Lab):
    """A tab on Notebook 7: :class:`Lab` with Notebook 7's page and menu bar."""

    app_name = "Notebook 7"

    def notebook_url_path(self, rel: str) -> str:
        return f"notebooks/{urllib.parse.quote(rel)}"

    def after_notebook_loaded(self, *, collapse_sidebars: bool, timeout: float) -> None:
        pass  # one notebook per page, no sidebars to fold

    def run_all_from_menu(self) -> None:
        """Click Run → Run All Cells in Notebook 7's menu bar; return at once."""
        self._remember_prompts(0)
        page = self.page
        try:
            page.locator(".lm-MenuBar-item").filter(
                has=page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$"))
            ).click()
            page.locator(".lm-Menu-item").filter(
                has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
            ).click()
        except PlaywrightError as exc:
            raise BrowserTestError(
                f"Could not click Run → Run All Cells: {exc.message}\n{self.diagnostics()}"
            ) from exc


@pytest.fixture(scope="module")
def notebook7_server(
    chromium_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Notebook7Server]:
    require_browser_stack("notebook")  # skips, or fails under CHAINVIZ_REQUIRE_BROWSER=1
    server = Notebook7Server(tmp_path_factory.mktemp("notebook7"))
    atexit.register(server.stop)  # also when the session dies before teardown
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lab(
    request: pytest.FixtureRequest,
    notebook7_server: Notebook7Server,
    chromium_pool: ChromiumPool,
) -> Iterator[Notebook7]:
    """Here, a fresh tab on Notebook 7 (the conftest's ``lab`` is JupyterLab)."""
    notebook7_server.check_alive()
    notebook7_server.reset_settings()
    page = chromium_pool.new_page()
    try:
        yield Notebook7(page, notebook7_server, request.node.name)
    finally:
        with contextlib.suppress(PlaywrightError):
            page.close()
        notebook7_server.shutdown_kernels()


# ----------------------------------------------------------------------------- the test

SETUP = """\
import chainviz
from chainviz import RunnableParallel
from chainviz.prompts import ChatPromptTemplate
from chainviz.models import SimulatedChatModel
model = SimulatedChatModel(latency_scale=2.0)
joke = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
chain = RunnableParallel(joke=joke, poem=poem)
"""

# Shown and run in one cell, as people write it: the view appears mid-cell.
RUN = f"""\
{marker("start")}
view = chainviz.show(chain)
out = view.run({{"topic": "bear"}})
{marker("end")}
"""

PROBE = """() => {
  const root = window.__cv.root().querySelector('.cv-chainview .cv-root');
  if (!root) return null;
  const bar = (id) => {
    const el = root.querySelector(`.cv-lane[data-lane-id="${id}"] .cv-bar`);
    return el ? el.getBoundingClientRect().width : null;
  };
  const time = root.querySelector('.cv-lane[data-lane-id="joke"] .cv-bar-time');
  const states = {};
  for (const g of root.querySelectorAll('.cv-graph-svg [data-node-id]')) {
    const cls = [...g.classList].find((c) => c.startsWith('cv-live-'));
    states[g.getAttribute('data-node-id')] = cls ? cls.slice(8) : null;
  }
  return {
    status: root.dataset.status,
    joke: bar('joke'),
    poem: bar('poem'),
    time: time ? time.textContent : null,
    states,
    summary: root.querySelector('.cv-summary').textContent,
    speedup: (root.querySelector('.cv-stat-speedup .cv-stat-value') || {}).textContent,
  };
}"""


def probe(lab: Lab) -> dict[str, Any] | None:
    return lab.page.evaluate(PROBE)  # type: ignore[no-any-return]


def wait_for_view(lab: Lab) -> None:
    """Wait for the view's bars; fail at once, with the traceback, if a cell raised."""
    found = lab.wait_for(
        "the live view's bars (or an error in a cell)",
        """() => {
            const cells = window.__cv.nb().widgets.length;
            for (let i = 0; i < cells; i++) {
                const error = window.__cv.error(i);
                if (error) return {error: `cell ${i}: ${error}`};
            }
            return !!window.__cv.root().querySelector('.cv-chainview .cv-root .cv-bar');
        }""",
        timeout=CELL_TIMEOUT,
    )
    if isinstance(found, dict):
        raise BrowserTestError(f"No live view: {found['error']}")


def test_live_view_runs_in_notebook7(lab: Notebook7) -> None:
    lab.open_notebook([SETUP, RUN])
    lab.run_all_from_menu()
    wait_for_view(lab)

    # Sample while the cell's prompt reads [*]; keep one screenshot from mid-run.
    samples = []
    mid_run: Path | None = None
    for sample in lab.iter_samples(1, lambda: probe(lab), interval=0.1):
        samples.append(sample)
        value = sample.value
        if mid_run is None and sample.running and value and (value["joke"] or 0) > 60:
            mid_run = lab.screenshot("notebook7-running", ".cv-chainview")
    running = [s.value for s in samples if s.running and s.value and s.value["status"] == "running"]
    assert len(running) >= 3, samples
    assert mid_run is not None, samples  # the joke bar reached 60 px while [*] showed

    # The bars were there and moved while the cell blocked: the joke bar took several
    # widths and grew between two samples (the axis may rescale, so not at every
    # sample), and its elapsed-time label only went up.
    widths = [v["joke"] for v in running if v["joke"] is not None]
    assert len({round(w) for w in widths}) >= 2, widths
    assert any(later > earlier + 1 for earlier, later in pairwise(widths)), widths
    assert any(v["poem"] for v in running), running
    times = [_seconds(v["time"]) for v in running if v["time"]]
    assert len(set(times)) >= 2 and times == sorted(times), times
    assert any(v["states"].get("joke/1") == "running" for v in running), running

    lab.wait_cell_done(1)
    markers = lab.markers(1)
    assert markers["end"] > markers["start"]
    lab.wait_selector('.cv-chainview .cv-root[data-status="done"]')
    done = probe(lab)
    assert done is not None
    # The graph: an SVG whose nodes carry data-node-id, all done after the run.
    assert {"joke/0", "joke/1", "poem/0", "poem/1"} <= set(done["states"]), done["states"]
    assert set(done["states"].values()) == {"done"}, done["states"]
    # The summary: wall time, and a speedup of the two parallel branches.
    assert "speedup" in done["summary"] and "wall time" in done["summary"], done["summary"]
    assert float(done["speedup"].rstrip("×")) > 1.2, done["summary"]
    for lane in ("joke", "poem"):
        text = lab.locator(f'.cv-card[data-lane-id="{lane}"] .cv-card-text').inner_text()
        assert text.strip(), lane
    # Outputs wrap between words: the output area's `pre { word-break: break-all }`
    # must not reach the cards (it split "fields" into "fie" / "lds").
    assert lab.sample_style(".cv-card-text", "word-break") != "break-all"
    assert lab.cell_error(1) is None
    assert not lab.external_requests  # the ESM came from the wheel, not a CDN
    lab.screenshot("notebook7-done", ".cv-chainview")
    # The whole page: Notebook 7's menu bar and the cell (prompt, code, view) from its top.
    lab.page.evaluate("() => window.__cv.cell(1).node.scrollIntoView({block: 'start'})")
    lab.screenshot("notebook7-page")

    lab.dark_theme()  # Notebook 7 has JupyterLab's themes; the view follows them
    colour = lab.sample_style(".cv-root", "color")
    assert colour is not None and _brightness(colour) > 128, colour
    lab.screenshot("notebook7-dark", ".cv-chainview")


def _brightness(css_colour: str) -> float:
    numbers = [float(x) for x in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]]
    return sum(numbers) / 3


def _seconds(label: str) -> float:
    number, unit = label.split()
    return float(number) / (1000 if unit == "ms" else 1)
